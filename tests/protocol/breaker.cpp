#define CAF_SUITE protocol.breaker
#include <caf/test/unit_test.hpp>

#include "protocol/breaker.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

using trip_rule = breaker_settings::trip_rule;

constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half_open = breaker_state::half_open;

// The breaker reads no clock; the tests move this one by hand.
struct fake_clock {
  int64_t now = 1000;
  int64_t advance(int64_t ms) { return now += ms; }
};

breaker_settings consecutive_settings() {
  return {}; // 5 in a row, open 30 s, 3 trials, 2 successes close
}

breaker_settings ratio_settings() {
  breaker_settings s;
  s.trip = trip_rule::ratio;
  s.failure_ratio = 0.5;
  s.window = 10;
  s.min_results = 4;
  return s;
}

void fail_n(circuit_breaker& b, int n, int64_t now_ms) {
  for (int i = 0; i < n; ++i)
    b.record_failure(now_ms);
}

// Opens a consecutive-mode breaker at `now_ms` and drops the transition.
void trip(circuit_breaker& b, int64_t now_ms) {
  fail_n(b, static_cast<int>(b.settings().failure_threshold), now_ms);
  CAF_REQUIRE_EQUAL(b.state(), open);
  b.take_transitions();
}

// Brings an open breaker to half-open with one trial admitted.
void to_half_open(circuit_breaker& b, fake_clock& clock) {
  clock.now = b.next_attempt_ms();
  CAF_REQUIRE(b.allow(clock.now));
  CAF_REQUIRE_EQUAL(b.state(), half_open);
  b.take_transitions();
}

bool same(const breaker_transition& t, breaker_state from, breaker_state to,
          const std::string& reason, int64_t at_ms) {
  return t.from == from && t.to == to && t.reason == reason && t.at_ms == at_ms;
}

} // namespace

CAF_TEST(check accepts the defaults) {
  CAF_CHECK_EQUAL(check(breaker_settings{}), "");
  CAF_CHECK_EQUAL(check(ratio_settings()), "");
  auto edge = breaker_settings{};
  edge.failure_ratio = 1.0;
  edge.window = 1;
  edge.min_results = 1;
  edge.open_ms = 1;
  edge.half_open_trials = 1;
  edge.close_after = 1;
  CAF_CHECK_EQUAL(check(edge), "");
}

CAF_TEST(check names the member at fault) {
  auto with = [](auto change) {
    breaker_settings s;
    change(s);
    return check(s);
  };
  CAF_CHECK_EQUAL(with([](auto& s) { s.failure_threshold = 0; }),
                  "failure_threshold: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.failure_ratio = 0.0; }),
                  "failure_ratio: must be above 0 and at most 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.failure_ratio = 1.01; }),
                  "failure_ratio: must be above 0 and at most 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.failure_ratio = std::nan(""); }),
                  "failure_ratio: must be above 0 and at most 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.window = 0; }),
                  "window: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.window = max_breaker_window + 1; }),
                  "window: must be at most 100000");
  CAF_CHECK_EQUAL(with([](auto& s) { s.min_results = 0; }),
                  "min_results: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.min_results = 21; }),
                  "min_results: must be at most window");
  CAF_CHECK_EQUAL(with([](auto& s) { s.open_ms = 0; }),
                  "open_ms: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.half_open_trials = 0; }),
                  "half_open_trials: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.close_after = 0; }),
                  "close_after: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.close_after = 4; }),
                  "close_after: must be at most half_open_trials");
}

CAF_TEST(state names) {
  CAF_CHECK_EQUAL(std::string{to_string(closed)}, "closed");
  CAF_CHECK_EQUAL(std::string{to_string(open)}, "open");
  CAF_CHECK_EQUAL(std::string{to_string(half_open)}, "half_open");
}

