#pragma once

// The node's store actor (sdk::store_actor, docs/stores.md): a detached
// actor, so its blocking database calls run on a thread of their own and
// never in a channel's or the scheduler's.

#include "actors/node_context.hpp"

#include "herald/sdk.hpp"

#include <caf/actor_system.hpp>

#include <string>
#include <variant>

namespace herald::actors {

/// Opens the configured database (store.*) here, at start, then spawns the
/// actor that owns it. Returns the start-up error line naming the key when
/// the database cannot be opened.
std::variant<sdk::store_actor, std::string> spawn_store(caf::actor_system& sys,
                                                        const context_ptr& ctx);

} // namespace herald::actors
