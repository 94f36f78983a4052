#include "config/schema_builders.hpp"

namespace herald::config::detail {

void add_cluster_keys(std::vector<key_spec>& t) {
  t.push_back(boolean(
      "cluster.enabled",
      [](settings& s) -> field { return &s.cluster.enabled; },
      "Join a cluster of nodes (docs/cluster.md); node.name must be unique "
      "in it."));
  t.push_back(str(
      "cluster.listen_address",
      [](settings& s) -> field { return &s.cluster.listen_address; },
      "Address the cluster port binds to. The cluster port carries "
      "unauthenticated CAF messages: keep it on a private network.",
      check_address));
  t.push_back(integer(
      "cluster.port", [](settings& s) -> field { return &s.cluster.port; }, 0,
      65535, "TCP port other members dial; 0 picks any free port."));
  t.push_back(str(
      "cluster.advertise_address",
      [](settings& s) -> field { return &s.cluster.advertise_address; },
      "Address other members dial to reach this node; empty: "
      "cluster.listen_address (required when that is 0.0.0.0 or ::).",
      check_optional_address));
  {
    key_spec k = str(
        "cluster.seeds", [](settings& s) -> field { return &s.cluster.seeds; },
        "Members to join through, as \"host:port\". Empty (or only this "
        "node): this node founds the cluster and is ready at once; "
        "otherwise it is ready once it has joined one of them.",
        check_host_port);
    k.type = kind::string_list;
    t.push_back(std::move(k));
  }
  t.push_back(integer(
      "cluster.heartbeat_ms",
      [](settings& s) -> field { return &s.cluster.heartbeat_ms; }, 10, u32_max,
      "Milliseconds between heartbeats to every member (CAF's BASP "
      "heartbeat, and each owner's sequence watermark)."));
  t.push_back(integer(
      "cluster.failure_timeout_ms",
      [](settings& s) -> field { return &s.cluster.failure_timeout_ms; }, 20,
      u32_max,
      "A member not heard from for this many milliseconds is removed; "
      "must be at least twice cluster.heartbeat_ms."));
  t.push_back(integer(
      "cluster.retry_ms",
      [](settings& s) -> field { return &s.cluster.retry_ms; }, 10, u32_max,
      "Milliseconds between dials of seeds and lost members."));
  t.push_back(integer(
      "cluster.request_timeout_ms",
      [](settings& s) -> field { return &s.cluster.request_timeout_ms; }, 10,
      u32_max,
      "Milliseconds a member may take to answer a subscribe sync, a "
      "presence count or a publish handed to it as owner."));
}

} // namespace herald::config::detail