CAF_TEST(a new breaker is closed and admits) {
  circuit_breaker b{consecutive_settings()};
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK(!b.held());
  for (int i = 0; i < 100; ++i)
    CAF_CHECK(b.allow(i));
  CAF_CHECK_EQUAL(b.opened_at_ms(), -1);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), -1);
  CAF_CHECK_EQUAL(b.times_opened(), 0u);
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(consecutive failures open it) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  fail_n(b, 4, clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 4u);
  CAF_CHECK(b.take_transitions().empty());
  b.record_failure(clock.advance(7));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), 1007);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), 31007);
  CAF_CHECK_EQUAL(b.times_opened(), 1u);
  CAF_CHECK(!b.allow(clock.now));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], closed, open, "5 consecutive failures", 1007));
  // Reported once.
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(a success resets the consecutive count) {
  circuit_breaker b{consecutive_settings()};
  fail_n(b, 4, 0);
  b.record_success(0);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 0u);
  fail_n(b, 4, 0);
  CAF_CHECK_EQUAL(b.state(), closed);
  b.record_failure(0);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.total_failures(), 9u);
  CAF_CHECK_EQUAL(b.total_successes(), 1u);
}

CAF_TEST(a threshold of one opens on the first failure) {
  auto s = consecutive_settings();
  s.failure_threshold = 1;
  circuit_breaker b{s};
  b.record_failure(5);
  CAF_CHECK_EQUAL(b.state(), open);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], closed, open, "1 consecutive failure", 5));
}

CAF_TEST(ratio below min_results does not trip) {
  circuit_breaker b{ratio_settings()}; // min_results 4
  fail_n(b, 3, 0);
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.window_results(), 3u);
  CAF_CHECK_EQUAL(b.window_failures(), 3u);
  // Ratio mode ignores failure_threshold, however long the run.
  auto s = ratio_settings();
  s.failure_threshold = 1;
  s.min_results = 10;
  circuit_breaker c{s};
  fail_n(c, 9, 0);
  CAF_CHECK_EQUAL(c.state(), closed);
  CAF_CHECK_EQUAL(c.consecutive_failures(), 9u);
  c.record_failure(0);
  CAF_CHECK_EQUAL(c.state(), open);
}

CAF_TEST(ratio at the threshold opens it) {
  circuit_breaker b{ratio_settings()}; // 0.5 over at least 4
  b.record_success(10);
  b.record_failure(11);
  b.record_success(12);
  CAF_CHECK_EQUAL(b.state(), closed);
  b.record_failure(13); // 2 of 4: exactly 0.5
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), 13);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], closed, open, "failure ratio 0.50 over 4 results", 13));
}

CAF_TEST(ratio reason with a fraction) {
  auto s = ratio_settings();
  s.min_results = 10;
  circuit_breaker b{s};
  for (int i = 0; i < 4; ++i)
    b.record_success(0);
  fail_n(b, 5, 0);
  CAF_CHECK_EQUAL(b.state(), closed); // 9 results: below min_results
  b.record_failure(0);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK_EQUAL(ts[0].reason, "failure ratio 0.60 over 10 results");
}

CAF_TEST(ratio is checked after a success too) {
  // The success that completes min_results finds 3 of 4 failed.
  circuit_breaker b{ratio_settings()};
  fail_n(b, 3, 0);
  b.record_success(1);
  CAF_CHECK_EQUAL(b.state(), open);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK_EQUAL(ts[0].reason, "failure ratio 0.75 over 4 results");
}

CAF_TEST(ratio window is a ring of the last results) {
  auto s = ratio_settings();
  s.window = 4;
  s.min_results = 4;
  s.failure_ratio = 0.75;
  circuit_breaker b{s};
  b.record_failure(0);
  b.record_failure(0);
  b.record_success(0);
  b.record_success(0); // F F S S: 0.5
  CAF_CHECK_EQUAL(b.window_results(), 4u);
  CAF_CHECK_EQUAL(b.window_failures(), 2u);
  b.record_success(0); // F S S S: the first failure left
  CAF_CHECK_EQUAL(b.window_results(), 4u);
  CAF_CHECK_EQUAL(b.window_failures(), 1u);
  b.record_failure(0); // S S S F
  b.record_failure(0); // S S F F
  CAF_CHECK_EQUAL(b.window_failures(), 2u);
  CAF_CHECK_EQUAL(b.state(), closed);
  b.record_failure(0); // S F F F: 0.75
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.window_failures(), 3u);
}

