#pragma once

// The restart policy behind every supervisor: when a child fails, restart
// it after an exponential backoff, unless it already used up its intensity
// (at most `max_restarts` restarts within a sliding `within_ms`); then give
// up on it for good, until an operator calls reset().
//
// The strategy, as a supervisor documents it:
// - the first failure, and the first after a run of `reset_after_ms` or
//   more, waits `backoff_initial_ms`; each further quick failure waits
//   `backoff_factor` times longer, at most `backoff_max_ms`;
// - a restart counts against the intensity from the moment it is decided
//   (the failure), not from when the delayed start happens;
// - a failure that would make the (max_restarts+1)-th restart within
//   `within_ms` gives up instead; giving up is sticky.
//
// A plain class with no clock and no timer, like circuit_breaker: the
// caller passes `now_ms` and schedules the restart itself. Not thread-safe;
// one per child, owned by its supervisor. After construction nothing
// allocates but the reason strings.

#include <cstdint>
#include <string>
#include <vector>

namespace herald::protocol {

/// How a supervisor restarts one child: the backoff and the intensity limit.
struct restart_settings {
  /// Intensity: at most this many restarts ...
  uint32_t max_restarts = 5;
  /// ... within this sliding window.
  uint32_t within_ms = 60000;
  /// The delay before the first restart of a run of quick failures.
  uint32_t backoff_initial_ms = 100;
  /// The delay never grows beyond this.
  uint32_t backoff_max_ms = 10000;
  /// Each quick failure multiplies the delay by this (>= 1; 1 keeps it
  /// constant).
  double backoff_factor = 2.0;
  /// A child up this long without failing starts again from
  /// backoff_initial_ms.
  uint32_t reset_after_ms = 30000;
};

/// The largest `max_restarts` check() accepts: the window keeps 8 bytes per
/// restart, allocated up front.
constexpr uint32_t max_restart_intensity = 10000;

/// Validates; returns the problem, naming the member (e.g. `backoff_max_ms:
/// must be at least backoff_initial_ms`), or empty.
std::string check(const restart_settings& settings);

/// What to do with a child that just failed.
struct restart_decision {
  /// False: give up on the child.
  bool restart = false;
  /// Restart after this long (0 when giving up).
  uint32_t delay_ms = 0;
  /// Restarts within the window: this one included when restarting; the
  /// ones that used up the intensity when giving up.
  uint32_t restarts_in_window = 0;
  /// For logs and alerts: "restart 3 of 5 in 60000 ms, after 400 ms",
  /// "gave up: 6 failures within 60000 ms".
  std::string reason;
};

class restart_policy {
public:
  /// Expects settings that check() accepts; others are clamped into range
  /// (max_restarts at most max_restart_intensity, within_ms >= 1,
  /// backoff_max_ms >= backoff_initial_ms, a backoff_factor below 1 or NaN
  /// taken as 1) so that the policy never misbehaves.
  explicit restart_policy(restart_settings settings);

  /// The child failed at `now_ms` (it had been started at `started_at_ms`,
  /// on the same clock). Restart after `delay_ms`, or give up (restart
  /// false) when this restart would be the (max_restarts+1)-th within
  /// `within_ms`. The delay is backoff_initial_ms * backoff_factor^k,
  /// capped at backoff_max_ms and rounded to the nearest ms, where k counts
  /// the quick failures before this one; a child that ran reset_after_ms or
  /// more resets k to 0. A start after `now_ms` (the clock stepped back
  /// while the child ran) counts as a quick failure. Once given up, every
  /// call answers the same give-up decision until reset().
  restart_decision on_failure(int64_t now_ms, int64_t started_at_ms);

  /// Clears the history (an operator restarted the child by hand): no
  /// restarts in the window, backoff from backoff_initial_ms, not given up.
  void reset();

  /// Restarts decided within `within_ms` before `now_ms` (a restart exactly
  /// `within_ms` old still counts). Counts those of a given-up child too.
  /// Time is the policy's own: a `now_ms` before the last on_failure()'s
  /// counts as no time passed since it. Does not move the clock.
  uint32_t restarts_in_window(int64_t now_ms) const;

  /// True after a give-up, until reset().
  bool given_up() const { return given_up_; }

  /// The settings in force (after clamping).
  const restart_settings& settings() const { return settings_; }

  /// Quick failures in a row so far: the k of the next delay unless the
  /// child outlives reset_after_ms.
  uint32_t quick_failures() const { return quick_failures_; }

private:
  uint64_t elapsed_to(int64_t now_ms) const;
  void expire();
  uint32_t delay_for(uint32_t k) const;

  restart_settings settings_;
  // The policy's own clock: the sum of the forward steps between the
  // `now_ms` readings of on_failure(), saturating. A step back counts as no
  // time passed, so a clock fix neither expires restarts early nor keeps
  // them for as long as the step.
  uint64_t clock_ms_ = 0;
  int64_t last_ms_ = 0;
  bool seen_clock_ = false;
  // Restart times on `clock_ms_`, oldest first: a ring of max_restarts
  // slots (no restart is recorded beyond it: the next one gives up), sized
  // once in the constructor.
  std::vector<uint64_t> ring_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  uint32_t quick_failures_ = 0;
  bool given_up_ = false;
  // The decision that gave up, repeated while given up.
  restart_decision give_up_;
};

} // namespace herald::protocol
