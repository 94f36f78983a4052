#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "protocol/cluster_wire.hpp"
#include "protocol/pattern_index.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

namespace herald::cluster {

/// Another member, live or lost (a lost one is dialled again).
struct member_entry {
  protocol::member_info info;
  actors::cluster_actor handle; ///< invalid unless live
  bool live = false;
  uint64_t bit = 0; ///< its bit in the interest masks, kept for its name
  uint64_t interest_version = 0;
  std::set<std::string> interest; ///< what its subscribers hold
};

/// A subscribe sync waiting for the members' answers.
struct sync_collect {
  std::size_t waiting = 0;
  protocol::replay_parts parts;
};

/// The member actor: membership, interest exchange, forwarding to
/// members and hand-over to owners (docs/cluster.md). One per node,
/// published on the cluster port.
struct member_state {
  static inline const char* name = "herald.member";
  actors::context_ptr ctx;
  actors::router_actor router;
  protocol::member_info me;
  bool founder = false; ///< no seed but itself: ready at once
  bool joined = false;
  std::map<std::string, member_entry> members; ///< by name
  uint64_t next_bit = 1;
  std::set<std::string> targets; ///< "host:port" to dial when not live
  std::set<std::string> dialing;
  std::set<std::string> local_interest;
  uint64_t local_version = 0;
  /// The other members' interest: pattern -> mask of member bits.
  protocol::pattern_index<uint64_t> remote;
  std::unordered_map<std::string, uint64_t> remote_sse; ///< tenant -> mask
  std::map<uint64_t, sync_collect> syncs;
  uint64_t next_presence = 1;
};

using member_actor_ptr = actors::cluster_actor::stateful_pointer<member_state>;

/// `me`: this node as the others dial it. `seeds`: "host:port" to join
/// through. Tells the router its handle when it starts.
actors::cluster_actor::behavior_type member(member_actor_ptr self,
                                            actors::context_ptr ctx,
                                            actors::router_actor router,
                                            protocol::member_info me,
                                            std::vector<std::string> seeds);

/// Splits "host:port" (also "[v6]:port"); false when malformed.
bool split_host_port(const std::string& text, std::string& host,
                     uint16_t& port);

} // namespace herald::cluster
