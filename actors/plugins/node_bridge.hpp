#pragma once

// The node as a channel plugin sees it (herald/sdk.hpp, docs/plugins.md):
// one bridge actor per node implements sdk::node_actor over the router and
// the health board, so that plugins never touch either directly.

#include "actors/chat_events.hpp"
#include "actors/handles.hpp"
#include "actors/health_types.hpp"
#include "actors/node_context.hpp"

#include "herald/sdk.hpp"

#include <caf/actor_system.hpp>

namespace herald::actors {

/// Spawns the bridge. Each listener that subscribes gets an adapter actor
/// (a connection to the router) that converts events once per listener.
/// Chat events go to `chat_events`; service calls are admitted by the
/// health board's breakers and made by `prober`.
sdk::node_actor spawn_node_bridge(caf::actor_system& sys, context_ptr ctx,
                                  router_actor router, health_actor health,
                                  chat_events_actor chat_events,
                                  prober_actor prober);

} // namespace herald::actors
