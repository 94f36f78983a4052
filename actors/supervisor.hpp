#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"

#include <functional>

namespace herald::actors {

/// The root supervisor. It spawns and monitors the router. Connections hold
/// the router's handle and its pattern index is the node's routing state,
/// so a router that dies is not restarted behind their backs: the
/// supervisor escalates by calling `on_fatal`, and the node stops with a
/// non-zero exit for its service manager to restart. (Restart strategies
/// with backoff for channels and monitors come with the supervision tree.)
struct supervisor_state {
  static inline const char* name = "herald.supervisor";
  router_actor router;
  bool stopping = false;
};

supervisor_actor::behavior_type
root_supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
                context_ptr ctx, std::function<void(std::string)> on_fatal);

} // namespace herald::actors
