#define CAF_SUITE protocol.restart_policy
#include <caf/test/unit_test.hpp>

#include "protocol/restart_policy.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

// The policy reads no clock; the tests pass times by hand. A child that
// fails "quickly" was started at the moment of its last restart decision.
struct child {
  restart_policy policy;
  int64_t started_at = 0;

  // Fails at `now`, and if restarted, starts again at once (the delay does
  // not matter to the policy, only the time it is told).
  restart_decision fail(int64_t now) {
    auto d = policy.on_failure(now, started_at);
    if (d.restart)
      started_at = now;
    return d;
  }
};

restart_settings roomy() {
  restart_settings s;
  s.max_restarts = 100; // the intensity out of the way
  return s;
}

std::vector<uint32_t> delays(child& c, int n, int64_t& now, int64_t step) {
  std::vector<uint32_t> out;
  for (int i = 0; i < n; ++i) {
    auto d = c.fail(now += step);
    CAF_REQUIRE(d.restart);
    out.push_back(d.delay_ms);
  }
  return out;
}

} // namespace

CAF_TEST(check accepts the defaults and the edges) {
  CAF_CHECK_EQUAL(check(restart_settings{}), "");
  restart_settings edge;
  edge.max_restarts = 0;
  edge.within_ms = 1;
  edge.backoff_initial_ms = 0;
  edge.backoff_max_ms = 0;
  edge.backoff_factor = 1.0;
  edge.reset_after_ms = 0;
  CAF_CHECK_EQUAL(check(edge), "");
  edge.max_restarts = max_restart_intensity;
  edge.backoff_initial_ms = 500;
  edge.backoff_max_ms = 500;
  CAF_CHECK_EQUAL(check(edge), "");
}

CAF_TEST(check names the member at fault) {
  auto with = [](auto change) {
    restart_settings s;
    change(s);
    return check(s);
  };
  CAF_CHECK_EQUAL(
      with([](auto& s) { s.max_restarts = max_restart_intensity + 1; }),
      "max_restarts: must be at most 10000");
  CAF_CHECK_EQUAL(with([](auto& s) { s.within_ms = 0; }),
                  "within_ms: must be at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.backoff_max_ms = 99; }),
                  "backoff_max_ms: must be at least backoff_initial_ms");
  CAF_CHECK_EQUAL(with([](auto& s) { s.backoff_factor = 0.999; }),
                  "backoff_factor: must be a number of at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) { s.backoff_factor = std::nan(""); }),
                  "backoff_factor: must be a number of at least 1");
  CAF_CHECK_EQUAL(with([](auto& s) {
                    s.backoff_factor = std::numeric_limits<double>::infinity();
                  }),
                  "backoff_factor: must be a number of at least 1");
}

CAF_TEST(settings out of range are clamped) {
  restart_settings s;
  s.max_restarts = 1000000;
  s.within_ms = 0;
  s.backoff_initial_ms = 500;
  s.backoff_max_ms = 100;
  s.backoff_factor = std::nan("");
  restart_policy p{s};
  CAF_CHECK_EQUAL(p.settings().max_restarts, max_restart_intensity);
  CAF_CHECK_EQUAL(p.settings().within_ms, 1u);
  CAF_CHECK_EQUAL(p.settings().backoff_max_ms, 500u);
  CAF_CHECK_EQUAL(p.settings().backoff_factor, 1.0);
  CAF_CHECK_EQUAL(p.on_failure(10, 5).delay_ms, 500u);
  CAF_CHECK_EQUAL(p.on_failure(11, 10).delay_ms, 500u);
  s.backoff_factor = 0.5;
  restart_policy q{s};
  CAF_CHECK_EQUAL(q.settings().backoff_factor, 1.0);
}

CAF_TEST(a new policy has no history) {
  restart_policy p{restart_settings{}};
  CAF_CHECK(!p.given_up());
  CAF_CHECK_EQUAL(p.restarts_in_window(0), 0u);
  CAF_CHECK_EQUAL(p.quick_failures(), 0u);
}

