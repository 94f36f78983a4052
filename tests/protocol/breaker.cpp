#define CAF_SUITE protocol.breaker
#include <caf/test/unit_test.hpp>

#include "tests/protocol/breaker_helpers.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace herald::protocol;
using namespace herald::protocol::breaker_testing;

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
    CAF_CHECK(b.admit(i));
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
  CAF_CHECK(!b.admit(clock.now));
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
