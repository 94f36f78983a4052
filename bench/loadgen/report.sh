#!/usr/bin/env bash
# report.sh LATEST_JSON OUT_DIR: renders OUT_DIR/report.md and its charts
# (OUT_DIR/*.png, gnuplot) from bench/results/latest.json. Called by
# bench/run.sh; may be run again by hand on a kept latest.json.
set -uo pipefail
J=$1
OUT=$2
DAT=$(mktemp -d /tmp/herald-report.XXXXXX)
trap 'rm -rf "$DAT"' EXIT
q() { jq -r "$@" "$J"; }
SERVERS=(herald ceiling peer)

# -- chart data (tab-separated, "-" where a figure is missing) -------------------
# idle: connections requested x server -> bytes per connection
q '[.scenarios.idle[].connections_requested] | unique | .[]' | while read -r n; do
  row="$n"
  for s in "${SERVERS[@]}"; do
    v=$(q --argjson n "$n" --arg s "$s" \
      'first(.scenarios.idle[] | select(.connections_requested == $n and .server == $s) | .bytes_per_connection) // "-"')
    row+=$'\t'"$v"
  done
  echo "$row"
done >"$DAT/idle.dat"
# fanout, topics: server -> deliveries/s, deliveries per server CPU-s
for sc in fanout topics; do
  q --arg sc "$sc" '.scenarios[$sc].runs[]
    | "\(.server)-\(.label)\t\(.deliveries_per_s)\t\(.deliveries_per_server_cpu_s // "-")"' \
    >"$DAT/$sc.dat"
done
# latency: server -> p50 p99 p99.9 max (us)
q '.scenarios.latency.runs[] | "\(.server)\t\(.latency_us.p50)\t\(.latency_us.p99)\t\(.latency_us.p999)\t\(.latency_us.max)"' \
  >"$DAT/latency.dat"
# publish: server -> single, batch accepted events/s
for s in "${SERVERS[@]}"; do
  single=$(q --arg s "$s" 'first(.scenarios.publish.runs[] | select(.server == $s and .label == "single") | .accepted_per_s) // "-"')
  batch=$(q --arg s "$s" 'first(.scenarios.publish.runs[] | select(.server == $s and .label == "batch100") | .accepted_per_s) // "-"')
  [[ $single == - && $batch == - ]] || printf '%s\t%s\t%s\n' "$s" "$single" "$batch"
done >"$DAT/publish.dat"
# index: patterns -> ns per operation, one file per benchmark family timed
# in ns (the match benchmarks; insert and erase are timed in ms)
q '.scenarios.index.benchmarks[] | select(.time_unit == "ns" and (.name | test("^[A-Za-z_]+/[0-9]+$")))
   | "\(.name | split("/")[0])\t\(.name | split("/")[1])\t\(.cpu_time)"' \
  | while IFS=$'\t' read -r fam n ns; do
      printf '%s\t%s\n' "$n" "$ns" >>"$DAT/index-$fam.dat"
    done