CAF_TEST(backoff doubles and is capped) {
  child c{restart_policy{roomy()}};
  int64_t now = 1000;
  CAF_CHECK_EQUAL(delays(c, 10, now, 10),
                  (std::vector<uint32_t>{100, 200, 400, 800, 1600, 3200, 6400,
                                         10000, 10000, 10000}));
  CAF_CHECK_EQUAL(c.policy.quick_failures(), 10u);
}

CAF_TEST(the reason names the restart and its delay) {
  child c{restart_policy{restart_settings{}}};
  CAF_CHECK_EQUAL(c.fail(0).reason, "restart 1 of 5 in 60000 ms, after 100 ms");
  CAF_CHECK_EQUAL(c.fail(1).reason, "restart 2 of 5 in 60000 ms, after 200 ms");
  auto d = c.fail(2);
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 400u);
  CAF_CHECK_EQUAL(d.restarts_in_window, 3u);
  CAF_CHECK_EQUAL(d.reason, "restart 3 of 5 in 60000 ms, after 400 ms");
}

CAF_TEST(a fractional factor rounds to the nearest ms) {
  auto s = roomy();
  s.backoff_factor = 1.5;
  child c{restart_policy{s}};
  int64_t now = 0;
  // 100, 150, 225, 337.5, 506.25
  CAF_CHECK_EQUAL(delays(c, 5, now, 1),
                  (std::vector<uint32_t>{100, 150, 225, 338, 506}));
  s.backoff_factor = 1.1;
  child d{restart_policy{s}};
  now = 0;
  CAF_CHECK_EQUAL(delays(d, 4, now, 1),
                  (std::vector<uint32_t>{100, 110, 121, 133}));
}

CAF_TEST(a long run resets the backoff) {
  child c{restart_policy{roomy()}}; // reset_after_ms 30000
  int64_t now = 0;
  CAF_CHECK_EQUAL(delays(c, 3, now, 10),
                  (std::vector<uint32_t>{100, 200, 400}));
  // Up 29999 ms: still a quick failure.
  now += 29999;
  CAF_CHECK_EQUAL(c.fail(now).delay_ms, 800u);
  // Up exactly reset_after_ms: starts over.
  now += 30000;
  CAF_CHECK_EQUAL(c.fail(now).delay_ms, 100u);
  CAF_CHECK_EQUAL(c.policy.quick_failures(), 1u);
  CAF_CHECK_EQUAL(delays(c, 2, now, 10), (std::vector<uint32_t>{200, 400}));
  // The uptime is measured from the start the caller reports, not from the
  // last failure: a child started long ago resets it however recent the
  // last failure.
  CAF_CHECK_EQUAL(c.policy.on_failure(now + 10, now - 40000).delay_ms, 100u);
}

CAF_TEST(a long run does not clear the intensity window) {
  auto s = restart_settings{};
  s.max_restarts = 2;
  s.within_ms = 60000;
  s.reset_after_ms = 1000;
  child c{restart_policy{s}};
  CAF_CHECK(c.fail(0).restart);
  CAF_CHECK_EQUAL(c.fail(5000).delay_ms, 100u); // up 5 s: backoff reset
  auto d = c.fail(10000);                       // up 5 s again
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.reason, "gave up: 3 failures within 60000 ms");
}

