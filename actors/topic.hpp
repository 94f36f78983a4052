#pragma once

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/registry.hpp"

#include <string>
#include <vector>

namespace herald::actors {

/// A topic actor: the subscribers of one pattern and its fan-out.
struct topic_state {
  static inline const char* name = "herald.topic";
  std::string pattern;
  uint64_t key = 0;
  std::vector<connection_actor> subscribers;
  actor_counters* counters = nullptr; ///< null with metrics.actor_counters off
};

/// Spawned by the router, one per active pattern. Hands every event the
/// router routes to it to each subscriber's connection actor: one message
/// per subscriber, the event itself shared, never copied.
topic_actor::behavior_type
topic(topic_actor::stateful_pointer<topic_state> self, std::string pattern,
      context_ptr ctx, uint64_t parent);

} // namespace herald::actors
