#include "config/schema_builders.hpp"

namespace herald::config::detail {

void add_admin_keys(std::vector<key_spec>& t) {
  t.push_back(boolean(
      "admin.enabled", [](settings& s) -> field { return &s.admin.enabled; },
      "Open the admin API and web console (docs/console.md) on a listener "
      "of its own."));
  t.push_back(str(
      "admin.address", [](settings& s) -> field { return &s.admin.address; },
      "Address the admin listener binds to: loopback unless told otherwise. "
      "Every route needs a token with the admin role.",
      check_address));
  t.push_back(integer(
      "admin.port", [](settings& s) -> field { return &s.admin.port; }, 0,
      65535, "TCP port of the admin listener; 0 picks any free port."));
  t.push_back(integer(
      "admin.peer_timeout_ms",
      [](settings& s) -> field { return &s.admin.peer_timeout_ms; }, 10, 60000,
      "Milliseconds a cluster-wide admin answer waits for the other members; "
      "those that do not answer are listed as missing."));
}

} // namespace herald::config::detail