CAF_TEST(many results keep the ring consistent) {
  auto s = ratio_settings();
  s.window = 7;
  s.min_results = 7;
  s.failure_ratio = 1.0;
  circuit_breaker b{s};
  // A pattern of one failure in three, long enough to wrap many times.
  for (int i = 0; i < 1000; ++i) {
    if (i % 3 == 0)
      b.record_failure(i);
    else
      b.record_success(i);
    uint32_t expected = 0;
    for (int j = std::max(0, i - 6); j <= i; ++j)
      expected += j % 3 == 0 ? 1 : 0;
    CAF_REQUIRE_EQUAL(b.window_failures(), expected);
  }
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.window_results(), 7u);
}

CAF_TEST(open refuses until exactly open_ms) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now); // opened at 1000
  CAF_CHECK(!b.allow(clock.now));
  CAF_CHECK(!b.allow(1000 + 29999));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.take_transitions().empty());
  CAF_CHECK(b.allow(1000 + 30000));
  CAF_CHECK_EQUAL(b.state(), half_open);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), -1);
  CAF_CHECK_EQUAL(b.opened_at_ms(), 1000);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 1u);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, half_open, "open for 30000 ms", 31000));
}

CAF_TEST(a late first allow reports the time actually spent open) {
  circuit_breaker b{consecutive_settings()};
  trip(b, 0);
  CAF_CHECK(b.allow(45000));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, half_open, "open for 45000 ms", 45000));
}

CAF_TEST(half open admits exactly half_open_trials) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()}; // 3 trials, 2 close
  trip(b, clock.now);
  to_half_open(b, clock); // trial 1
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK_EQUAL(b.trials_in_flight(), 3u);
  CAF_CHECK(!b.allow(clock.now));
  // Time alone frees nothing: the owner records a timeout as a failure.
  CAF_CHECK(!b.allow(clock.advance(1000000)));
  // A settled trial frees its slot.
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), half_open);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 2u);
  CAF_CHECK_EQUAL(b.trial_successes(), 1u);
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK(!b.allow(clock.now));
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(half open closes after close_after successes) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK(b.allow(clock.now));
  b.record_success(clock.advance(5));
  CAF_CHECK_EQUAL(b.state(), half_open);
  b.record_success(clock.advance(5));
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.opened_at_ms(), -1);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 0u);
  CAF_CHECK_EQUAL(b.trial_successes(), 0u);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 0u);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(
      same(ts[0], half_open, closed, "2 successes in half-open", clock.now));
  // The third trial answers while closed: an ordinary closed result.
  b.record_failure(clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 1u);
  CAF_CHECK(b.allow(clock.now));
}

CAF_TEST(one success closes when close_after is one) {
  auto s = consecutive_settings();
  s.half_open_trials = 1;
  s.close_after = 1;
  fake_clock clock;
  circuit_breaker b{s};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(!b.allow(clock.now));
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK_EQUAL(ts[0].reason, "1 success in half-open");
}

CAF_TEST(a failure in half open reopens at once) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now); // opened at 1000
  to_half_open(b, clock);
  CAF_CHECK(b.allow(clock.now));
  b.record_success(clock.advance(3)); // one success is not enough
  b.record_failure(clock.advance(4));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), clock.now);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), clock.now + 30000);
  CAF_CHECK_EQUAL(b.times_opened(), 2u);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 0u);
  CAF_CHECK_EQUAL(b.trial_successes(), 0u);
  CAF_CHECK(!b.allow(clock.now + 29999));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], half_open, open, "failure in half-open", clock.now));
  // The reopened period runs its full length from the failure.
  CAF_CHECK(b.allow(clock.now + 30000));
  CAF_CHECK_EQUAL(b.state(), half_open);
}

CAF_TEST(the other trials answer late after a reopen) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK(b.allow(clock.now));
  b.record_failure(clock.now);
  CAF_REQUIRE_EQUAL(b.state(), open);
  b.take_transitions();
  b.record_success(clock.now);
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(late results while open are counted but change nothing) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  auto at = b.opened_at_ms();
  for (int i = 0; i < 10; ++i) {
    b.record_success(clock.advance(1));
    b.record_failure(clock.advance(1));
  }
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), at);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), at + 30000);
  CAF_CHECK_EQUAL(b.total_successes(), 10u);
  CAF_CHECK_EQUAL(b.total_failures(), 15u);
  CAF_CHECK_EQUAL(b.times_opened(), 1u);
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(results in half open with no trial unsettled are ignored) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  b.record_success(clock.now); // the admitted trial
  CAF_CHECK_EQUAL(b.trials_in_flight(), 0u);
  // Answers to calls made before the breaker opened.
  b.record_success(clock.now);
  b.record_failure(clock.now);
  CAF_CHECK_EQUAL(b.state(), half_open);
  CAF_CHECK_EQUAL(b.trial_successes(), 1u);
  CAF_CHECK(b.take_transitions().empty());
  CAF_CHECK_EQUAL(b.total_successes(), 2u);
  CAF_CHECK_EQUAL(b.total_failures(), 6u);
}

