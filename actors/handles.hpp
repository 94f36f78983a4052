#pragma once

// The typed handles of the node's actors. The net layer reaches actors only
// through these.

#include "actors/outbound_sink.hpp"
#include "protocol/cluster_wire.hpp"
#include "protocol/identity.hpp"
#include "protocol/messages.hpp"
#include "protocol/position_vector.hpp"

#include "herald/sdk.hpp"

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
  /// An admin follower (docs/console.md): it gets the events but is no
  /// one's presence, so /api/v1/presence does not count it.
  bool observer = false;
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
  /// Per owner epoch: events above this sequence come live, not replayed;
  /// an owner not listed sends everything live.
  protocol::position_vector live_after;
  bool asked = false;     ///< the request carried a position
  bool recovered = false; ///< every event after it is in `events`
  std::vector<protocol::event_ptr> events; ///< in sequence order
};

/// What the router asks the member actor when a subscribe (or SSE join)
/// must reach the other members: they take the new interest first, then
/// answer with their sequence and, when `asked`, their part of the replay.
struct sync_request {
  uint64_t ticket = 0;
  bool asked = false;
  protocol::position_vector since;
  std::vector<std::string> patterns;
  std::string sse_tenant; ///< set for an SSE join
};

/// Connections holding a topic, per member.
struct presence_answer {
  std::vector<std::string> nodes;
  std::vector<uint64_t> counts;
  bool complete = true;
};

/// The member actor (cluster/): one per node in a cluster. The first group
/// of messages comes from the local router, the second from other members.
using cluster_actor = caf::typed_actor<
    // Local: events this node owns, stamped, for members whose interest
    // matches.
    caf::reacts_to<protocol::forward_atom, std::vector<protocol::event_ptr>>,
    // Local: events to hand to their owner (named).
    caf::reacts_to<protocol::owner_atom, std::string, pending_events>,
    // Local: patterns this node's subscribers newly hold / no longer hold.
    caf::reacts_to<protocol::interest_atom, std::vector<std::string>,
                   std::vector<std::string>>,
    caf::reacts_to<protocol::sync_atom, sync_request>,
    // Local: this node's owner sequence, for the others' positions.
    caf::reacts_to<protocol::mark_atom, uint64_t>,
    caf::replies_to<protocol::presence_atom,
                    std::string>::with<presence_answer>,
    caf::reacts_to<protocol::tick_atom>,
    // Local, from the inspector (docs/console.md): ask the other live
    // members (or only those named) for their part of an admin request;
    // answers theirs, the members asked, and those that did not answer.
    caf::replies_to<protocol::admin_atom, std::string,
                    std::vector<std::string>>::with<std::vector<std::string>,
                                                    std::vector<std::string>,
                                                    std::vector<std::string>>,
    // From members.
    caf::reacts_to<protocol::hello_atom, protocol::member_info,
                   caf::strong_actor_ptr, protocol::member_infos>,
    caf::reacts_to<protocol::bye_atom, std::string>,
    caf::reacts_to<protocol::interest_atom, std::string,
                   protocol::interest_update>,
    caf::reacts_to<protocol::forward_atom, protocol::wire_events>,
    caf::replies_to<protocol::owner_atom, protocol::wire_events>::with<bool>,
    caf::replies_to<protocol::query_atom,
                    protocol::replay_query>::with<protocol::replay_part>,
    caf::reacts_to<protocol::mark_atom, std::string, uint64_t>,
    caf::replies_to<protocol::presence_atom, std::string, bool>::with<uint64_t>,
    // An admin request for this node's own part (its inspector answers).
    caf::replies_to<protocol::admin_atom, std::string,
                    bool>::with<std::string>>;

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
    caf::replies_to<protocol::stats_atom>::with<uint64_t, uint64_t>,
    // Connections holding a topic: in the whole cluster, or (with the
    // flag) on this node only.
    caf::replies_to<protocol::presence_atom,
                    std::string>::with<presence_answer>,
    caf::replies_to<protocol::presence_atom, std::string, bool>::with<uint64_t>,
    // From the member actor (cluster only).
    caf::reacts_to<protocol::cluster_atom, cluster_actor>,
    caf::reacts_to<protocol::members_atom, std::vector<std::string>,
                   std::vector<std::string>>,
    // Events of other owners, for delivery here.
    caf::reacts_to<protocol::forward_atom, pending_events>,
    // Events handed to this node as their owner.
    caf::reacts_to<protocol::owner_atom, pending_events>,
    caf::reacts_to<protocol::sync_atom, uint64_t, protocol::replay_parts>,
    caf::replies_to<protocol::query_atom,
                    protocol::replay_query>::with<protocol::replay_part>,
    caf::reacts_to<protocol::mark_atom, std::string, uint64_t>,
    caf::reacts_to<protocol::tick_atom>>;

// -- channel endpoints (actors/channel.hpp, docs/channels.md)
// ------------------

/// What a WebSocket session's actor takes from its socket: the part of the
/// connection actor's interface the session uses (`/ws` and channel
/// sessions alike).
using session_actor =
    caf::typed_actor<caf::reacts_to<protocol::frame_atom, std::string>,
                     caf::reacts_to<protocol::binary_atom>,
                     caf::reacts_to<protocol::closed_atom>>;

/// A channel session's actor: a session actor the channel can push to.
using channel_client_actor =
    session_actor::extend<caf::reacts_to<protocol::push_atom, frame_ptr>>;

/// A client as its channel knows it (the plugin SDK's type: built-in and
/// plugin channels see their clients alike).
using channel_client = sdk::client;

/// What every channel actor takes (herald/sdk.hpp); a channel may take
/// more (the built-in ones also listen to the health board).
using channel_actor = sdk::channel_actor;

/// A stable 64-bit key for a pattern (FNV-1a), computed the same way by
/// the topic actor and the connection, so deliveries need not carry the
/// pattern text.
uint64_t pattern_key(std::string_view pattern);

} // namespace herald::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::pending_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::subscribe_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::sse_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::replay_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::sync_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::presence_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::protocol::event_ptr>)
