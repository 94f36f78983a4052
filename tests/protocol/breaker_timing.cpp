#define CAF_SUITE protocol.breaker_timing
#include <caf/test/unit_test.hpp>

#include "tests/protocol/breaker_helpers.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace herald::protocol;
using namespace herald::protocol::breaker_testing;

CAF_TEST(open refuses until exactly open_ms) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now); // opened at 1000
  CAF_CHECK(!b.admit(clock.now));
  CAF_CHECK(!b.admit(1000 + 29999));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.take_transitions().empty());
  CAF_CHECK(b.admit(1000 + 30000));
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
  CAF_CHECK(b.admit(45000));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, half_open, "open for 45000 ms", 45000));
}

CAF_TEST(half open admits exactly half_open_trials) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()}; // 3 trials, 2 close
  trip(b, clock.now);
  to_half_open(b, clock); // trial 1
  CAF_CHECK(b.admit(clock.now));
  CAF_CHECK(b.admit(clock.now));
  CAF_CHECK_EQUAL(b.trials_in_flight(), 3u);
  CAF_CHECK(!b.admit(clock.now));
  // Time alone frees nothing: the owner records a timeout as a failure.
  CAF_CHECK(!b.admit(clock.advance(1000000)));
  // A settled trial frees its slot.
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), half_open);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 2u);
  CAF_CHECK_EQUAL(b.trial_successes(), 1u);
  CAF_CHECK(b.admit(clock.now));
  CAF_CHECK(!b.admit(clock.now));
  CAF_CHECK(b.take_transitions().empty());
}

CAF_TEST(half open closes after close_after successes) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(b.admit(clock.now));
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(b.admit(clock.now));
}

CAF_TEST(one success closes when close_after is one) {
  auto s = consecutive_settings();
  s.half_open_trials = 1;
  s.close_after = 1;
  fake_clock clock;
  circuit_breaker b{s};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(!b.admit(clock.now));
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
  CAF_CHECK(b.admit(clock.now));
  b.record_success(clock.advance(3)); // one success is not enough
  b.record_failure(clock.advance(4));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), clock.now);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), clock.now + 30000);
  CAF_CHECK_EQUAL(b.times_opened(), 2u);
  CAF_CHECK_EQUAL(b.trials_in_flight(), 0u);
  CAF_CHECK_EQUAL(b.trial_successes(), 0u);
  CAF_CHECK(!b.admit(clock.now + 29999));
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], half_open, open, "failure in half-open", clock.now));
  // The reopened period runs its full length from the failure.
  CAF_CHECK(b.admit(clock.now + 30000));
  CAF_CHECK_EQUAL(b.state(), half_open);
}

CAF_TEST(the other trials answer late after a reopen) {
  fake_clock clock;
  circuit_breaker b{consecutive_settings()};
  trip(b, clock.now);
  to_half_open(b, clock);
  CAF_CHECK(b.admit(clock.now));
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(!b.admit(clock.advance(30000)));
  CAF_CHECK(!b.admit(clock.advance(86400000)));
  b.record_success(clock.now);
  CAF_CHECK_EQUAL(b.state(), open);
  b.reset(clock.advance(1));
  CAF_CHECK_EQUAL(b.state(), closed);
  CAF_CHECK(!b.held());
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(!b.admit(clock.advance(60000)));
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
  CAF_CHECK(!c.admit(clock.advance(60000)));
  c.record_failure(clock.now); // the trial, late
  CAF_CHECK_EQUAL(c.state(), open);
  ts = c.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], half_open, open, "held", 31000));
}

CAF_TEST(a clock stepping back counts as no time passed) {
  circuit_breaker b{consecutive_settings()};
  trip(b, 10000);             // opened at 10000, due at 40000
  CAF_CHECK(!b.admit(20000)); // 10 s served
  CAF_CHECK(!b.admit(5000));  // back 15 s: still 10 s served
  CAF_CHECK_EQUAL(b.next_attempt_ms(), 25000);
  CAF_CHECK(!b.admit(24999));
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK(b.admit(25000));
  CAF_CHECK_EQUAL(b.state(), half_open);
  auto ts = b.take_transitions();
  CAF_REQUIRE_EQUAL(ts.size(), 1u);
  CAF_CHECK(same(ts[0], open, half_open, "open for 30000 ms", 25000));
  // A huge step back does not stall an open breaker for as long.
  circuit_breaker c{consecutive_settings()};
  trip(c, 1000000000);
  CAF_CHECK(!c.admit(0));
  CAF_CHECK(c.admit(30000));
  (void)clock;
}

CAF_TEST(a clock stepping back in closed and half open) {
  circuit_breaker b{consecutive_settings()};
  fail_n(b, 4, 5000);
  CAF_CHECK(b.admit(100)); // closed: time does not matter
  b.record_failure(100);   // the fifth in a row, earlier by the clock
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.opened_at_ms(), 100);
  CAF_CHECK(b.admit(30100));
  CAF_CHECK(b.admit(50)); // half-open: slots, not time
  CAF_CHECK(b.admit(40));
  CAF_CHECK(!b.admit(30));
  b.record_failure(20);
  CAF_CHECK_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.next_attempt_ms(), 30020);
  CAF_CHECK(!b.admit(30019));
  CAF_CHECK(b.admit(30020));
}

CAF_TEST(closing clears the ratio window) {
  fake_clock clock;
  circuit_breaker b{ratio_settings()}; // 0.5 over at least 4
  fail_n(b, 4, clock.now);
  CAF_REQUIRE_EQUAL(b.state(), open);
  CAF_CHECK_EQUAL(b.window_results(), 4u); // what tripped it, still visible
  clock.now = b.next_attempt_ms();
  CAF_REQUIRE(b.admit(clock.now));
  CAF_REQUIRE(b.admit(clock.now));
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
  CAF_CHECK(b.admit(clock.advance(30000))); // open -> half-open
  b.record_failure(clock.advance(1));       // half-open -> open
  CAF_CHECK(b.admit(clock.advance(30000))); // open -> half-open
  CAF_CHECK(b.admit(clock.now));
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
  CAF_CHECK(b.admit(30000));
  CAF_CHECK(!b.admit(30000));
  b.record_success(30000);
  CAF_CHECK_EQUAL(b.state(), closed);
}
