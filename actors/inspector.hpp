#pragma once

// The inspector (docs/console.md): one per node. It answers the admin
// API from the node's live registry of actors and its health board and,
// in a cluster, asks the other nodes' inspectors through the member
// actors, so any node answers for the whole cluster. It also samples the
// registry every second for each actor's message rate and last activity,
// so the actors themselves only bump their counters.

#include "actors/handles.hpp"
#include "actors/health_types.hpp"
#include "actors/node_context.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace herald::actors {

/// The name the inspector registers under in CAF's actor registry, where
/// the member actor finds it to answer the other nodes.
inline const caf::atom_value inspector_registry_name = caf::atom("inspector");

using inspector_actor = caf::typed_actor<
    // From the admin API: a request (protocol::admin::request as JSON) for
    // the whole cluster; answers an HTTP status and a JSON body.
    caf::replies_to<protocol::admin_atom, std::string>::with<uint16_t,
                                                             std::string>,
    // From another node (through the members): this node's own part.
    caf::replies_to<protocol::admin_atom, std::string, bool>::with<std::string>,
    // The sampler's clock.
    caf::reacts_to<protocol::tick_atom>>;

/// Spawns the inspector and registers it. `member` may be invalid (no
/// cluster).
inspector_actor spawn_inspector(caf::actor_system& sys, context_ptr ctx,
                                health_actor board, cluster_actor member);

} // namespace herald::actors
