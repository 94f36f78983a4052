#pragma once

// The live registry of the node's actors and their counters: what the
// control console lists (issue 9) and what /metrics sums.
//
// Each actor enrolls once when it starts and retires once when it stops
// (a mutex, off the hot path). Its counters have one writer, the actor
// itself, so a bump is a relaxed load and store with no lock prefix and no
// cache line shared with another writer; readers take the registry mutex
// and read relaxed, so a listing is a consistent set of actors with
// counters that may be a few messages old.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace herald::actors {

enum class actor_kind : uint8_t {
  router,
  topic,
  connection,
  supervisor,
  monitor,
  channel
};

/// The kind's name as the console shows it.
const char* to_string(actor_kind kind);

/// Counters with a single writer (the actor they belong to).
struct actor_counters {
  using cell = std::atomic<uint64_t>;
  cell handled{0};   ///< messages handled
  cell delivered{0}; ///< frames queued to a socket, or deliveries fanned out
  cell filtered{0};  ///< deliveries suppressed by the audience filter
  cell dropped{0};   ///< frames dropped (closing or overflowing socket)
  cell mailbox{0};   ///< mailbox depth, sampled every few messages

  /// Adds `n` to a cell of this block; only the owning actor calls this.
  static void bump(cell& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

/// How often (in handled messages) an actor samples its mailbox depth.
/// Sampling moves what senders pushed into the actor's own queue, work the
/// actor does anyway; every 64 messages keeps it out of the profile.
constexpr uint64_t mailbox_sample_every = 64;

/// One live actor as a listing shows it.
struct actor_row {
  uint64_t id = 0;
  actor_kind kind = actor_kind::connection;
  std::string name;
  uint64_t parent = 0;
  int64_t started_ms = 0; ///< system clock, ms since the epoch
  uint64_t handled = 0;
  uint64_t delivered = 0;
  uint64_t filtered = 0;
  uint64_t dropped = 0;
  uint64_t mailbox = 0;
  /// What the actor says of its state (a supervisor: its children and
  /// theirs); empty for most.
  std::string state;
};

/// Sums of the delivery counters, live and retired.
struct delivery_totals {
  uint64_t delivered = 0;
  uint64_t filtered = 0;
  uint64_t dropped = 0;
};

class actor_registry {
public:
  /// Enrolls an actor; the returned block stays valid until `retire(id)`.
  actor_counters* enroll(uint64_t id, actor_kind kind, std::string name,
                         uint64_t parent);

  /// Sets what `id` shows as its state (rare: supervisors, on change).
  void set_state(uint64_t id, std::string state);

  /// Removes an actor, keeping its connection counters in the totals.
  void retire(uint64_t id);

  /// Every live actor, ordered by id.
  std::vector<actor_row> list() const;

  /// Connection delivery counters over the node's life.
  delivery_totals connection_totals() const;

  /// Live actors of one kind.
  size_t count(actor_kind kind) const;

private:
  struct entry {
    actor_kind kind;
    std::string name;
    uint64_t parent;
    int64_t started_ms;
    std::string state;
    actor_counters counters;
  };
  mutable std::mutex mtx_;
  // Node-based: a block's address is stable while other actors come and go.
  std::unordered_map<uint64_t, entry> live_;
  delivery_totals retired_;
};

} // namespace herald::actors
