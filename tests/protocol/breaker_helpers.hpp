#pragma once

// Shared by the breaker suites: a clock moved by hand and short ways to
// bring a breaker into a state.

#include "protocol/breaker.hpp"

#include <caf/test/unit_test.hpp>

#include <cstdint>
#include <string>

namespace herald::protocol::breaker_testing {

using trip_rule = breaker_settings::trip_rule;

constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half_open = breaker_state::half_open;

// The breaker reads no clock; the tests move this one by hand.
struct fake_clock {
  int64_t now = 1000;
  int64_t advance(int64_t ms) { return now += ms; }
};

inline breaker_settings consecutive_settings() {
  return {}; // 5 in a row, open 30 s, 3 trials, 2 successes close
}

inline breaker_settings ratio_settings() {
  breaker_settings s;
  s.trip = trip_rule::ratio;
  s.failure_ratio = 0.5;
  s.window = 10;
  s.min_results = 4;
  return s;
}

inline void fail_n(circuit_breaker& b, int n, int64_t now_ms) {
  for (int i = 0; i < n; ++i)
    b.record_failure(now_ms);
}

// Opens a consecutive-mode breaker at `now_ms` and drops the transition.
inline void trip(circuit_breaker& b, int64_t now_ms) {
  fail_n(b, static_cast<int>(b.settings().failure_threshold), now_ms);
  CAF_REQUIRE_EQUAL(b.state(), open);
  b.take_transitions();
}

// Brings an open breaker to half-open with one trial admitted.
inline void to_half_open(circuit_breaker& b, fake_clock& clock) {
  clock.now = b.next_attempt_ms();
  CAF_REQUIRE(b.admit(clock.now));
  CAF_REQUIRE_EQUAL(b.state(), half_open);
  b.take_transitions();
}

inline bool same(const breaker_transition& t, breaker_state from,
                 breaker_state to, const std::string& reason, int64_t at_ms) {
  return t.from == from && t.to == to && t.reason == reason && t.at_ms == at_ms;
}

} // namespace herald::protocol::breaker_testing
