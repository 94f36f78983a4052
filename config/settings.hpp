#pragma once

// The node's whole configuration, after file, environment and flags have
// been merged and validated. Every field here has one documented key in
// config/herald.example.jsonc; the key is the field's path, dotted.

#include "protocol/history.hpp"
#include "protocol/jwt.hpp"
#include "protocol/permissions.hpp"
#include "protocol/restart_policy.hpp"
#include "protocol/schema_bindings.hpp"
#include "protocol/service_spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace herald::config {

/// listen.tls.*: the public listener's TLS port (docs/tls.md).
struct tls_settings {
  bool enabled = false; ///< listen.tls.enabled
  /// listen.tls.address; empty: listen.address
  std::string address;
  uint16_t port = 8443;  ///< listen.tls.port (0: any free port)
  std::string cert_file; ///< listen.tls.cert_file (PEM, a chain allowed)
  std::string key_file;  ///< listen.tls.key_file (PEM, unencrypted)
  std::string min_version = "1.2"; ///< listen.tls.min_version: 1.2|1.3
};

struct listen_settings {
  std::string address = "127.0.0.1"; ///< listen.address
  uint16_t port = 8080;              ///< listen.port (0: any free port)
  /// listen.plain: serve plain HTTP/WebSocket on listen.port; false with
  /// listen.tls.enabled: TLS only
  bool plain = true;
  tls_settings tls;
  /// listen.allowed_origins: the Origins (`https://app.example.com`) whose
  /// browsers may open WebSocket and SSE streams; empty: any. A request
  /// without an Origin (not a browser) is always let through.
  std::vector<std::string> allowed_origins;
};

struct thread_settings {
  unsigned io = 1;     ///< threads.io: Asio threads running sockets
  unsigned actors = 2; ///< threads.actors: CAF scheduler workers
  /// threads.scheduler: sharing (one queue, workers sleep on a condition
  /// variable and wake at once) or stealing (per-worker queues, idle
  /// workers poll and back off into sleeps of up to 10 ms)
  std::string scheduler = "sharing";
};

struct auth_settings {
  /// auth.jwt.hs256_secret, auth.jwt.rs256_public_key_file (read at load,
  /// stored as PEM text), auth.jwt.issuer, auth.jwt.audience,
  /// auth.jwt.leeway_seconds
  protocol::jwt_settings jwt;
  std::string rs256_public_key_file;
  std::vector<std::string> api_keys; ///< auth.api_keys (publish API)
};

struct limit_settings {
  uint32_t max_frame_bytes = 65536;     ///< limits.max_frame_bytes
  uint32_t max_subscriptions = 1024;    ///< limits.max_subscriptions
  double rate_per_second = 20;          ///< limits.rate_per_second
  double rate_burst = 40;               ///< limits.rate_burst
  uint32_t rate_strikes_to_close = 20;  ///< limits.rate_strikes_to_close
  uint64_t max_backlog_bytes = 1 << 20; ///< limits.max_backlog_bytes
  uint32_t max_body_bytes = 65536;      ///< limits.max_body_bytes
  uint32_t max_batch_events = 1000;     ///< limits.max_batch_events
  uint32_t max_publish_queue = 100000;  ///< limits.max_publish_queue
  /// limits.max_connections: open connections on the public listener;
  /// 0: the process's open-files limit less a reserve (docs/limits.md)
  uint32_t max_connections = 0;
  /// limits.max_connections_per_ip: open connections from one client
  /// address; 0: no such limit
  uint32_t max_connections_per_ip = 0;
  uint32_t header_timeout_ms = 10000; ///< limits.header_timeout_ms
  uint32_t body_timeout_ms = 30000;   ///< limits.body_timeout_ms
  uint32_t idle_timeout_ms = 30000;   ///< limits.idle_timeout_ms
};

struct ws_settings {
  uint32_t ping_interval_ms = 30000; ///< ws.ping_interval_ms
  uint32_t pong_timeout_ms = 45000;  ///< ws.pong_timeout_ms
  uint32_t close_timeout_ms = 5000;  ///< ws.close_timeout_ms
};

struct dedup_settings {
  uint32_t window_seconds = 300; ///< dedup.window_seconds
  uint32_t max_entries = 100000; ///< dedup.max_entries
};

struct history_settings {
  uint32_t max_events = 10000;        ///< history.max_events (default ring)
  uint32_t max_age_seconds = 300;     ///< history.max_age_seconds
  uint64_t max_bytes = 64ull << 20;   ///< history.max_bytes (all rings)
  uint32_t max_replay_events = 10000; ///< history.max_replay_events
  /// history.rules; by default chat events (docs/chat-events.md) keep a
  /// ring of their own, so connection churn never evicts other history.
  std::vector<protocol::history_rule> rules = {
      {"system:chat:event:*", 1000, 300}};
};

struct sse_settings {
  uint32_t heartbeat_ms = 30000; ///< sse.heartbeat_ms
  /// sse.broadcast_event_types: event_type patterns (`sales.*`) whose
  /// events go to the SSE bridge even without `broadcast: true`
  std::vector<std::string> broadcast_event_types;
};

struct schema_settings {
  /// schemas.bindings: event_type or topic patterns bound to JSON Schema
  /// files that publishes must satisfy, compiled at load (docs/schemas.md)
  std::vector<protocol::schema_binding> bindings;
};

