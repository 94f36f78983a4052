# Builds bench/results/latest.json from the generator's runs (one JSON
# object per run, tagged with scenario, server and label by bench/run.sh)
# and the Google Benchmark output of herald-bench-index.
def run(s; v; l): first($runs[] | select(.scenario == s and .server == v
                                          and .label == l)) // null;
def ratio(a; b): if a == null or b == null or b == 0 then null
                 else (a / b * 1000 | round) / 1000 end;
def summary: {
  server, label: .label, server_survived, conditions,
  connections, subscribed, subscribe_s,
  published, accepted, refused, status, received, window_s,
  deliveries_per_s: (.deliveries_per_s | round),
  accepted_per_s: (.accepted_per_s | round),
  latency_us, errors, generator_cpu_s, generator_cpu_window_s,
  server_cpu_window_s: .server_stats.cpu_window_s,
  deliveries_per_server_cpu_s: (.server_stats.deliveries_per_cpu_s | round),
  accepted_per_server_cpu_s: (.server_stats.accepted_per_cpu_s | round),
  server_rss_end_kb: .server_stats.rss_end_kb,
  other_cpu_window_s: .machine_window.other_cpu_s,
  # The generator used 90% or more of its one core: the server may have had
  # more to give; the figure may be a lower bound for it.
  generator_bound: ((.window_s // 0) > 0
                    and .generator_cpu_window_s >= 0.9 * .window_s)
};
def scenario(s): [$runs[] | select(.scenario == s) | summary];
def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
def counters_median(prefix): [$runs[] | select(.scenario == "counters"
    and (.label | startswith(prefix))) | .deliveries_per_s] | median;
# The cluster scenario: server "herald" is the single node, "cluster" the
# three nodes (publish on a, topic owned by c, subscribers on b); labels are
# fanout-<pair> and latency-<pair>.
def cluster_runs(v; kind): [$runs[] | select(.scenario == "cluster"
    and .server == v and (.label | startswith(kind + "-")))];
def cluster_medians(v): {
  fanout_deliveries_per_s: ([cluster_runs(v; "fanout")[].deliveries_per_s]
                            | median | if . then round else . end),
  fanout_deliveries_per_servers_cpu_s:
    ([cluster_runs(v; "fanout")[].cluster.deliveries_per_servers_cpu_s
      | select(. != null)] | median),
  fanout_servers_cpu_window_s:
    ([cluster_runs(v; "fanout")[].cluster.servers_cpu_window_s
      | select(. != null)] | median),
  fanout_latency_p50_us: ([cluster_runs(v; "fanout")[].latency_us.p50] | median),
  fanout_latency_p99_us: ([cluster_runs(v; "fanout")[].latency_us.p99] | median),
  latency_p50_us: ([cluster_runs(v; "latency")[].latency_us.p50] | median),
  latency_p90_us: ([cluster_runs(v; "latency")[].latency_us.p90] | median),
  latency_p99_us: ([cluster_runs(v; "latency")[].latency_us.p99] | median),
  latency_p999_us: ([cluster_runs(v; "latency")[].latency_us.p999] | median),
  latency_max_us: ([cluster_runs(v; "latency")[].latency_us.max] | median),
  latency_servers_cpu_window_s:
    ([cluster_runs(v; "latency")[].cluster.servers_cpu_window_s
      | select(. != null)] | median),
  measured: {fanout: (cluster_runs(v; "fanout") | length),
             latency: (cluster_runs(v; "latency") | length)}
};

(run("fanout"; "herald"; "window").deliveries_per_s) as $fh
| (run("fanout"; "ceiling"; "window").deliveries_per_s) as $fc
| (run("fanout"; "peer"; "window").deliveries_per_s) as $fp
| (run("fanout"; "herald"; "window").server_stats.deliveries_per_cpu_s) as $ch
| (run("fanout"; "ceiling"; "window").server_stats.deliveries_per_cpu_s) as $cc
| (run("fanout"; "peer"; "window").server_stats.deliveries_per_cpu_s) as $cp
| ([$runs[] | select(.scenario == "idle" and .server == "herald")]
   | max_by(.subscribed)) as $idle_h
| run("latency"; "herald"; "rate200") as $lat
| ($index[0].benchmarks // []) as $bm
| {
  generated: $date, commit: $commit, quick: ($quick == 1),
  machine: {cores: $cores, cpu: $cpu, kernel: $kernel,
            open_files_limit: $nofile,
            syscall_ns: ([$runs[].conditions.syscall_ns // empty] | min
                         | if . then round else . end)},
  herald_config: {threads_io: $io, threads_actors: $actors,
                  log_level: "warn", max_backlog_bytes: 67108864,
                  max_publish_queue: 1000000},
  notes: (($notes | split("\n") | map(select(length > 0)))
          + [$runs[] | select(.timed_out)
             | "\(.scenario)/\(.server)/\(.label): the generator hit its global deadline after \(.wall_s) s"]
          + [$runs[] | select(.server_survived == false)
             | "\(.scenario)/\(.server)/\(.label): the server was gone at the end of the run"]
          + [$runs[] | select((.window_s // 0) > 0
                              and .generator_cpu_window_s >= 0.9 * .window_s)
             | "\(.scenario)/\(.server)/\(.label): the generator used \(.generator_cpu_window_s * 100 / .window_s | round)% of its core in the window: it may have held the figure down (a lower bound for \(.server))"]),
  scenarios: {
    idle: [$runs[] | select(.scenario == "idle") | {
      server, connections_requested: (.label | tonumber),
      connections: .subscribed, subscribe_s,
      server_rss_base_kb: .server_stats.rss_base_kb,
      server_rss_subscribed_kb: .server_stats.rss_subscribed_kb,
      bytes_per_connection: (.server_stats.rss_per_conn_bytes | round),
      generator_cpu_s, errors, cores: .conditions.cores}],
    fanout: {runs: scenario("fanout"),
             ratios: {herald_over_ceiling: ratio($fh; $fc),
                      herald_over_peer: ratio($fh; $fp),
                      per_cpu_herald_over_ceiling: ratio($ch; $cc),
                      per_cpu_herald_over_peer: ratio($ch; $cp)}},
    topics: {runs: scenario("topics")},
    counters: {runs: scenario("counters"),
               median_on: counters_median("on-"),
               median_off: counters_median("off-"),
               # deliveries/s with counters over without: 1 - cost
               on_over_off: ratio(counters_median("on-");
                                  counters_median("off-"))},
    latency: {runs: scenario("latency")},
    cluster: (cluster_medians("herald") as $single
      | cluster_medians("cluster") as $three
      | (first($runs[] | select(.scenario == "cluster" and .server == "cluster"))
         // {}) as $c1
      | {conditions: {
           cluster_nodes: 3, subscribers_on: "b", publisher_on: "a",
           owner: "c", threads_per_node: {io: $io, actors: $actors},
           cores: $cores, pairs: $single.measured.fanout,
           fanout: (first(cluster_runs("cluster"; "fanout")[].conditions) // null),
           latency: (first(cluster_runs("cluster"; "latency")[].conditions) // null)},
         topic: ($c1.cluster.topic // null),
         topic_probe: ($c1.cluster.topic_probe // null),
         publish_via: ($c1.cluster.publish_via // null),
         runs: [$runs[] | select(.scenario == "cluster")
                | summary + {kind: (.label | split("-")[0]),
                             pair: (.label | split("-")[1]),
                             cluster: (.cluster // {} | del(.samples))}],
         single: $single, cluster: $three,
         # cluster / single, medians over the pairs of the same run
         ratios: ($single | keys_unsorted | map(select(. != "measured"))
                  | map({key: ., value: ratio($three[.]; $single[.])})
                  | from_entries),
         # fan-out deliveries/s cluster / single, pair by pair
         pair_ratios: [cluster_runs("cluster"; "fanout")[] as $c
                       | first(cluster_runs("herald"; "fanout")[]
                               | select(.label == $c.label)) as $s
                       | {pair: $c.label, fanout: ratio($c.deliveries_per_s;
                                                        $s.deliveries_per_s)}]}),
    publish: {runs: scenario("publish")},
    index: {context: ($index[0].context // null),
            benchmarks: [$bm[] | select(.run_type != "aggregate"
                                         or .aggregate_name == "median")
                         | {name, real_time, cpu_time, time_unit,
                            iterations}]}
  },
  targets: {
    fanout_vs_ceiling: {target: ">= 0.6", value: ratio($fh; $fc)},
    fanout_vs_peer: {target: ">= 5", value: ratio($fh; $fp)},
    idle_bytes_per_connection: {
      target: "<= 4096 at 100000",
      value: ($idle_h.server_stats.rss_per_conn_bytes // null | if . then round
              else . end),
      at_connections: ($idle_h.subscribed // null)},
    latency_p99_us: {target: "< 5000", value: $lat.latency_us.p99},
    actor_counters_cost: {target: "a few percent at most",
      value: (ratio(counters_median("on-"); counters_median("off-"))
              | if . then ((1 - .) * 1000 | round) / 1000 else . end)},
    latency_p50_us: {target: "< 1000", value: $lat.latency_us.p50},
    publish_single_per_s: {target: ">= 50000",
      value: (run("publish"; "herald"; "single").accepted_per_s // null
              | if . then round else . end)},
    publish_batch_events_per_s: {target: ">= 300000",
      value: (run("publish"; "herald"; "batch100").accepted_per_s // null
              | if . then round else . end)}
  },
  runs: $runs
}
