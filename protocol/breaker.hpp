#pragma once

// The circuit breaker state machine behind each service's monitor actor:
// closed (calls go out, results counted), open (calls refused for
// `open_ms`), half-open (a few trial calls decide between closed and open).
//
// A plain class with no clock and no timer: every call takes the caller's
// `now_ms`, and the open -> half-open change happens in admit(), so the
// owner schedules its own wake-up at next_attempt_ms(). Not thread-safe by
// design; one owner (the monitor actor). After construction nothing
// allocates except the transitions a state change appends.

#include <cstdint>
#include <string>
#include <vector>

namespace herald::protocol {

/// What opens a breaker, how long it stays open, and what closes it again.
struct breaker_settings {
  enum class trip_rule { consecutive, ratio };
  trip_rule trip = trip_rule::consecutive;
  /// consecutive: this many failures in a row open it.
  uint32_t failure_threshold = 5;
  /// ratio: failures/results over the window at or above this open it.
  double failure_ratio = 0.5;
  /// ratio: the last N results.
  uint32_t window = 20;
  /// ratio: no trip before this many results in the window.
  uint32_t min_results = 10;
  /// Open this long, then half-open.
  uint32_t open_ms = 30000;
  /// Calls admitted while half-open (at once).
  uint32_t half_open_trials = 3;
  /// Successes in half-open that close it (at most half_open_trials).
  uint32_t close_after = 2;
};

/// The largest `window` check() accepts: the ring costs a byte per result.
constexpr uint32_t max_breaker_window = 100000;

/// Validates; returns the problem, naming the member (e.g. `close_after:
/// must be at most half_open_trials`), or empty.
std::string check(const breaker_settings& settings);

enum class breaker_state { closed, open, half_open };

/// `closed`, `open`, `half_open`.
const char* to_string(breaker_state state);

/// One state change, as take_transitions() reports it.
struct breaker_transition {
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  std::string reason;
  int64_t at_ms = 0;
};

class circuit_breaker {
public:
  /// Expects settings that check() accepts; others are clamped into range
  /// (window 1..max_breaker_window, half_open_trials >= 1, close_after
  /// 1..half_open_trials) so that the breaker never misbehaves.
  explicit circuit_breaker(breaker_settings settings);

  /// May a call go out at `now_ms`? Closed: yes. Open: no until `open_ms`
  /// passed since opening, then it turns half-open (a transition) and
  /// admits. Half-open: yes while fewer than `half_open_trials` admitted
  /// calls are unsettled in this half-open period; each yes takes a slot
  /// until its result is recorded. Forced open: no until reset().
  bool admit(int64_t now_ms);

  /// Records a call's success. Closed: clears the consecutive count and, in
  /// ratio mode, may still trip (the ratio is checked after every result).
  /// Half-open: settles a trial; `close_after` of them close the breaker.
  /// Open, or half-open with no trial unsettled (a late answer): counted in
  /// the totals only.
  void record_success(int64_t now_ms);

  /// Records a call's failure. Closed: may trip. Half-open: a failed trial
  /// reopens at once (opened_at = now). Open, or half-open with no trial
  /// unsettled (a late answer): counted in the totals only.
  void record_failure(int64_t now_ms);

  /// An admin reset: closed, window, consecutive count and trials cleared
  /// (the lifetime totals and times_opened are kept). Always reported as a
  /// transition, even from closed.
  void reset(int64_t now_ms, std::string reason = "reset");

  /// Opened from outside (a supervisor gave up on its child): stays open,
  /// admit() false, until reset(). Always reported as a transition, even
  /// when already open.
  void force_open(int64_t now_ms, std::string reason);

  breaker_state state() const { return state_; }

  /// True while force_open() holds the breaker open.
  bool held() const { return held_; }

  /// The state changes since the last call, oldest first; each is reported
  /// once.
  std::vector<breaker_transition> take_transitions();

  const breaker_settings& settings() const { return settings_; }

  /// Failures in a row while closed (counted in both trip modes).
  uint32_t consecutive_failures() const { return consecutive_; }

  /// Results in the ratio window (0 in consecutive mode).
  uint32_t window_results() const { return window_count_; }

  /// Failures among them.
  uint32_t window_failures() const { return window_failures_; }

  /// When the current open period began (kept through half-open); -1 when
  /// closed.
  int64_t opened_at_ms() const;

  /// Open and not held: opened_at + open_ms, when admit() will admit a
  /// trial. Otherwise -1.
  int64_t next_attempt_ms() const;

  /// Half-open: trials admitted and not yet settled; 0 otherwise.
  uint32_t trials_in_flight() const { return in_flight_; }

  /// Half-open: trials that succeeded in this half-open period.
  uint32_t trial_successes() const { return trial_successes_; }

  /// Every result ever recorded, in any state (late answers included).
  uint64_t total_successes() const { return total_successes_; }
  uint64_t total_failures() const { return total_failures_; }

  /// Entries into open from another state (forced ones included).
  uint64_t times_opened() const { return times_opened_; }

private:
  void observe(int64_t now_ms);
  void record_closed(bool failed, int64_t now_ms);
  void enter(breaker_state to, int64_t now_ms, std::string reason);
  void clear_window();

  breaker_settings settings_;
  breaker_state state_ = breaker_state::closed;
  bool held_ = false;
  int64_t last_ms_;
  int64_t opened_at_ms_ = -1;
  uint32_t consecutive_ = 0;
  // The ratio window: one byte per result (1 = failure), `window_next_` the
  // slot the next result overwrites. Sized once, in the constructor.
  std::vector<uint8_t> window_;
  uint32_t window_next_ = 0;
  uint32_t window_count_ = 0;
  uint32_t window_failures_ = 0;
  uint32_t in_flight_ = 0;
  uint32_t trial_successes_ = 0;
  uint64_t total_successes_ = 0;
  uint64_t total_failures_ = 0;
  uint64_t times_opened_ = 0;
  std::vector<breaker_transition> transitions_;
};

} // namespace herald::protocol