CAF_TEST(reset from closed) {
  circuit_breaker b{ratio_settings()};
  b.record_failure(0);
  b.record_failure(0);
  b.record_success(0);
  b.reset(10);
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.window_results(), 0u);
  CAF_CHECK_EQUAL(b.window_failures(), 0u);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 0u);
  // Lifetime totals survive a reset.
  CAF_CHECK_EQUAL(b.total_failures(), 2u);
  CAF_CHECK_EQUAL(b.total_successes(), 1u);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], closed, closed, "reset", 10));
}

CAF_TEST(reset from open) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  b.reset(clock.advance(1), "operator cleared it");
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK(b.allow(clock.now));
  CAF_CHECK_EQUAL(b.opened_at_ms(), -1);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), -1);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 0u);
  CAF_CHECK_EQUAL(b.times_opened(), 1u);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, closed, "operator cleared it", clock.now));
  // Counting starts over: four more failures do not open it.
  fail_n(b, 4, clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
}

CAF_TEST(reset from half open) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(b.allow(clock.now));
  b.reset(clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 0u);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], half_open, closed, "reset", clock.now));
  // The outstanding trial answers into a closed breaker.
  b.record_failure(clock.now);
  CAF_CHECK_EQUAL(b.consecutive_failures(), 1u);
}

CAF_TEST(force open holds until reset) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  b.force_open(clock.now, "supervisor gave up");
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.held());
  CAF_CHECK_EQUAL(b.opened_at_ms(), clock.now);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), -1);
  CAF_CHECK_EQUAL(b.times_opened(), 1u);
  CAF_CHECK(!b.allow(clock.advance(30000)));
  CAF_CHECK(!b.allow(clock.advance(86400000)));
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), open);
  b.reset(clock.advance(1));
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK(!b.held());
  CAF_CHECK(b.allow(clock.now));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 2u);
  CAF_CHECK(same(ts[0], closed, open, "supervisor gave up", 1000));
  CAF_CHECK(same(ts[1], open, closed, "reset", clock.now));
}

CAF_TEST(force open from open and half open) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  b.force_open(clock.advance(10), "held");
  CAF_CHECK(b.held());
  CAF_CHECK_EQUAL(b.times_opened(), 1u); // it was open already
  CAF_CHECK_EQUAL(b.opened_at_ms(), clock.now);
  CAF_CHECK(!b.allow(clock.advance(60000)));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, open, "held", 1010));

  circuit_breaker c{consecutive_settings()};
  clock.now = 1000;
  trip(c, clock.now);
  to_half_open(c, clock);
  c.force_open(clock.now, "held");
  CAF_CHECK_EQUAL(c.state(), open);
  CAF_CHECK_EQUAL(c.times_opened(), 2u);
  CAF_CHECK_EQUAL(c.trials_in_flight(), 0u);
  CAF_CHECK(!c.allow(clock.advance(60000)));
  c.record_failure(clock.now); // the trial, late
  CAF_CHECK_EQUAL(c.state(), open);
  ts = c.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], half_open, open, "held", 31000));
}

CAF_TEST(a clock stepping back counts as no time passed) {
  circuit_breaker b{consecutive_settings()};
  trip(b, 10000);             // opened at 10000, due at 40000
  CAF_CHECK(!b.allow(20000)); // 10 s served
  CAF_CHECK(!b.allow(5000));  // back 15 s: still 10 s served
  CAF_CHECK_EQUAL(b.next_attempt_ms(), 25000);
  CAF_CHECK(!b.allow(24999));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.allow(25000));
  CAF_CHECK_EQUAL(b.state(), half_open);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, half_open, "open for 30000 ms", 25000));
  // A huge step back does not stall an open breaker for as long.
  circuit_breaker c{consecutive_settings()};
  trip(c, 1000000000);
  CAF_CHECK(!c.allow(0));
  CAF_CHECK(c.allow(30000));
  (void)clock;
}

