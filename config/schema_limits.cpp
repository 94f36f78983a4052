// limits.*: what one client or all of them may take (PROTOCOL section 4's
// frame and rate limits, and docs/limits.md's connection, timeout, body
// and queue limits).

#include "config/schema_builders.hpp"

namespace herald::config::detail {

void add_limit_keys(std::vector<key_spec>& t) {
  t.push_back(integer(
      "limits.max_frame_bytes",
      [](settings& s) -> field { return &s.limits.max_frame_bytes; }, 1,
      u32_max,
      "Largest client frame; a larger one closes the connection "
      "(1009)."));
  t.push_back(integer(
      "limits.max_subscriptions",
      [](settings& s) -> field { return &s.limits.max_subscriptions; }, 1,
      u32_max,
      "Subscriptions one connection may hold (beyond: "
      "LIMIT_EXCEEDED)."));
  t.push_back(real(
      "limits.rate_per_second",
      [](settings& s) -> field { return &s.limits.rate_per_second; }, 0, true,
      1e6, "Frames per second a client may send (token bucket refill rate)."));
  t.push_back(real(
      "limits.rate_burst",
      [](settings& s) -> field { return &s.limits.rate_burst; }, 1, false, 1e6,
      "Token bucket size: frames a client may send in one burst."));
  t.push_back(integer(
      "limits.rate_strikes_to_close",
      [](settings& s) -> field { return &s.limits.rate_strikes_to_close; }, 1,
      u32_max,
      "RATE_LIMITED answers after which the connection is closed "
      "(1008)."));
  t.push_back(integer(
      "limits.max_backlog_bytes",
      [](settings& s) -> field { return &s.limits.max_backlog_bytes; }, 1,
      u64_max,
      "Unsent bytes a connection may queue before it is closed as a "
      "slow consumer (1013)."));
  t.push_back(integer(
      "limits.max_body_bytes",
      [](settings& s) -> field { return &s.limits.max_body_bytes; }, 1, u32_max,
      "Largest request body on any route, the publish and admin APIs "
      "included, however it is sent (beyond: 413)."));
  t.push_back(integer(
      "limits.max_batch_events",
      [](settings& s) -> field { return &s.limits.max_batch_events; }, 1,
      u32_max, "Events one batch publish may carry."));
  t.push_back(integer(
      "limits.max_publish_queue",
      [](settings& s) -> field { return &s.limits.max_publish_queue; }, 1,
      u32_max, "Publishes queued on the node before it sheds load (503)."));
  t.push_back(integer(
      "limits.max_connections",
      [](settings& s) -> field { return &s.limits.max_connections; }, 0,
      u32_max,
      "Open connections the public listener holds (HTTP, WebSocket and SSE "
      "alike); a client past it is answered 503 OVERLOADED and closed. 0: "
      "the process's open-files limit less 64, so that the node answers "
      "instead of failing to accept (docs/limits.md)."));
  t.push_back(integer(
      "limits.max_connections_per_ip",
      [](settings& s) -> field { return &s.limits.max_connections_per_ip; }, 0,
      u32_max,
      "Open connections from one client address; past it, 429 "
      "LIMIT_EXCEEDED. 0: no such limit (behind a proxy every client has "
      "the proxy's address)."));
  t.push_back(integer(
      "limits.header_timeout_ms",
      [](settings& s) -> field { return &s.limits.header_timeout_ms; }, 10,
      3600000,
      "Milliseconds a client has to send a whole request head, from its "
      "connection or its request's first byte; a slower one is dropped "
      "(slowloris)."));
  t.push_back(integer(
      "limits.body_timeout_ms",
      [](settings& s) -> field { return &s.limits.body_timeout_ms; }, 10,
      3600000,
      "Milliseconds a client has to send a request body after its head; a "
      "slower one is dropped."));
  t.push_back(integer(
      "limits.idle_timeout_ms",
      [](settings& s) -> field { return &s.limits.idle_timeout_ms; }, 10,
      3600000,
      "Milliseconds a keep-alive HTTP connection may wait for its next "
      "request before it is closed."));
}

} // namespace herald::config::detail
