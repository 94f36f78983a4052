#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "actors/registry.hpp"
#include "protocol/identity.hpp"
#include "protocol/rate_limiter.hpp"
#include "protocol/topic.hpp"

#include <caf/actor_system.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::actors {

/// One subscription of a connection. The pattern is split only when an
/// event has to be checked against several subscriptions (rare), so an
/// idle subscription costs its text and key and nothing more.
struct subscription {
  std::string pattern;
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
  std::vector<subscription> subs;
  std::optional<protocol::token_bucket> budget;
  actor_counters* counters = nullptr; ///< null with metrics.actor_counters off
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
