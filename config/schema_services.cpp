#include "config/schema_builders.hpp"

#include "protocol/service_spec.hpp"

namespace herald::config::detail {

void add_service_keys(std::vector<key_spec>& t) {
  {
    key_spec k = str(
        "services", [](settings& s) -> field { return &s.services; },
        "Upstream services to watch, one monitor and circuit breaker each "
        "(docs/monitors.md): [{\"name\":\"db\",\"layer\":\"data\","
        "\"probe\":{\"tcp\":\"10.0.0.5:5432\"},\"interval_ms\":5000,"
        "\"breaker\":{\"failure_threshold\":5,\"open_ms\":30000}}]. A probe "
        "is {\"http\":\"http://host:port/path\",\"expect_status\":200} or "
        "{\"tcp\":\"host:port\"}, with timeout_ms (2000). Probes and "
        "breaker changes are published on system:<layer>:service:<name>.");
    k.type = kind::object;
    k.type_note = "array of {name, layer, probe, interval_ms, breaker}";
    k.default_note = "[]";
    k.parse_json = [](const std::string& json, settings& cfg) {
      return protocol::parse_services(json, cfg.services);
    };
    t.push_back(std::move(k));
  }
}

} // namespace herald::config::detail

namespace herald::config::detail {

void add_supervision_keys(std::vector<key_spec>& t) {
  t.push_back(integer(
      "supervision.max_restarts",
      [](settings& s) -> field { return &s.supervision.max_restarts; }, 0,
      protocol::max_restart_intensity,
      "Intensity limit: a monitor or channel restarted this many times "
      "within supervision.within_ms is given up on at its next failure (its "
      "breaker held open until an admin resets it). 0 gives up at the first "
      "failure."));
  t.push_back(integer(
      "supervision.within_ms",
      [](settings& s) -> field { return &s.supervision.within_ms; }, 1, u32_max,
      "The sliding window of the intensity limit."));
  t.push_back(integer(
      "supervision.backoff_initial_ms",
      [](settings& s) -> field { return &s.supervision.backoff_initial_ms; }, 0,
      u32_max, "Delay before the first restart of a run of failures."));
  t.push_back(integer(
      "supervision.backoff_max_ms",
      [](settings& s) -> field { return &s.supervision.backoff_max_ms; }, 0,
      u32_max,
      "The restart delay never grows beyond this (at least "
      "supervision.backoff_initial_ms)."));
  t.push_back(real(
      "supervision.backoff_factor",
      [](settings& s) -> field { return &s.supervision.backoff_factor; }, 1.0,
      false, 1000.0,
      "Each further quick failure multiplies the restart delay by this."));
  t.push_back(integer(
      "supervision.reset_after_ms",
      [](settings& s) -> field { return &s.supervision.reset_after_ms; }, 0,
      u32_max,
      "A child up this long without failing starts again from "
      "supervision.backoff_initial_ms."));
  t.push_back(integer(
      "health.recent_errors",
      [](settings& s) -> field { return &s.health.recent_errors; }, 1, 100000,
      "Entries kept in the recent-errors ring (crashes, give-ups, breaker "
      "openings, refused requests) that get_recent_errors reads."));
  t.push_back(boolean(
      "channels.circuit_breaker.enabled",
      [](settings& s) -> field { return &s.channels.circuit_breaker; },
      "Serve /api/v69/ws/circuit-breaker (docs/channels.md)."));
  t.push_back(boolean(
      "channels.monitor.enabled",
      [](settings& s) -> field { return &s.channels.monitor; },
      "Serve /api/v69/ws/monitor (docs/channels.md)."));
  t.push_back(integer(
      "channels.monitor.status_interval_ms",
      [](settings& s) -> field { return &s.channels.status_interval_ms; }, 100,
      3600000,
      "Milliseconds between the SERVER_STATUS_UPDATE pushes of the monitor "
      "endpoint."));
  t.push_back(boolean(
      "channels.drill.enabled",
      [](settings& s) -> field { return &s.channels.drill; },
      "Serve /api/v69/ws/drill, a channel an admin can crash on purpose to "
      "rehearse supervision and alerting (docs/channels.md). Off by "
      "default."));
}

} // namespace herald::config::detail
