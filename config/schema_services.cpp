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