# -- charts --------------------------------------------------------------------
rm -f "$OUT"/*.png
if command -v gnuplot >/dev/null; then
  bars() { # bars NAME TITLE YLABEL COLUMNS LOGSCALE TITLES...
    local name=$1 title=$2 ylabel=$3 cols=$4 logy=$5; shift 5
    [[ -s $DAT/$name.dat ]] || return 0
    local plot="plot '$DAT/$name.dat' using 2:xtic(1) title '$1'"
    local i=3
    for t in "${@:2}"; do
      plot+=", '' using $i title '$t'"
      i=$((i + 1))
    done
    ((cols + 2 == i)) || { echo "report: $name: $cols columns, $((i - 2)) titles" >&2; return 0; }
    gnuplot <<EOF 2>>"$DAT/gnuplot.err"
set terminal pngcairo size 900,500 noenhanced font ',10'
set output '$OUT/$name.png'
set title '$title'
set ylabel '$ylabel'
set datafile missing '-'
set datafile separator '\t'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
$([[ $logy == log ]] && echo "set logscale y; set yrange [*:*]")
set key top left
$plot
EOF
  }
  bars idle "Idle memory: server RSS above baseline per subscribed connection" \
    "bytes per connection" 3 lin herald ceiling peer
  bars fanout "Fan-out: 1 topic, 100-byte payloads" "deliveries per second" \
    2 lin "deliveries/s" "deliveries per server CPU-s"
  bars topics "Many topics: 10 subscribers per topic" "deliveries per second" \
    2 lin "deliveries/s" "deliveries per server CPU-s"
  bars latency "Publish-to-receive latency, 1,000 subscribers, 200 publishes/s" \
    "microseconds (log)" 4 log p50 p99 p99.9 max
  bars publish "Publish API: one topic, one subscriber" "events accepted per second" \
    2 lin single "batch of 100"
  idx=()
  for f in "$DAT"/index-*.dat; do
    [[ -s $f ]] || continue
    t=${f##*/index-}
    idx+=("'$f' using 1:2 with linespoints title '${t%.dat}'")
  done
  if ((${#idx[@]})); then
    gnuplot <<EOF 2>>"$DAT/gnuplot.err"
set terminal pngcairo size 900,500 noenhanced font ',10'
set output '$OUT/index.png'
set title 'Pattern index: CPU time per operation'
set xlabel 'patterns in the index'
set ylabel 'ns per operation'
set logscale x
set yrange [0:*]
set grid
set key top left
plot $(IFS=,; echo "${idx[*]}")
EOF
  fi
  [[ -s $DAT/gnuplot.err ]] && sed 's/^/report: gnuplot: /' "$DAT/gnuplot.err" >&2
else
  echo "report: gnuplot missing: no charts" >&2
fi
img() { [[ -f $OUT/$1.png ]] && printf '\n![%s](%s.png)\n' "$2" "$1"; }

# -- report.md -----------------------------------------------------------------
{
  q '"# Herald benchmarks\n\n\(.generated), commit \(.commit)\(if .quick then ", **quick run (reduced scale)**" else "" end).\n\nMachine: \(.machine.cores) cores (\(.machine.cpu)), Linux \(.machine.kernel), open-files limit \(.machine.open_files_limit), a trivial system call costs \(.machine.syscall_ns) ns (every delivery costs at least one send in the server and one recv in the generator). Server, load generator and references share the machine and run one after another on 127.0.0.1; the generator is one thread. CPU columns are CPU-seconds over the measured window (of \(.machine.cores) per second of window): the server (/proc/PID/stat), the generator (getrusage) and *other*, what every other process on the machine took meanwhile (/proc/stat), the noise indicator; a run with other above 10% of the machine is repeated up to twice and the quietest kept. Herald: threads.io \(.herald_config.threads_io), threads.actors \(.herald_config.threads_actors), log level warn.\n"'
  echo "## Targets"
  echo
  echo "| figure | target | measured |"
  echo "|---|---|---|"
  q '.targets | to_entries[] | "| \(.key) | \(.value.target) | \(.value.value // "not measured")\(if .value.at_connections then " (at \(.value.at_connections) connections)" else "" end) |"'
  echo
  echo "## 1. Idle memory"
  echo
  echo "Server RSS (VmRSS) above its empty baseline, sampled 3 s after the last subscription, divided by the subscribed connections; one topic."
  echo
  echo "| server | requested | subscribed | baseline KiB | subscribed KiB | bytes/connection | subscribe s | generator CPU s |"
  echo "|---|---|---|---|---|---|---|---|"
  q '.scenarios.idle[] | "| \(.server) | \(.connections_requested) | \(.connections) | \(.server_rss_base_kb) | \(.server_rss_subscribed_kb) | \(.bytes_per_connection) | \(.subscribe_s) | \(.generator_cpu_s) |"'
  img idle "idle memory"
  for sc in fanout topics; do
    if [[ $sc == fanout ]]; then
      echo; echo "## 2. Fan-out"; echo
      echo "1,000 subscribers on one topic, 100-byte payloads, 4 publishing connections x 16 pipelined requests. \`window\`: publishing as fast as the server delivers, at most 256 events (256,000 deliveries) owed at once; \`open\`: publishing as fast as the server accepts, no window. Deliveries/s over the measured window; server CPU from /proc/PID/stat over the same window."
    else
      echo; echo "## 3. Many topics"; echo
      echo "10 subscribers per topic (topics x 10 subscriptions spread over the connections, several topics per connection), batches of 20 events round-robin over the topics (4 connections x 8 pipelined), at most 20,000 deliveries owed."
    fi
    echo
    echo "| server | run | connections | topics | deliveries/s | server CPU s | deliveries/server CPU-s | accepted events | refused | received | generator CPU s | other CPU s | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    q --arg sc "$sc" '.scenarios[$sc].runs[] | "| \(.server) | \(.label) | \(.subscribed) | \(.conditions.topics) | \(.deliveries_per_s) | \(.server_cpu_window_s) | \(.deliveries_per_server_cpu_s) | \(.accepted) | \(.refused) | \(.received) | \(.generator_cpu_window_s) | \(.other_cpu_window_s) | \(.errors | del(.first) | tostring) |"'
    [[ $sc == fanout ]] && q '.scenarios.fanout.ratios | "\nRatios (window runs): Herald/ceiling \(.herald_over_ceiling // "n/a"), Herald/peer \(.herald_over_peer // "n/a"); per server CPU-second: Herald/ceiling \(.per_cpu_herald_over_ceiling // "n/a"), Herald/peer \(.per_cpu_herald_over_peer // "n/a")."'
    img "$sc" "$sc"
  done
  echo; echo "## 4. Latency"; echo
  echo "1,000 subscribers on one topic, 200 publishes/s (one connection), 100-byte payloads; latency from the sender's CLOCK_MONOTONIC stamp in the payload to the generator reading the frame, log-bucket histogram (1.6% resolution)."
  echo
  echo "| server | deliveries | p50 us | p90 us | p99 us | p99.9 us | max us | server CPU s | generator CPU s | other CPU s | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  q '.scenarios.latency.runs[] | "| \(.server) | \(.latency_us.count) | \(.latency_us.p50) | \(.latency_us.p90) | \(.latency_us.p99) | \(.latency_us.p999) | \(.latency_us.max) | \(.server_cpu_window_s) | \(.generator_cpu_window_s) | \(.other_cpu_window_s) | \(.errors | del(.first) | tostring) |"'
  img latency latency
  echo; echo "## 5. Publish API"; echo
  echo "One topic, one subscriber, 100-byte payloads, as fast as the server answers: \`single\` 4 connections x 32 pipelined POST /api/v1/publish; \`batch100\` 2 connections x 8 pipelined POST /api/v1/publish/batch of 100 events."
  echo
  echo "| server | run | accepted events/s | accepted | refused | statuses | received | server CPU s | generator CPU s | other CPU s | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  q '.scenarios.publish.runs[] | "| \(.server) | \(.label) | \(.accepted_per_s) | \(.accepted) | \(.refused) | \(.status | tostring) | \(.received) | \(.server_cpu_window_s) | \(.generator_cpu_window_s) | \(.other_cpu_window_s) | \(.errors | del(.first) | tostring) |"'
  img publish "publish API"
  echo; echo "## 6. Pattern index"; echo
  if q -e '.scenarios.index.benchmarks | length > 0' >/dev/null; then
    echo "Google Benchmark (herald-bench-index), CPU time per operation."
    echo
    echo "| benchmark | CPU time | unit | iterations |"
    echo "|---|---|---|---|"
    q '.scenarios.index.benchmarks[] | "| \(.name) | \(.cpu_time * 1000 | round / 1000) | \(.time_unit) | \(.iterations) |"'
    img index "pattern index"
  else
    echo "Not run."
  fi
  echo; echo "## 7. Per-actor counters"; echo
  echo 'The fan-out run of section 2 (Herald, `window`) with `metrics.actor_counters` on and off, in interleaved pairs; the medians are compared. Off, deliveries are counted in node-wide atomics shared by every CAF worker; on, in each connection'"'"'s own block, summed at scrape time.'
  echo
  echo "| run | deliveries/s | server CPU s | deliveries/server CPU-s | other CPU s |"
  echo "|---|---|---|---|---|"
  q '.scenarios.counters.runs[] | "| \(.label) | \(.deliveries_per_s) | \(.server_cpu_window_s) | \(.deliveries_per_server_cpu_s) | \(.other_cpu_window_s) |"'
  q '.scenarios.counters | "\nMedian deliveries/s: on \(.median_on // "n/a"), off \(.median_off // "n/a"); on/off \(.on_over_off // "n/a")."'
  echo; echo "## 8. Cluster"; echo
  if q -e '.scenarios.cluster.runs | length > 0' >/dev/null; then
    echo "Fan-out and latency through two hops against one node, in the same run: \`single\` is one node; \`cluster\` is three nodes a, b, c on this machine (each with the threads of the single node), the subscribers on b, the publisher on a, and a topic owned by c, so every event goes a -> c (hand-over to its owner) -> b (once, to the member with subscribers) -> the subscribers. Same flags as sections 2 (\`window\` run) and 4: 1,000 subscribers on one topic, 100-byte payloads; fan-out 4 publishing connections x 16 pipelined, at most 256,000 deliveries owed; latency 200 publishes/s from one connection. Single and cluster runs alternate, in pairs; the ratios are cluster/single of the medians. *servers CPU* is every node's CPU over the generator's window (interpolated from 0.1 s samples of /proc/PID/stat); the *other CPU* column has every node taken out."
    echo
    q '.scenarios.cluster | "Topic `\(.topic)`, picked by publishing one event per candidate to a and seeing whose `herald_history_events` moved (the owner keeps the history): \(.topic_probe). Publisher: \(.publish_via). Conditions: \(.conditions.cores) cores shared by every node and the generator; threads per node io \(.conditions.threads_per_node.io), actors \(.conditions.threads_per_node.actors); \(.conditions.fanout.connections // "-") subscribers, \(.conditions.fanout.topics // "-") topic, \(.conditions.fanout.payload_bytes // "-")-byte payloads; \(.conditions.pairs) pairs.\n"'
    echo "| run | nodes | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | servers CPU s | deliveries/servers CPU-s | accepted | received | generator CPU s | other CPU s | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    q '.scenarios.cluster.runs[] | def ms: if . == null then "-" else (. / 10 | round) / 100 end; "| \(.label) | \(if .server == "cluster" then "a -> c -> b" else "single" end) | \(.deliveries_per_s) | \(.latency_us.p50 | ms) | \(.latency_us.p99 | ms) | \(.latency_us.p999 | ms) | \(.latency_us.max | ms) | \(.cluster.servers_cpu_window_s // "-") | \(.cluster.deliveries_per_servers_cpu_s // "-") | \(.accepted) | \(.received) | \(.generator_cpu_window_s) | \(.other_cpu_window_s) | \(.errors | del(.first) | tostring) |"'
    echo
    q 'def ms: if . == null then "-" else (. / 10 | round) / 100 end; .scenarios.cluster | "Cluster/single (medians over \(.cluster.measured.fanout) fan-out and \(.cluster.measured.latency) latency pairs): fan-out deliveries/s \(.ratios.fanout_deliveries_per_s // "n/a") (\(.cluster.fanout_deliveries_per_s // "-") vs \(.single.fanout_deliveries_per_s // "-")), deliveries per servers CPU-s \(.ratios.fanout_deliveries_per_servers_cpu_s // "n/a"); latency at 200/s p50 \(.ratios.latency_p50_us // "n/a"), p99 \(.ratios.latency_p99_us // "n/a"), p99.9 \(.ratios.latency_p999_us // "n/a"), max \(.ratios.latency_max_us // "n/a") (p50/p99 ms: cluster \(.cluster.latency_p50_us | ms) / \(.cluster.latency_p99_us | ms), single \(.single.latency_p50_us | ms) / \(.single.latency_p99_us | ms)). Fan-out pair by pair: \([.pair_ratios[] | "\(.pair) \(.fanout)"] | join(", "))."'
    echo
    echo "The path, from the nodes' counters after each cluster run (publishes taken by a and b, events they handed to their owner, events c forwarded, events b received, deliveries on b):"
    echo
    q '.scenarios.cluster.runs[] | select(.server == "cluster") | .cluster.nodes as $n | "- \(.label): publishes a \($n.a.metrics.publishes_total // "-"), b \($n.b.metrics.publishes_total // "-"); handed to the owner by a \($n.a.metrics.cluster_owner_hops_total // "-"), by b \($n.b.metrics.cluster_owner_hops_total // "-"); c forwarded \($n.c.metrics.cluster_events_forwarded_total // "-"); b received \($n.b.metrics.cluster_events_received_total // "-"), delivered \($n.b.metrics.deliveries_total // "-"); rerouted \([$n[].metrics.cluster_rerouted_total // 0] | add), drops \([$n[].metrics.drops_total // 0] | add); CPU s in the window a/b/c \($n.a.cpu_window_s) / \($n.b.cpu_window_s) / \($n.c.cpu_window_s)"'
  else
    echo "Not run."
  fi
  if q -e '.notes | length > 0' >/dev/null; then
    echo; echo "## Notes"; echo
    q '.notes[] | "- \(.)"'
  fi
  echo
  q '[.runs[] | select(.errors.first != "") | "- \(.scenario)/\(.server)/\(.label): first error: \(.errors.first)"] | if length > 0 then "## First errors\n\n" + join("\n") else empty end'
} >"$OUT/report.md"
