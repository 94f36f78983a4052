#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/registry.hpp"
#include "protocol/dedup.hpp"
#include "protocol/history.hpp"
#include "protocol/pattern_index.hpp"

#include <optional>
#include <string>
#include <unordered_map>

namespace herald::actors {

struct topic_entry {
  topic_actor actor;
  std::size_t subscribers = 0;
};

/// The router: owns the pattern index (pattern -> topic actor), stamps
/// published events (sequence, position, each frame format encoded once),
/// keeps their history, and hands each to the topic actors whose pattern
/// matches it and, for the SSE bridge, to its tenant's fan-out.
struct router_state {
  static inline const char* name = "herald.router";
  context_ptr ctx;
  protocol::pattern_index<topic_entry> index;
  /// SSE: tenant -> the topic actor fanning out to its SSE connections.
  std::unordered_map<std::string, topic_entry> sse_tenants;
  std::optional<protocol::dedup_window> dedup;
  std::optional<protocol::history> history;
  std::string epoch; ///< random per start: positions of a restarted node
                     ///< never collide with its previous life
  uint64_t seq = 0;
  uint64_t routed = 0;
  actor_counters* counters = nullptr; ///< null with metrics.actor_counters off
};

/// The name of a tenant's SSE fan-out actor (never a valid topic pattern).
std::string sse_fanout_name(const std::string& tenant);

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, context_ptr ctx,
       uint64_t parent);

} // namespace herald::actors
