#pragma once

// Node-wide counters and gauges behind GET /metrics. Plain relaxed atomics:
// an increment costs one uncontended-ish atomic add and nothing else.

#include <atomic>
#include <cstdint>
#include <string>

namespace herald::protocol {

/// Delivery counts kept outside node_metrics (per-actor counters, summed
/// when /metrics is scraped), added to the matching node counters.
struct delivery_counts {
  uint64_t deliveries = 0;
  uint64_t audience_filtered = 0;
  uint64_t drops = 0;
};

struct node_metrics {
  using counter = std::atomic<uint64_t>;
  using gauge = std::atomic<int64_t>;

  gauge connections{0};         ///< open WebSocket connections
  gauge subscriptions{0};       ///< subscriptions held by connections
  gauge topics{0};              ///< topic actors alive (distinct patterns)
  counter connections_total{0}; ///< accepted WebSocket upgrades
  counter publishes{0};         ///< events accepted by the publish API
  counter publish_rejected{0};  ///< publishes refused (4xx)
  counter publish_shed{0};      ///< publishes refused with 503
  counter duplicates{0};        ///< publishes dropped by the dedup window
  counter deliveries{0};        ///< frames queued to connections
  counter audience_filtered{0}; ///< deliveries suppressed by the audience
  counter drops{0};             ///< frames dropped (closing or overflowing)
  counter slow_consumer_closes{0};
  counter rate_limited{0};      ///< client frames refused with RATE_LIMITED
  counter rate_limit_closes{0}; ///< connections closed with 1008
  counter auth_failures{0};     ///< 401 answers on identity endpoints
  counter api_key_failures{0};  ///< 401 answers on the publish API
  counter frame_errors{0};      ///< client frames answered with an error
  gauge publish_queue{0};       ///< publishes handed to the router, unrouted
  gauge sse_connections{0};     ///< open SSE streams
  gauge history_events{0};      ///< events held for replay
  gauge history_bytes{0};       ///< what they take (history.max_bytes)
  counter history_evicted{0};   ///< events dropped from the history
  counter replays{0};           ///< replays asked for (since, Last-Event-ID)
  counter replays_failed{0};    ///< of which answered recovered:false
  counter replayed_events{0};   ///< events sent by replays
  counter sse_skipped{0};       ///< events too large for SSE even truncated
  counter sse_truncated{0};     ///< events sent to SSE truncated
  // The cluster (docs/cluster.md); zero on a lone node.
  counter cluster_forwarded{0};  ///< owned events sent to a member (each)
  counter cluster_received{0};   ///< events from owners, delivered here
  counter cluster_owner_hops{0}; ///< events handed to their owner
  counter cluster_rerouted{0};   ///< hand-overs retried at a new owner
  counter cluster_joins{0};      ///< members that joined (or rejoined)
  counter cluster_departures{0}; ///< members removed
  gauge cluster_interest{0};     ///< patterns the other members hold
  // Service monitors (docs/monitors.md).
  counter monitor_probes{0};         ///< probes run
  counter monitor_probe_failures{0}; ///< of which failed
  counter breaker_transitions{0};    ///< circuit breaker state changes
  // Supervision and channels (docs/monitors.md, docs/channels.md).
  counter supervisor_restarts{0}; ///< children restarted after a failure
  counter supervisor_given_up{0}; ///< children given up on
  counter supervisor_revived{0};  ///< given-up children reset by an admin
  gauge channel_sessions{0};      ///< open channel endpoint sessions
  counter health_errors{0};       ///< recent-errors ring entries added

  counter chat_events{0};      ///< chat events emitted (docs/chat-events.md)
  counter webhook_posts{0};    ///< webhook POSTs answered 2xx
  counter webhook_failures{0}; ///< webhook attempts that failed
  counter webhook_dropped{0};  ///< chat events given up on (retries, queue)
  gauge webhook_queue{0};      ///< chat events waiting for the webhook

  /// Prometheus text exposition format, every metric prefixed `herald_`.
  std::string render_prometheus(const delivery_counts& extra = {}) const;
};

} // namespace herald::protocol