CAF_TEST(give up at max_restarts plus one and stay given up) {
  child c{restart_policy{restart_settings{}}}; // 5 within 60000 ms
  for (int64_t t = 0; t < 5; ++t)
    CAF_REQUIRE(c.fail(t * 1000).restart);
  CAF_CHECK(!c.policy.given_up());
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(4000), 5u);
  auto d = c.fail(59999);
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 0u);
  CAF_CHECK_EQUAL(d.restarts_in_window, 5u);
  CAF_CHECK_EQUAL(d.reason, "gave up: 6 failures within 60000 ms");
  CAF_CHECK(c.policy.given_up());
  // Sticky: the window empties, the answer stays.
  auto later = c.fail(3600000);
  CAF_CHECK(!later.restart);
  CAF_CHECK_EQUAL(later.restarts_in_window, 5u);
  CAF_CHECK_EQUAL(later.reason, "gave up: 6 failures within 60000 ms");
  CAF_CHECK(c.policy.given_up());
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(3600000), 0u);
  // An operator restarts the child: a fresh history.
  c.policy.reset();
  CAF_CHECK(!c.policy.given_up());
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(3600000), 0u);
  CAF_CHECK_EQUAL(c.policy.quick_failures(), 0u);
  c.started_at = 3600000;
  d = c.fail(3600001);
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.reason, "restart 1 of 5 in 60000 ms, after 100 ms");
}

CAF_TEST(reset clears the window before a give up too) {
  child c{restart_policy{restart_settings{}}};
  for (int64_t t = 0; t < 5; ++t)
    CAF_REQUIRE(c.fail(t).restart);
  c.policy.reset();
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(5), 0u);
  for (int64_t t = 5; t < 10; ++t)
    CAF_CHECK(c.fail(t).restart);
  CAF_CHECK(!c.fail(10).restart);
}

CAF_TEST(the window slides) {
  auto s = restart_settings{};
  s.max_restarts = 3;
  s.within_ms = 10000;
  child c{restart_policy{s}};
  CAF_REQUIRE(c.fail(0).restart);
  CAF_REQUIRE(c.fail(1000).restart);
  CAF_REQUIRE(c.fail(2000).restart);
  // A restart exactly within_ms old still counts; one ms later it is gone.
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(10000), 3u);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(10001), 2u);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(12001), 0u);
  // The restart of 0 expired: room for one more.
  auto d = c.fail(10001);
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.restarts_in_window, 3u);
  CAF_CHECK_EQUAL(d.reason, "restart 3 of 3 in 10000 ms, after 800 ms");
  // And the one of 1000 makes room at 11001.
  CAF_CHECK(c.fail(11001).restart);
  // 2000, 10001, 11001 are in: the next gives up.
  d = c.fail(11002);
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.restarts_in_window, 3u);
  CAF_CHECK_EQUAL(d.reason, "gave up: 4 failures within 10000 ms");
}

CAF_TEST(a failure at the window edge still counts the old restart) {
  auto s = restart_settings{};
  s.max_restarts = 3;
  s.within_ms = 10000;
  child c{restart_policy{s}};
  c.fail(0);
  c.fail(1000);
  c.fail(2000);
  auto d = c.fail(10000);
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.reason, "gave up: 4 failures within 10000 ms");
}

CAF_TEST(restarts resume for ever at a rate within the intensity) {
  auto s = restart_settings{};
  s.max_restarts = 2;
  s.within_ms = 1000;
  child c{restart_policy{s}};
  // Two restarts per 1001 ms, a thousand times: the ring wraps many times.
  for (int64_t i = 0; i < 1000; ++i) {
    CAF_REQUIRE(c.fail(i * 1001).restart);
    CAF_REQUIRE(c.fail(i * 1001 + 1).restart);
  }
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(999 * 1001 + 1), 2u);
  CAF_CHECK(!c.fail(999 * 1001 + 2).restart);
}

CAF_TEST(max_restarts zero gives up at once) {
  auto s = restart_settings{};
  s.max_restarts = 0;
  child c{restart_policy{s}};
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(0), 0u);
  auto d = c.fail(0);
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.restarts_in_window, 0u);
  CAF_CHECK_EQUAL(d.reason, "gave up: 1 failure within 60000 ms");
  CAF_CHECK(c.policy.given_up());
  c.policy.reset();
  CAF_CHECK(!c.policy.given_up());
  CAF_CHECK(!c.fail(1000000).restart);
}

