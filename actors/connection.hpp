#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "protocol/identity.hpp"
#include "protocol/rate_limiter.hpp"
#include "protocol/topic.hpp"

#include <caf/actor_system.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::actors {

/// One subscription of a connection. Heap-allocated so that `segments`,
/// views into `pattern`, stay valid while the vector holding it grows.
struct subscription {
  std::string pattern;
  protocol::topic_segments segments;
  uint64_t key = 0;
};

/// A connection actor: identity, subscriptions, rate budget, and delivery
/// to its socket through an outbound_sink.
struct connection_state {
  static inline const char* name = "herald.connection";
  context_ptr ctx;
  protocol::identity who;
  sink_ptr sink;
  router_actor router;
  std::vector<std::unique_ptr<subscription>> subs;
  std::optional<protocol::token_bucket> budget;
  uint32_t strikes = 0; ///< RATE_LIMITED answers since the last accepted frame
  bool closing = false;
};

connection_actor::behavior_type
connection(connection_actor::stateful_pointer<connection_state> self,
           context_ptr ctx, protocol::identity who, sink_ptr sink,
           router_actor router);

/// Spawns a connection actor for a freshly accepted WebSocket session.
connection_actor spawn_connection(caf::actor_system& sys, context_ptr ctx,
                                  protocol::identity who, sink_ptr sink,
                                  router_actor router);

} // namespace herald::actors
