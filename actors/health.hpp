#pragma once

// The health board (docs/monitors.md): one per node. Monitors report every
// service status to it, supervisors their children's crashes and
// give-ups. It derives each layer's status, keeps maintenance mode and a
// bounded ring of recent errors, publishes layer and maintenance changes
// on system topics, and pushes every change to its listeners (the
// circuit-breaker and monitor channels). Probes and resets asked by a
// client go through it to the service's monitor, or to the supervisor of
// a given-up child.

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace herald::actors {

struct health_state {
  static inline const char* name = "herald.health";
  struct record {
    service_status status;
    monitor_actor monitor; ///< upstream services: the live monitor
  };
  context_ptr ctx;
  router_actor router;
  std::map<std::string, record> services;
  std::map<std::string, std::string> layer_status; ///< last published
  std::map<std::string, group_supervisor_actor> groups;
  std::vector<health_listener_actor> listeners;
  std::deque<error_entry> errors; ///< newest last, at most ring_size
  uint64_t error_seq = 0;
  maintenance_state maintenance;
  actor_counters* counters = nullptr;
};

/// The topic of a layer's status events: `system:<layer>:layer:status`.
std::string layer_topic(const std::string& layer);

/// The topic of maintenance events: `system:node:maintenance:status`.
inline constexpr const char* maintenance_topic =
    "system:node:maintenance:status";

/// The topic of recent-error events: `system:node:error:recent`.
inline constexpr const char* error_topic = "system:node:error:recent";

health_actor::behavior_type
health_board(health_actor::stateful_pointer<health_state> self, context_ptr ctx,
             router_actor router, uint64_t parent);

} // namespace herald::actors
