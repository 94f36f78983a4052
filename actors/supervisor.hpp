#pragma once

// The supervision tree (DESIGN.md, docs/monitors.md "Supervisors"):
//
//   root ── router              escalate: the node stops (exit 1)
//        ── health board        escalate
//        ── member (cluster)    escalate
//        ── monitors            one-for-one restart, backoff, intensity
//        │    └── one monitor per service
//        └── channels           one-for-one restart, backoff, intensity
//             └── one channel per endpoint
//
// The router and the member hold the node's routing state and the other
// members' view of it; restarting them behind the connections' backs would
// lose subscriptions silently, so their death stops the node for its
// service manager to restart. A group supervisor restarts a failed child
// after an exponential backoff (protocol/restart_policy.hpp) and gives up
// at the intensity limit: the child's breaker is then held open (a
// channel's endpoint answers 503) and an alert goes out, until an admin
// resets it. Nothing here blocks; restarts wait on timers.

#include "actors/handles.hpp"
#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "protocol/restart_policy.hpp"

#include <caf/actor.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace herald::actors {

/// One child a group supervisor starts, and starts again.
struct child_spec {
  std::string name;
  std::string layer;             ///< on the health board
  std::string kind = "upstream"; ///< upstream (a monitor), channel
  /// Spawns the child; `parent` is the supervisor's id, for the registry.
  std::function<caf::actor(caf::actor_system&, uint64_t parent)> spawn;
  /// Runs in the supervisor whenever the child starts, waits for a
  /// restart, or is given up on (channels keep the endpoint directory).
  std::function<void(const child_row&, const caf::actor&)> on_change;
  /// The supervisor reports the child's breaker to the health board (a
  /// monitor reports its own service while it runs).
  bool report_status = false;
};

/// A group of children under one supervisor and one restart policy.
struct group_spec {
  std::string name; ///< monitors, channels
  protocol::restart_settings policy;
  std::vector<child_spec> children;
};

/// The root supervisor's handle.
using supervisor_actor = caf::typed_actor<
    caf::replies_to<protocol::router_atom>::with<router_actor, health_actor>,
    // Watch an actor spawned elsewhere (the member): its death stops the
    // node.
    caf::reacts_to<protocol::adopt_atom, std::string, caf::actor>,
    // Start a group supervisor under the root.
    caf::replies_to<protocol::group_atom,
                    group_spec>::with<group_supervisor_actor>>;

struct supervisor_state {
  static inline const char* name = "herald.supervisor";
  context_ptr ctx;
  router_actor router;
  health_actor health;
  std::map<caf::actor_addr, std::string> escalating; ///< child -> name
  std::vector<caf::actor> children;                  ///< stopped on exit
  bool stopping = false;
};

supervisor_actor::behavior_type
root_supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
                context_ptr ctx, std::function<void(std::string)> on_fatal);

struct group_supervisor_state {
  static inline const char* name = "herald.group_supervisor";
  struct child {
    child_spec spec;
    protocol::restart_policy policy;
    child_row row;
    caf::actor handle;
    uint64_t generation = 0;
    int64_t started_ms = 0; ///< on the actor clock
  };
  context_ptr ctx;
  std::string group;
  health_actor health;
  std::vector<child> children;
  bool stopping = false;
};

/// A supervisor over `spec.children`; tells `health` of crashes and
/// give-ups (may be null in tests).
group_supervisor_actor::behavior_type group_supervisor(
    group_supervisor_actor::stateful_pointer<group_supervisor_state> self,
    context_ptr ctx, group_spec spec, health_actor health, uint64_t parent);

} // namespace herald::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::group_spec)
