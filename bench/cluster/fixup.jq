# fixup.jq: adds to one herald-loadgen result of the cluster scenario
# (bench/run.sh) the nodes' side: each node's counters after the run and its
# CPU, over the whole run and over the generator's measured window
# (interpolated from bench/run.sh's 0.1 s samples of /proc/PID/stat), and
# recomputes the machine's "other" CPU with every node's CPU taken out (the
# generator only knows the one node it was given with --server-pid).
#
#   jq --slurpfile n NODES.json --arg topic T --arg probe P --arg via V \
#      -f fixup.jq RUN.json
($n[0]) as $s
| ($s.clk_tck) as $tck
| ($s.launch + (.window_start_at_s // 0)) as $ws
| ($ws + (.window_s // 0)) as $we
# The CPU seconds of node $k at time $t, linear between the samples around it.
| def cpu_at($t; $k):
    ([$s.samples[] | select(.[0] <= $t and .[$k + 1] != null)] | last) as $a
    | ([$s.samples[] | select(.[0] >= $t and .[$k + 1] != null)] | first) as $b
    | if $a == null and $b == null then null
      elif $a == null then $b[$k + 1]
      elif $b == null or $b[0] == $a[0] then $a[$k + 1]
      else $a[$k + 1] + ($b[$k + 1] - $a[$k + 1]) * ($t - $a[0]) / ($b[0] - $a[0])
      end
    | if . == null then null else . / $tck end;
def sub($a; $b): if $a == null or $b == null then null else $a - $b end;
def r3: if . == null then null else (. * 1000 | round) / 1000 end;
([$s.names | to_entries[] | .key as $k | {
    key: .value,
    value: ($s.nodes[.value] + {
      cpu_window_s: (sub(cpu_at($we; $k); cpu_at($ws; $k)) | r3),
      cpu_run_s: (sub(([$s.samples[] | .[$k + 1] | select(. != null)] | last);
                      ([$s.samples[] | .[$k + 1] | select(. != null)] | first))
                  | if . == null then null else . / $tck | r3 end)})}]
 | from_entries) as $nodes
| ([$nodes[].cpu_window_s | select(. != null)] | add) as $cpu_window
| ([$nodes[].cpu_run_s | select(. != null)] | add) as $cpu_run
| . + {cluster: {
    topic: $topic, topic_probe: $probe, publish_via: $via,
    nodes: $nodes,
    servers_cpu_window_s: ($cpu_window | r3),
    servers_cpu_run_s: ($cpu_run | r3),
    deliveries_per_servers_cpu_s:
      (if ($cpu_window // 0) > 0 then (.received_window / $cpu_window | round)
       else null end),
    samples: ($s.samples | length)}}
| if .machine_window then
    .machine_window.other_cpu_s_generator = .machine_window.other_cpu_s
    | .machine_window.other_cpu_s =
        ([0, .machine_window.busy_cpu_s - .generator_cpu_window_s
             - ($cpu_window // 0)] | max | r3)
  else . end
