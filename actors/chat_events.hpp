#pragma once

// The chat events of seeds/chat-events-asyncapi.md (docs/chat-events.md):
// one actor per node wraps each event in the seed's envelope, publishes it
// on `system:chat:event:<name>` through the router (so backends subscribe
// to it like any topic, on any node) and hands it to the webhook when one
// is configured. Each node emits and posts only its own events, so a
// cluster posts every event once.

#include "actors/handles.hpp"
#include "actors/health_types.hpp"
#include "actors/node_context.hpp"

#include "herald/sdk.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace herald::actors {

using chat_event = sdk::chat_event;

using chat_events_actor =
    caf::typed_actor<caf::reacts_to<sdk::chat_atom, chat_event>>;

/// A session's id as chat events and channel plugins show it:
/// `<node name>/<actor id>`, unique in the cluster.
std::string session_id(const node_context& ctx, uint64_t actor_id);

/// The envelope of the seed (payload.<name>, id, version, name, namespace,
/// parentNamespace, timestamp, clientId, userId, traceId, sessionId,
/// spanContext) plus `node`, as compact JSON. `payload_json` must be a JSON
/// object; anything else is carried as {}.
std::string encode_chat_envelope(const node_context& ctx, const chat_event& ev,
                                 int64_t timestamp_us);

/// Spawns the node's chat events actor. `prober` makes the webhook's posts
/// (null: no webhook even when one is configured, as in tests).
chat_events_actor spawn_chat_events(caf::actor_system& sys, context_ptr ctx,
                                    router_actor router, prober_actor prober);

} // namespace herald::actors
