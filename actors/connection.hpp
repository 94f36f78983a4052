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
  /// Per owner: events above this sequence come live through this
  /// subscription, the others came with the router's answer (an owner not
  /// listed sends everything live). Set by the answer.
  protocol::position_vector live_after;
  /// Until the router answers: live events wait in `held`, so that the
  /// ack and the replay go first (in a cluster the answer takes a round
  /// trip to the other members).
  bool pending = true;
  std::vector<protocol::event_ptr> held;
};

/// Which frames a connection's socket takes.
enum class connection_kind : uint8_t {
  ws,       ///< `/ws`: the event frame of PROTOCOL §4
  envelope, ///< `/ws/events`: the envelope frame of docs/schemas.md
  sse,      ///< `/api/events/stream`: PROTOCOL §5
};

/// What an SSE connection asked for when it opened.
struct sse_options {
  std::vector<std::string> patterns; ///< event_type patterns; empty: all
  std::optional<std::string> last_event_id;
};

/// A subscribe the router has not answered yet.
struct pending_subscribe {
  uint64_t ticket = 0;
  std::vector<std::string> patterns; ///< joined by this subscribe
  /// Set when the subscribe carried `since`: its ack waits for the replay.
  bool deferred_ack = false;
  std::vector<std::string> accepted;
  std::optional<std::string> id;
};

/// A connection actor: identity, subscriptions, rate budget, and delivery
/// to its socket through an outbound_sink.
struct connection_state {
  static inline const char* name = "herald.connection";
  context_ptr ctx;
  protocol::identity who;
  sink_ptr sink;
  router_actor router;
  connection_kind kind = connection_kind::ws;
  std::vector<subscription> subs;
  std::vector<pending_subscribe> pending; ///< in ticket order
  uint64_t next_ticket = 1;
  sse_options sse; ///< kind sse only
  std::optional<protocol::token_bucket> budget;
  actor_counters* counters = nullptr; ///< null with metrics.actor_counters off
  uint64_t id = 0;                    ///< the actor's, for the registry
  /// After an answer with a replay: its last position. A live event routed
  /// before the answer came may carry a position behind it in some owner's
  /// entry; such an event goes out with the two merged, so that resuming
  /// from it never repeats what the replay sent. Cleared by the first
  /// event at or past it.
  std::optional<protocol::position_vector> floor;
  uint32_t strikes = 0; ///< RATE_LIMITED answers since the last accepted frame
  bool closing = false;
};

connection_actor::behavior_type
connection(connection_actor::stateful_pointer<connection_state> self,
           context_ptr ctx, protocol::identity who, sink_ptr sink,
           router_actor router, connection_kind kind, sse_options sse);

/// Spawns a connection actor for a freshly accepted WebSocket session.
connection_actor spawn_connection(caf::actor_system& sys, context_ptr ctx,
                                  protocol::identity who, sink_ptr sink,
                                  router_actor router,
                                  connection_kind kind = connection_kind::ws);

/// Spawns the connection actor of an SSE stream; it joins its tenant's
/// broadcast fan-out at once, replaying from `last_event_id` when given.
connection_actor spawn_sse_connection(caf::actor_system& sys, context_ptr ctx,
                                      protocol::identity who, sink_ptr sink,
                                      router_actor router, sse_options opts);

} // namespace herald::actors
