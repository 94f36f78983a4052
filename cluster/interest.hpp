#pragma once

// Interest exchange and forwarding (docs/cluster.md, "Interest"): what
// this node's subscribers hold goes to every member as deltas; what the
// others hold decides where an owned event goes.

#include "cluster/member.hpp"

#include <string>
#include <vector>

namespace herald::cluster {

/// This node's subscribers newly hold / no longer hold these patterns.
void local_interest_changed(member_actor_ptr self,
                            std::vector<std::string>& added,
                            std::vector<std::string>& removed);

/// A member's interest changed.
void remote_interest_changed(member_actor_ptr self, const std::string& from,
                             protocol::interest_update& update);

/// Sends a (re)joined member our whole interest.
void send_full_interest(member_actor_ptr self, const member_entry& to);

/// Forgets what a departed member held.
void drop_interest(member_state& st, member_entry& m);

/// Sends owned events once to each member whose interest matches them.
void forward_to_members(member_actor_ptr self,
                        std::vector<protocol::event_ptr>& events);

} // namespace herald::cluster