CAF_TEST(a clock stepping back in closed and half open) {
  circuit_breaker b{consecutive_settings()};
  fail_n(b, 4, 5000);
  CAF_CHECK(b.allow(100)); // closed: time does not matter
  b.record_failure(100);   // the fifth in a row, earlier by the clock
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), 100);
  CAF_CHECK(b.allow(30100));
  CAF_CHECK(b.allow(50)); // half-open: slots, not time
  CAF_CHECK(b.allow(40));
  CAF_CHECK(!b.allow(30));
  b.record_failure(20);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), 30020);
  CAF_CHECK(!b.allow(30019));
  CAF_CHECK(b.allow(30020));
}

CAF_TEST(closing clears the ratio window) {
  fake_clock clock;
  circuit_breaker b{ratio_settings()}; // 0.5 over at least 4
  fail_n(b, 4, clock.now);
  CAF_REQUIRE_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.window_results(), 4u); // what tripped it, still visible
  clock.now = b.next_attempt_ms();
  CAF_REQUIRE(b.allow(clock.now));
  CAF_REQUIRE(b.allow(clock.now));
  b.record_success(clock.now);
  b.record_success(clock.now);
  CAF_REQUIRE_EQUAL(b.state(), closed);
  CAF_CHECK_EQUAL(b.window_results(), 0u);
  CAF_CHECK_EQUAL(b.window_failures(), 0u);
  // min_results applies again from scratch.
  fail_n(b, 3, clock.now);
  CAF_CHECK_EQUAL(b.state(), closed);
  b.record_failure(clock.now);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.times_opened(), 2u);
}

CAF_TEST(transitions are reported once and oldest first) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  fail_n(b, 5, clock.now);                  // closed -> open
  CAF_CHECK(b.allow(clock.advance(30000))); // open -> half-open
  b.record_failure(clock.advance(1));       // half-open -> open
  CAF_CHECK(b.allow(clock.advance(30000))); // open -> half-open
  CAF_CHECK(b.allow(clock.now));
  b.record_success(clock.advance(1));
  b.record_success(clock.advance(1));        // half-open -> closed
  b.force_open(clock.advance(1), "gave up"); // closed -> open
  b.reset(clock.advance(1));                 // open -> closed
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 7u);
  CAF_CHECK(same(ts[0], closed, open, "5 consecutive failures", 1000));
  CAF_CHECK(same(ts[1], open, half_open, "open for 30000 ms", 31000));
  CAF_CHECK(same(ts[2], half_open, open, "failure in half-open", 31001));
  CAF_CHECK(same(ts[3], open, half_open, "open for 30000 ms", 61001));
  CAF_CHECK(same(ts[4], half_open, closed, "2 successes in half-open", 61003));
  CAF_CHECK(same(ts[5], closed, open, "gave up", 61004));
  CAF_CHECK(same(ts[6], open, closed, "reset", 61005));
  CAF_CHECK(b.take_transitions().empty());
  CAF_CHECK_EQUAL(b.times_opened(), 3u);
  // New changes after a take are reported on the next one only.
  b.force_open(clock.advance(1), "again");
  ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK_EQUAL(ts[0].reason, "again");
}

CAF_TEST(settings that check refuses are clamped) {
  breaker_settings s;
  s.trip = trip_rule::ratio;
  s.window = 0;
  s.min_results = 1;
  s.half_open_trials = 0;
  s.close_after = 0;
  circuit_breaker b{s};
  CAF_CHECK_EQUAL(b.settings().window, 1u);
  CAF_CHECK_EQUAL(b.settings().half_open_trials, 1u);
  CAF_CHECK_EQUAL(b.settings().close_after, 1u);
  b.record_success(0);
  b.record_success(0);
  CAF_CHECK_EQUAL(b.window_results(), 1u);
  b.record_failure(0);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.allow(30000));
  CAF_CHECK(!b.allow(30000));
  b.record_success(30000);
  CAF_CHECK_EQUAL(b.state(), closed);
}
