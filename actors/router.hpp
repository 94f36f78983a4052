#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/registry.hpp"
#include "protocol/dedup.hpp"
#include "protocol/history.hpp"
#include "protocol/pattern_index.hpp"
#include "protocol/position_vector.hpp"
#include "protocol/ring.hpp"

#include <caf/actor_addr.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace herald::actors {

struct topic_entry {
  topic_actor actor;
  /// The connections holding the pattern (for presence, and to know when
  /// the last one leaves).
  std::vector<caf::actor_id> holders;
  std::size_t subscribers() const { return holders.size(); }
};

/// A subscribe or SSE join waiting for the other members (docs/cluster.md,
/// "Subscribing in a cluster").
struct pending_sync {
  connection_actor who;
  uint64_t ticket = 0; ///< the connection's
  bool asked = false;
  protocol::position_vector since;
  std::vector<std::string> patterns; ///< empty for SSE
  std::string sse_tenant;            ///< set for an SSE join
  /// This node's own part, taken when the request came.
  uint64_t own_live_after = 0;
  bool own_recovered = true;
  std::vector<protocol::event_ptr> own_events;
};

/// The router: owns the pattern index (pattern -> topic actor), stamps
/// the events this node owns (sequence, position, each frame format
/// encoded once), keeps their history, and hands each event to the topic
/// actors whose pattern matches it and, for the SSE bridge, to its tenant's
/// fan-out. In a cluster it hands events it does not own to their owner
/// and takes the events of other owners for delivery here.
struct router_state {
  static inline const char* name = "herald.router";
  context_ptr ctx;
  protocol::pattern_index<topic_entry> index;
  /// SSE: tenant -> the topic actor fanning out to its SSE connections.
  std::unordered_map<std::string, topic_entry> sse_tenants;
  std::optional<protocol::dedup_window> dedup;
  std::optional<protocol::history> history;
  std::string epoch; ///< the node's (node_context::epoch)
  uint64_t seq = 0;  ///< last owner sequence this node stamped
  uint64_t routed = 0;
  /// Subscribers presence leaves out (admin followers); a handful at most.
  std::unordered_set<caf::actor_id> observers;
  actor_counters* counters = nullptr; ///< null with metrics.actor_counters off
  // -- cluster only ---------------------------------------------------------
  cluster_actor cluster; ///< invalid on a lone node
  std::optional<protocol::owner_ring> ring;
  std::unordered_map<std::string, std::string> epoch_of; ///< other members
  /// Other live owners: the last sequence of each received here (raised
  /// by their events and their watermarks). With this node's own entry,
  /// the position of what is delivered here.
  protocol::position_vector marks;
  std::unordered_map<uint64_t, pending_sync> syncs;
  uint64_t next_sync = 1;
};

/// The name of a tenant's SSE fan-out actor (never a valid topic pattern).
std::string sse_fanout_name(const std::string& tenant);

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, context_ptr ctx,
       uint64_t parent);

} // namespace herald::actors
