#pragma once

// The admin API's live streams (docs/console.md): a follower of a topic
// pattern, subscribed through the router like a connection (so in a
// cluster it follows publishes on every node), and a watcher of one
// actor's figures, asking the inspector every interval. Both write SSE
// frames to their sink and stop when it closes.

#include "actors/handles.hpp"
#include "actors/inspector.hpp"
#include "actors/node_context.hpp"

#include <caf/actor_system.hpp>

#include <cstdint>
#include <string>

namespace herald::actors {

/// Follows `pattern` (already checked): every routed event matching it,
/// without the audience filter, as `event: event` frames.
connection_actor spawn_topic_follower(caf::actor_system& sys, context_ptr ctx,
                                      router_actor router, std::string pattern,
                                      sink_ptr sink);

/// Sends actor `id` of `node` as `event: figures` every `interval_ms`,
/// then `event: gone` and the end of the stream once it is no more.
connection_actor spawn_actor_watcher(caf::actor_system& sys,
                                     inspector_actor inspector,
                                     std::string node, uint64_t id,
                                     uint32_t interval_ms, sink_ptr sink);

} // namespace herald::actors
