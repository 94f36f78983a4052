#pragma once

// The router's routing and cluster steps (actors/router_routing.cpp),
// apart from its behavior so that each file stays about one thing.

#include "actors/router.hpp"

#include <optional>
#include <string>
#include <vector>

namespace herald::actors {

using router_self = router_actor::stateful_pointer<router_state>;

/// Events from the publish API (`owned` false) or handed over by another
/// member as their owner (`owned` true): stamps and routes the ones this
/// node owns, hands the others to their owner.
void route_published(router_self self, pending_events& events, bool owned);

/// Events stamped by another owner, for delivery here.
void route_remote(router_self self, pending_events& events);

/// Sends a subscribe or SSE join to the other members before answering it.
void start_sync(router_self self, const connection_actor& who, uint64_t ticket,
                const std::optional<std::string>& since,
                std::vector<std::string> patterns, std::string sse_tenant);

/// The other members answered (or timed out): the merged answer goes to
/// the connection.
void finish_sync(router_self self, uint64_t sync,
                 protocol::replay_parts& parts);

/// Another member's subscribe asks for this node's part.
protocol::replay_part answer_query(router_state& st,
                                   const protocol::replay_query& query);

/// The live members changed (the others' names and epochs).
void on_members(router_self self, const std::vector<std::string>& names,
                const std::vector<std::string>& epochs);

} // namespace herald::actors