CAF_TEST(factor one keeps the delay constant) {
  auto s = roomy();
  s.backoff_factor = 1.0;
  s.backoff_initial_ms = 250;
  child c{restart_policy{s}};
  int64_t now = 0;
  CAF_CHECK_EQUAL(delays(c, 5, now, 1),
                  (std::vector<uint32_t>{250, 250, 250, 250, 250}));
  s.backoff_initial_ms = 0;
  s.backoff_factor = 2.0;
  child immediate{restart_policy{s}};
  now = 0;
  CAF_CHECK_EQUAL(delays(immediate, 3, now, 1),
                  (std::vector<uint32_t>{0, 0, 0}));
  CAF_CHECK_EQUAL(immediate.fail(now + 1).reason,
                  "restart 4 of 100 in 60000 ms, after 0 ms");
}

CAF_TEST(a huge backoff saturates at the cap) {
  auto s = roomy();
  s.max_restarts = max_restart_intensity;
  s.backoff_factor = 1000.0;
  s.backoff_max_ms = std::numeric_limits<uint32_t>::max();
  child c{restart_policy{s}};
  int64_t now = 0;
  auto d = delays(c, 200, now, 1); // 100 * 1000^199 is inf as a double
  CAF_CHECK_EQUAL(d[0], 100u);
  CAF_CHECK_EQUAL(d[1], 100000u);
  CAF_CHECK_EQUAL(d[2], 100000000u);
  CAF_CHECK_EQUAL(d[3], std::numeric_limits<uint32_t>::max());
  CAF_CHECK_EQUAL(d[199], std::numeric_limits<uint32_t>::max());
}

CAF_TEST(a clock stepping back counts as no time passed) {
  auto s = restart_settings{};
  s.max_restarts = 5;
  s.within_ms = 60000;
  child c{restart_policy{s}};
  CAF_REQUIRE(c.fail(100000).restart); // policy time 0
  CAF_REQUIRE(c.fail(101000).restart); // 1000
  // Back by 51 s: the child's start lies in the future, a quick failure.
  auto d = c.fail(50000); // still 1000
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 400u);
  CAF_CHECK_EQUAL(d.restarts_in_window, 3u);
  // Earlier than the last reading: no time passed since it.
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(0), 3u);
  // From 50000 on the clock runs again: the restart at policy time 0
  // expires once 59000 more ms have passed, not 51 s earlier or later.
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(100000), 3u);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(109000), 3u);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(109001), 2u);
  // The two at policy time 1000 (one each side of the step) leave together.
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(110000), 2u);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(110001), 0u);
  CAF_CHECK(c.fail(109001).restart);
  CAF_CHECK_EQUAL(c.policy.restarts_in_window(109001), 3u);
}

CAF_TEST(extreme clock readings neither crash nor overflow) {
  constexpr auto lo = std::numeric_limits<int64_t>::min();
  constexpr auto hi = std::numeric_limits<int64_t>::max();
  restart_policy p{roomy()};
  auto d = p.on_failure(lo, hi); // start in the future: quick
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 100u);
  d = p.on_failure(hi, lo); // up for the whole range: backoff reset
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 100u);
  // The jump from lo to hi is 2^64 - 1 ms: the first restart expired.
  CAF_CHECK_EQUAL(p.restarts_in_window(hi), 1u);
  d = p.on_failure(lo, lo); // back to the start: no time passes
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.restarts_in_window, 2u);
  CAF_CHECK_EQUAL(p.restarts_in_window(lo), 2u);
  CAF_CHECK_EQUAL(p.restarts_in_window(0), 2u);
  // Forward again from the bottom: the policy's clock saturates rather
  // than wraps (a wrap would make old restarts look far in the future),
  // so after 2^64 ms of readings the window stops sliding.
  d = p.on_failure(hi, hi);
  CAF_CHECK(d.restart);
  CAF_CHECK_EQUAL(d.delay_ms, 400u);
  CAF_CHECK_EQUAL(d.restarts_in_window, 3u);
  CAF_CHECK_EQUAL(p.restarts_in_window(hi), 3u);
}
