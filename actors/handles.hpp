#pragma once

// The typed handles of the node's actors. The net layer reaches actors only
// through these.

#include "protocol/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::actors {

/// An event handed to the router, still owned by the sender; the router
/// stamps it (sequence, position, encoded frame) and freezes it.
using pending_events = std::vector<std::shared_ptr<protocol::event>>;

/// What a subscribe frame asks of the router: the patterns the
/// connection newly holds, and the position to replay from, if any.
struct subscribe_request {
  std::vector<std::string> patterns; ///< to join
  std::optional<std::string> since;
  std::vector<std::string> also_replay; ///< held already, replayed too
  uint64_t ticket = 0;                  ///< echoed in the answer
};

/// What an SSE connection asks of the router when it opens: its tenant's
/// broadcast events, replayed from `Last-Event-ID` when it sent one.
struct sse_request {
  std::string tenant;
  std::optional<std::string> since;
};

/// The router's answer to a subscribe or an SSE join: from which sequence
/// the new subscriptions are live, and the replay when one was asked for.
struct replay_answer {
  uint64_t ticket = 0;
  uint64_t live_after = 0; ///< events above this come live, not replayed
  bool asked = false;      ///< the request carried a position
  bool recovered = false;  ///< every event after it is in `events`
  std::vector<protocol::event_ptr> events; ///< in sequence order
};

/// One per WebSocket session.
using connection_actor = caf::typed_actor<
    // From a topic actor: an event matching that topic's pattern (its key).
    caf::reacts_to<protocol::deliver_atom, protocol::event_ptr, uint64_t>,
    // From the socket: a client text frame.
    caf::reacts_to<protocol::frame_atom, std::string>,
    // From the socket: a binary frame (refused).
    caf::reacts_to<protocol::binary_atom>,
    // From the socket: it is gone; unsubscribe everything and quit.
    caf::reacts_to<protocol::closed_atom>,
    // From the router: a subscribe or SSE join took effect.
    caf::reacts_to<protocol::replay_atom, replay_answer>>;

/// One per active subscription pattern on the node.
using topic_actor = caf::typed_actor<
    caf::reacts_to<protocol::deliver_atom, protocol::event_ptr>,
    caf::reacts_to<protocol::join_atom, connection_actor>,
    caf::reacts_to<protocol::leave_atom, connection_actor>,
    // From the router, once the last subscriber has left.
    caf::reacts_to<protocol::stop_atom>>;

/// One per node: the pattern index and local publish.
using router_actor = caf::typed_actor<
    caf::reacts_to<protocol::publish_atom, pending_events>,
    // Answered with a replay_answer to the connection.
    caf::reacts_to<protocol::subscribe_atom, subscribe_request,
                   connection_actor>,
    caf::reacts_to<protocol::unsubscribe_atom, std::string, connection_actor>,
    // An SSE connection joins (answered with a replay_answer) or leaves its
    // tenant's broadcast fan-out.
    caf::reacts_to<protocol::sse_atom, sse_request, connection_actor>,
    caf::reacts_to<protocol::sse_atom, protocol::leave_atom, std::string,
                   connection_actor>,
    // Topic actors alive and events routed so far.
    caf::replies_to<protocol::stats_atom>::with<uint64_t, uint64_t>>;

/// The root supervisor: owns the router for the node's lifetime.
using supervisor_actor = caf::typed_actor<
    caf::replies_to<protocol::router_atom>::with<router_actor>>;

/// A stable 64-bit key for a pattern (FNV-1a), computed the same way by
/// the topic actor and the connection, so deliveries need not carry the
/// pattern text.
uint64_t pattern_key(std::string_view pattern);

} // namespace herald::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::pending_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::subscribe_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::sse_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::replay_answer)
