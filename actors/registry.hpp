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

#include "protocol/identity.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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
  channel,
  node,     ///< the cluster member
  store,    ///< the plugins' record store
  inspector ///< this registry's reader (docs/console.md)
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
  /// A kind-specific gauge: a topic's subscribers, a connection's
  /// subscriptions.
  cell gauge{0};
  cell last_seq{0}; ///< a topic: the sequence of its last event

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
  uint64_t gauge = 0;
  uint64_t last_seq = 0;
  /// Messages a second over the inspector's last sample, and when it last
  /// saw `handled` move (0: never).
  double rate = 0;
  int64_t last_active_ms = 0;
  /// What the actor says of its state (a supervisor: its children and
  /// theirs; a connection: its endpoint); empty for most.
  std::string state;
  /// A connection's identity and patterns: filled by find() and holding().
  std::shared_ptr<const protocol::identity> who;
  std::string remote; ///< a connection's peer "ip:port" (find() only)
  std::vector<std::string> subscriptions;
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

  /// A connection's identity (once, at start).
  /// `remote`: the peer's "ip:port".
  void set_identity(uint64_t id, std::shared_ptr<const protocol::identity> who,
                    std::string remote = {});

  /// A connection's patterns, after each subscribe or unsubscribe frame.
  void set_subscriptions(uint64_t id, std::vector<std::string> patterns);

  /// How the admin API stops `id` (a connection: close its socket with a
  /// reason; a channel or monitor: end it for its supervisor to restart).
  /// Actors without one cannot be stopped from the console.
  void set_stopper(uint64_t id, std::function<void(const std::string&)> stop);

  enum class stop_result { stopped, not_found, refused };
  /// Calls `id`'s stopper (outside the lock).
  stop_result stop(uint64_t id, const std::string& reason);

  /// The inspector's pass (about once a second): each actor's message
  /// rate since the last pass, and when `handled` last moved.
  void sample(int64_t now_ms);

  /// One actor with its identity and subscriptions, if live.
  std::optional<actor_row> find(uint64_t id) const;

  /// The live actors whose parent is `id`.
  std::vector<actor_row> children_of(uint64_t id) const;

  /// The live connections holding exactly `pattern`.
  std::vector<actor_row> holding(const std::string& pattern) const;

  /// Removes an actor, keeping its connection counters in the totals.
  void retire(uint64_t id);

  using row_filter = std::function<bool(actor_kind, const std::string& name)>;
  /// Every live actor (that `keep` keeps, when given), ordered by id;
  /// without identities and subscriptions.
  std::vector<actor_row> list(const row_filter& keep = {}) const;

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
    std::shared_ptr<const protocol::identity> who;
    std::string remote;
    std::vector<std::string> subscriptions;
    std::function<void(const std::string&)> stopper;
    // The sampler's, under the mutex.
    uint64_t sampled_handled = 0;
    int64_t sampled_ms = 0;
    double rate = 0;
    int64_t last_active_ms = 0;
    actor_counters counters;
  };
  static actor_row row_of(uint64_t id, const entry& e);
  mutable std::mutex mtx_;
  // Node-based: a block's address is stable while other actors come and go.
  std::unordered_map<uint64_t, entry> live_;
  delivery_totals retired_;
};

} // namespace herald::actors
