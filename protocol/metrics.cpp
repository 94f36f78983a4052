#include "protocol/metrics.hpp"

namespace herald::protocol {

namespace {

void add(std::string& out, const char* name, const char* type, const char* help,
         int64_t value) {
  out += "# HELP herald_";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE herald_";
  out += name;
  out += ' ';
  out += type;
  out += "\nherald_";
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

} // namespace

std::string
node_metrics::render_prometheus(const delivery_counts& extra) const {
  std::string out;
  out.reserve(4096);
  auto c = [&](const char* name, const char* help, const counter& x,
               uint64_t plus = 0) {
    add(out, name, "counter", help, static_cast<int64_t>(x.load() + plus));
  };
  auto g = [&](const char* name, const char* help, const gauge& x) {
    add(out, name, "gauge", help, x.load());
  };
  g("connections", "Open WebSocket connections.", connections);
  g("subscriptions", "Subscriptions held by connections.", subscriptions);
  g("topics", "Active subscription patterns (topic actors).", topics);
  c("connections_total", "WebSocket upgrades accepted.", connections_total);
  c("publishes_total", "Events accepted by the publish API.", publishes);
  c("publish_rejected_total", "Publishes refused with a 4xx answer.",
    publish_rejected);
  c("publish_shed_total", "Publishes refused with 503 (load shedding).",
    publish_shed);
  c("publish_duplicates_total", "Publishes dropped by the dedup window.",
    duplicates);
  c("deliveries_total", "Event frames queued to connections.", deliveries,
    extra.deliveries);
  c("audience_filtered_total", "Deliveries suppressed by the audience filter.",
    audience_filtered, extra.audience_filtered);
  c("drops_total", "Frames dropped (closing or overflowing connections).",
    drops, extra.drops);
  c("slow_consumer_closes_total", "Connections closed with 1013.",
    slow_consumer_closes);
  c("rate_limited_total", "Client frames refused with RATE_LIMITED.",
    rate_limited);
  c("rate_limit_closes_total", "Connections closed with 1008.",
    rate_limit_closes);
  c("auth_failures_total", "Requests refused with 401 for a bad token.",
    auth_failures);
  c("api_key_failures_total", "Publish API requests with a bad API key.",
    api_key_failures);
  c("frame_errors_total", "Client frames answered with an error frame.",
    frame_errors);
  g("publish_queue", "Publishes handed to the router and not yet routed.",
    publish_queue);
  g("sse_connections", "Open server-sent event streams.", sse_connections);
  g("history_events", "Events held for replay.", history_events);
  g("history_bytes", "Bytes the events held for replay take.", history_bytes);
  c("history_evicted_total",
    "Events dropped from the history (count, age "
    "or byte bound).",
    history_evicted);
  c("replays_total", "Replays asked for (since, Last-Event-ID).", replays);
  c("replays_failed_total", "Replays answered recovered:false.",
    replays_failed);
  c("replayed_events_total", "Events sent by replays.", replayed_events);
  c("sse_skipped_total", "Events too large for SSE even truncated.",
    sse_skipped);
  c("sse_truncated_total", "Events sent to SSE truncated.", sse_truncated);
  c("cluster_events_forwarded_total",
    "Events this node owns sent to a member with matching interest (once "
    "per member).",
    cluster_forwarded);
  c("cluster_events_received_total",
    "Events received from their owner for delivery here.", cluster_received);
  c("cluster_owner_hops_total", "Published events handed to their owner.",
    cluster_owner_hops);
  c("cluster_rerouted_total",
    "Hand-overs retried because the owner did not answer.", cluster_rerouted);
  c("cluster_joins_total", "Members that joined or rejoined.", cluster_joins);
  c("cluster_departures_total", "Members removed (left, died, cut off).",
    cluster_departures);
  c("monitor_probes_total", "Service probes run.", monitor_probes);
  c("monitor_probe_failures_total", "Service probes that failed.",
    monitor_probe_failures);
  c("breaker_transitions_total", "Circuit breaker state changes.",
    breaker_transitions);
  c("supervisor_restarts_total", "Children restarted by a supervisor.",
    supervisor_restarts);
  c("supervisor_given_up_total",
    "Children a supervisor gave up on (intensity limit reached).",
    supervisor_given_up);
  c("supervisor_revived_total",
    "Given-up children restarted by an admin reset.", supervisor_revived);
  g("channel_sessions", "Open channel endpoint sessions (/api/v69/ws/*).",
    channel_sessions);
  c("health_errors_total", "Entries added to the recent-errors ring.",
    health_errors);
  c("chat_events_total", "Chat events emitted (userConnected, ...).",
    chat_events);
  c("webhook_posts_total", "Chat event webhook POSTs answered 2xx.",
    webhook_posts);
  c("webhook_failures_total",
    "Chat event webhook attempts that failed (refused, timeout, non-2xx).",
    webhook_failures);
  c("webhook_dropped_total",
    "Chat events the webhook gave up on (attempts spent or queue full).",
    webhook_dropped);
  g("webhook_queue", "Chat events waiting for the webhook.", webhook_queue);
  g("cluster_interest_patterns",
    "Patterns and SSE tenants the other members hold.", cluster_interest);
  return out;
}

} // namespace herald::protocol