struct log_settings {
  std::string level = "info";  ///< log.level: trace|debug|info|warn|error
  std::string format = "text"; ///< log.format: text|json
};

struct cluster_settings {
  bool enabled = false;                     ///< cluster.enabled
  std::string listen_address = "127.0.0.1"; ///< cluster.listen_address
  uint16_t port = 7400;                     ///< cluster.port (0: any)
  /// cluster.advertise_address: what other members dial; empty: the
  /// listen address
  std::string advertise_address;
  std::vector<std::string> seeds;     ///< cluster.seeds, "host:port"
  uint32_t heartbeat_ms = 500;        ///< cluster.heartbeat_ms
  uint32_t failure_timeout_ms = 2500; ///< cluster.failure_timeout_ms
  uint32_t retry_ms = 1000;           ///< cluster.retry_ms
  uint32_t request_timeout_ms = 2000; ///< cluster.request_timeout_ms
};

/// supervision.*: how the monitors' and channels' supervisors restart a
/// child (docs/monitors.md, "Supervisors").
using supervision_settings = protocol::restart_settings;

/// health.*: the health board.
struct health_settings {
  uint32_t recent_errors = 100; ///< health.recent_errors: the ring's size
};

/// channels.*: the built-in channel endpoints (docs/channels.md).
struct channel_settings {
  bool circuit_breaker = true; ///< channels.circuit_breaker.enabled
  bool monitor = true;         ///< channels.monitor.enabled
  /// channels.monitor.status_interval_ms: between SERVER_STATUS_UPDATEs
  uint32_t status_interval_ms = 5000;
  bool drill = false; ///< channels.drill.enabled
};

/// One entry of plugins.load (docs/plugins.md).
struct plugin_entry {
  std::string path;               ///< a file name is looked up in plugins.dir
  std::string name;               ///< when set, the plugin must be named so
  std::string config_json = "{}"; ///< its `config` section, as JSON text
};

/// plugins.*: the channel plugins the node loads at start.
struct plugin_settings {
  std::string dir; ///< plugins.dir; empty: next to heraldd
  std::vector<plugin_entry> load = {
      {"herald_market.so", "market", "{}"},
      {"herald_system_settings.so", "system-settings", "{}"},
      {"herald_notifications.so", "notifications", "{}"},
      {"herald_chat.so", "chat", "{}"},
      {"herald_contest.so", "contest", "{}"},
      {"herald_analytics.so", "analytics", "{}"},
      {"herald_skyduel.so", "skyduel", "{}"}};
};

/// store.*: where plugins keep state (docs/stores.md).
struct store_settings {
  std::string kind = "sqlite";           ///< store.kind: sqlite, postgres
  std::string sqlite_path = "herald.db"; ///< store.sqlite.path
  std::string postgres_url; ///< store.postgres.url (a libpq connection string)
  uint32_t connect_timeout_ms = 5000; ///< store.connect_timeout_ms
};

/// chat_events.*: the chat events of seeds/chat-events-asyncapi.md
/// (docs/chat-events.md) and the webhook they are posted to.
struct chat_event_settings {
  bool connections = true;                     ///< chat_events.connections
  std::string event_namespace = "herald.chat"; ///< chat_events.namespace
  std::string parent_namespace = "herald";     ///< chat_events.parent_namespace
  std::string webhook_url; ///< chat_events.webhook.url; empty: no webhook
  uint32_t webhook_timeout_ms = 2000;     ///< chat_events.webhook.timeout_ms
  uint32_t webhook_max_attempts = 5;      ///< chat_events.webhook.max_attempts
  uint32_t webhook_backoff_ms = 200;      ///< chat_events.webhook.backoff_ms
  uint32_t webhook_queue_max = 10000;     ///< chat_events.webhook.queue_max
  uint32_t webhook_failure_threshold = 5; ///< ...webhook.failure_threshold
  uint32_t webhook_open_ms = 10000;       ///< chat_events.webhook.open_ms
};

/// The admin API and console (docs/console.md).
struct admin_settings {
  bool enabled = true;               ///< admin.enabled
  std::string address = "127.0.0.1"; ///< admin.address
  uint16_t port = 9090;              ///< admin.port (0: any free port)
  uint32_t peer_timeout_ms = 1000;   ///< admin.peer_timeout_ms
};

struct settings {
  std::string node_name = "herald-1"; ///< node.name
  listen_settings listen;
  thread_settings threads;
  auth_settings auth;
  protocol::permission_rules permissions =
      protocol::permission_rules::defaults();
  limit_settings limits;
  ws_settings ws;
  dedup_settings dedup;
  history_settings history;
  sse_settings sse;
  schema_settings schemas;
  log_settings log;
  cluster_settings cluster;
  /// services: the upstream services the node watches, one monitor each
  /// (docs/monitors.md)
  std::vector<protocol::service_spec> services;
  supervision_settings supervision;
  health_settings health;
  channel_settings channels;
  plugin_settings plugins;
  store_settings store;
  chat_event_settings chat_events;
  admin_settings admin;
  bool actor_counters = true;        ///< metrics.actor_counters
  uint32_t shutdown_grace_ms = 5000; ///< shutdown.grace_ms
  /// True when no configuration file was given: the node runs on the
  /// built-in development configuration and prints how to use it.
  bool development = false;
};

} // namespace herald::config
