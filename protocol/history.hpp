#pragma once

// The bounded history of routed events behind `since` (/ws) and
// `Last-Event-ID` (SSE): PROTOCOL §1 "Positions and history".
//
// Events are kept in rings, one per configured rule (a topic pattern with
// its own count and age bounds) plus a default ring for every other topic
// and for broadcast-only events. An event goes to the first rule whose
// pattern matches its topic. Every ring is ordered by the node's sequence,
// so a replay is a binary search per ring and a merge. A global byte bound
// evicts the oldest event across all rings. Each ring remembers the
// highest sequence it ever evicted: a replay from a position below it
// cannot be complete, and says so.
//
// Owned by the router actor (one writer, no locks); see docs/history.md.

#include "protocol/event.hpp"
#include "protocol/topic.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol {

/// Retention for the topics matching one pattern.
struct history_rule {
  std::string pattern;
  uint32_t max_events = 10000;
  uint32_t max_age_seconds = 300;
};

struct history_limits {
  std::vector<history_rule> rules;       ///< first match wins
  history_rule fallback{"", 10000, 300}; ///< every other topic
  uint64_t max_bytes = 64ull << 20;      ///< all rings together
  uint32_t max_replay_events = 10000;    ///< a longer replay is refused
};

/// Parses `[{"pattern":..., "max_events":..., "max_age_seconds":...}]`;
/// returns the problem (with its path, e.g. `[1].pattern: ...`) or empty.
std::string parse_history_rules(std::string_view json,
                                std::vector<history_rule>& out);

/// A position as it travels: `<epoch>-<seq>` (see docs/history.md).
struct position {
  std::string_view epoch;
  uint64_t seq = 0;
};

/// Splits a position; nullopt when it is not `<epoch>-<decimal seq>`.
std::optional<position> parse_position(std::string_view text);

/// True when some topic matches both patterns.
bool patterns_overlap(const topic_segments& a, const topic_segments& b);

class history {
public:
  explicit history(history_limits limits);
  history(const history&) = delete;
  history& operator=(const history&) = delete;

  /// Keeps a stamped event (its seq above every kept one), evicting what
  /// the bounds require. `topic`: the event's topic as the caller parsed
  /// it, or null when it has none (broadcast-only).
  void append(const event_ptr& ev, const topic_segments* topic, int64_t now_us);

  struct replay {
    bool recovered = false;
    std::vector<event_ptr> events; ///< in sequence order; empty unless
                                   ///< recovered
  };

  /// Events after `since` whose topic matches one of `patterns`.
  replay after(uint64_t since, const std::vector<topic_segments>& patterns,
               int64_t now_us);

  /// Events after `since` that `wanted` accepts (SSE: broadcast events of
  /// a tenant); every ring is consulted.
  replay after_if(uint64_t since,
                  const std::function<bool(const event&)>& wanted,
                  int64_t now_us);

  std::size_t size() const { return count_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t evicted() const { return evicted_; }

  /// What an event is charged against the byte bound.
  static uint64_t cost(const event& ev);

private:
  struct ring {
    history_rule rule;
    topic_segments pattern; ///< views into rule.pattern; empty: fallback
    bool fallback = false;
    std::deque<event_ptr> events;
    uint64_t evicted_through = 0; ///< highest seq evicted from this ring
  };

  ring& ring_for(const topic_segments* topic);
  void evict_front(ring& r);
  void expire(int64_t now_us);
  bool complete_since(const ring& r, uint64_t since) const;
  template <class Pred>
  replay collect(uint64_t since, const std::vector<const ring*>& rings,
                 Pred&& wanted);

  history_limits limits_;
  std::vector<ring> rings_; ///< the rules in order, then the fallback
  std::size_t count_ = 0;
  uint64_t bytes_ = 0;
  uint64_t evicted_ = 0;
};

} // namespace herald::protocol
