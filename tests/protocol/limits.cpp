#define CAF_SUITE protocol.limits
#include <caf/test/unit_test.hpp>

#include "protocol/dedup.hpp"
#include "protocol/rate_limiter.hpp"
#include "protocol/uuid.hpp"

#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace herald::protocol;

namespace {

constexpr int64_t second = 1000000;

int take_all(token_bucket& bucket, int64_t now_us) {
  int n = 0;
  while (bucket.take(now_us))
    ++n;
  return n;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

} // namespace

CAF_TEST(token bucket starts full) {
  token_bucket bucket{10, 5};
  CAF_CHECK_EQUAL(take_all(bucket, 1000), 5);
  CAF_CHECK(!bucket.take(1000));
}

CAF_TEST(token bucket refills at its rate) {
  token_bucket bucket{10, 5}; // one token per 100 ms
  take_all(bucket, 0);
  CAF_CHECK(!bucket.take(50000));
  CAF_CHECK(bucket.take(100000));
  CAF_CHECK(!bucket.take(100000));
  CAF_CHECK_EQUAL(take_all(bucket, 400000), 3);
}

CAF_TEST(token bucket refill is capped at burst) {
  token_bucket bucket{10, 5};
  take_all(bucket, 0);
  CAF_CHECK_EQUAL(take_all(bucket, 3600 * second), 5);
}

CAF_TEST(token bucket ignores a clock stepping back) {
  token_bucket bucket{1, 2};
  take_all(bucket, 10 * second);
  CAF_CHECK(!bucket.take(5 * second));
  // Time lost going backwards is not credited when it moves forward again.
  CAF_CHECK(!bucket.take(10 * second + second / 2));
  CAF_CHECK(bucket.take(11 * second));
}

CAF_TEST(token bucket with fractional rate) {
  token_bucket bucket{0.5, 1};
  CAF_CHECK(bucket.take(0));
  CAF_CHECK(!bucket.take(1 * second));
  CAF_CHECK(bucket.take(2 * second));
}

CAF_TEST(dedup remembers ids within the window) {
  dedup_window window{100, 10 * second};
  CAF_CHECK(!window.seen_before("a", 0));
  CAF_CHECK(window.seen_before("a", 1 * second));
  CAF_CHECK(!window.seen_before("b", 1 * second));
  CAF_CHECK(window.seen_before("a", 10 * second)); // exactly at the edge
  CAF_CHECK_EQUAL(window.size(), 2u);
}

CAF_TEST(dedup expires old entries) {
  dedup_window window{100, 10 * second};
  window.seen_before("a", 0);
  window.seen_before("b", 5 * second);
  CAF_CHECK(!window.seen_before("a", 10 * second + 1));
  CAF_CHECK_EQUAL(window.size(), 2u); // b and the new a
  CAF_CHECK(window.seen_before("b", 15 * second));
  CAF_CHECK(!window.seen_before("b", 15 * second + 1));
  // A repeat does not refresh: `a` still counts from 10 s.
  CAF_CHECK(window.seen_before("a", 20 * second));
  CAF_CHECK(!window.seen_before("a", 20 * second + 2));
}

CAF_TEST(dedup is bounded by count) {
  dedup_window window{3, 3600 * second};
  for (auto id : {"a", "b", "c", "d"})
    CAF_CHECK(!window.seen_before(id, 0));
  CAF_CHECK_EQUAL(window.size(), 3u);
  CAF_CHECK(!window.seen_before("a", 1)); // pushed out by d
  CAF_CHECK(window.seen_before("d", 1));
  CAF_CHECK_EQUAL(window.size(), 3u);
  dedup_window none{0, second};
  CAF_CHECK(!none.seen_before("x", 0));
  CAF_CHECK(!none.seen_before("x", 0));
  CAF_CHECK_EQUAL(none.size(), 0u);
}

CAF_TEST(uuid v4 format) {
  for (int i = 0; i < 100; ++i) {
    auto id = make_uuid_v4();
    CAF_REQUIRE_EQUAL(id.size(), 36u);
    for (std::size_t j = 0; j < id.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23)
        CAF_CHECK_EQUAL(id[j], '-');
      else
        CAF_CHECK(is_hex(id[j]));
    }
    CAF_CHECK_EQUAL(id[14], '4');
    CAF_CHECK(std::string{"89ab"}.find(id[19]) != std::string::npos);
  }
}

CAF_TEST(uuid v4 is unique across threads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread)
    threads.emplace_back([&out] {
      for (int i = 0; i < 1000; ++i)
        out.push_back(make_uuid_v4());
    });
  for (auto& t : threads)
    t.join();
  std::set<std::string> all;
  for (auto& ids : per_thread)
    all.insert(ids.begin(), ids.end());
  CAF_CHECK_EQUAL(all.size(), 4000u);
}
