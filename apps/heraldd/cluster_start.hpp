#pragma once

// Joining a cluster at start (docs/cluster.md): CAF's middleman is loaded
// and tuned before the actor system exists, the member actor is spawned
// and published once it does.

#include "actors/handles.hpp"
#include "actors/node_context.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <string>
#include <variant>

namespace herald::app {

/// Registers the cluster's message types (always) and, with the cluster
/// on, loads the middleman with the heartbeat and failure timeout.
void configure_cluster(caf::actor_system_config& cfg,
                       const config::settings& settings);

/// Spawns and publishes the member actor; the error names the key.
std::variant<actors::cluster_actor, std::string>
start_cluster(caf::actor_system& sys, const actors::context_ptr& node,
              const actors::router_actor& router);

} // namespace herald::app
