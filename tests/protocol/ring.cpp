#define CAF_SUITE protocol.ring
#include <caf/test/unit_test.hpp>

#include "protocol/ring.hpp"

#include <map>
#include <string>

using herald::protocol::owner_ring;

namespace {

std::string key(int i) {
  return "customer_id:c" + std::to_string(i % 97) + ":call:x"
         + std::to_string(i);
}

} // namespace

CAF_TEST(every node builds the same ring whatever the order of names) {
  owner_ring a{{"a", "b", "c"}};
  owner_ring b{{"c", "a", "b", "a"}};
  CAF_CHECK_EQUAL(b.members().size(), 3u);
  for (int i = 0; i < 1000; ++i)
    CAF_CHECK_EQUAL(a.owner_of(key(i)), b.owner_of(key(i)));
}

CAF_TEST(a lone member owns everything) {
  owner_ring r{{"solo"}};
  for (int i = 0; i < 100; ++i)
    CAF_CHECK_EQUAL(r.owner_of(key(i)), "solo");
}

CAF_TEST(keys spread over the members) {
  owner_ring r{{"a", "b", "c"}};
  std::map<std::string, int> count;
  for (int i = 0; i < 30000; ++i)
    ++count[r.owner_of(key(i))];
  // 64 points each: every member within ±40% of a third.
  for (auto& [name, n] : count) {
    CAF_MESSAGE(name << " owns " << n);
    CAF_CHECK_GREATER(n, 6000);
    CAF_CHECK_LESS(n, 14000);
  }
}

CAF_TEST(a departing member moves only its own keys) {
  owner_ring before{{"a", "b", "c"}};
  owner_ring after{{"a", "b"}};
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    auto was = before.owner_of(key(i));
    auto now = after.owner_of(key(i));
    if (was != "c")
      CAF_CHECK_EQUAL(was, now);
    else
      ++moved;
  }
  CAF_CHECK_GREATER(moved, 0);
}
