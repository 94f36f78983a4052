#define CAF_SUITE protocol.pattern_index
#include <caf/test/unit_test.hpp>

#include "protocol/pattern_index.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

topic_segments parsed(std::string_view topic) {
  topic_segments segs;
  if (!parse_topic(topic, segs))
    CAF_FAIL("test topic does not parse: " << std::string(topic));
  return segs;
}

template <class Value>
std::vector<Value> matches(const pattern_index<Value>& index,
                           std::string_view topic) {
  std::vector<Value> out;
  index.match(parsed(topic), [&](const Value& v) { out.push_back(v); });
  std::sort(out.begin(), out.end());
  return out;
}

using strings = std::vector<std::string>;

} // namespace

CAF_TEST(empty index matches nothing) {
  pattern_index<int> index;
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK(index.empty());
  CAF_CHECK(matches(index, "a:b:c").empty());
  CAF_CHECK(index.find("a:b") == nullptr);
  CAF_CHECK(!index.erase("a:b"));
}

CAF_TEST(insert find and exact match) {
  pattern_index<int> index;
  CAF_CHECK(index.insert("customer_id:c1:call:x1", 1));
  CAF_CHECK(index.insert("customer_id:c1:call", 2));
  CAF_CHECK_EQUAL(index.size(), 2u);
  CAF_REQUIRE(index.find("customer_id:c1:call:x1") != nullptr);
  CAF_CHECK_EQUAL(*index.find("customer_id:c1:call:x1"), 1);
  CAF_CHECK_EQUAL(*index.find("customer_id:c1:call"), 2);
  CAF_CHECK(index.find("customer_id:c1") == nullptr);
  CAF_CHECK(index.find("customer_id:c1:call:*") == nullptr);
  CAF_CHECK_EQUAL(matches(index, "customer_id:c1:call:x1"),
                  std::vector<int>{1});
  CAF_CHECK_EQUAL(matches(index, "customer_id:c1:call"), std::vector<int>{2});
  CAF_CHECK(matches(index, "customer_id:c1:call:x2").empty());
  CAF_CHECK(matches(index, "customer_id:c1").empty());
  // find() hands out a mutable value.
  *index.find("customer_id:c1:call") = 7;
  CAF_CHECK_EQUAL(matches(index, "customer_id:c1:call"), std::vector<int>{7});
}

CAF_TEST(duplicate insert is refused) {
  pattern_index<int> index;
  CAF_CHECK(index.insert("a:*:c", 1));
  CAF_CHECK(!index.insert("a:*:c", 2));
  CAF_CHECK(index.insert("a:>", 3));
  CAF_CHECK(!index.insert("a:>", 4));
  CAF_CHECK_EQUAL(index.size(), 2u);
  CAF_CHECK_EQUAL(*index.find("a:*:c"), 1);
  CAF_CHECK_EQUAL(*index.find("a:>"), 3);
}

CAF_TEST(invalid patterns are refused) {
  pattern_index<int> index;
  CAF_CHECK(!index.insert("", 1));
  CAF_CHECK(!index.insert("a:b*", 1));
  CAF_CHECK(!index.insert("a:>:b", 1));
  CAF_CHECK(!index.insert("a::b", 1));
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK(!index.erase("a:b*"));
  CAF_CHECK(index.find("a:>:b") == nullptr);
}

CAF_TEST(move only values) {
  pattern_index<std::unique_ptr<int>> index;
  CAF_CHECK(index.insert("a:b", std::make_unique<int>(5)));
  CAF_REQUIRE(index.find("a:b") != nullptr);
  CAF_CHECK_EQUAL(**index.find("a:b"), 5);
  int seen = 0;
  index.match(parsed("a:b"), [&](const std::unique_ptr<int>& v) { seen = *v; });
  CAF_CHECK_EQUAL(seen, 5);
}

CAF_TEST(star at every position of a four segment topic) {
  pattern_index<std::string> index;
  strings patterns{"*:b:c:d", "a:*:c:d", "a:b:*:d", "a:b:c:*",
                   "*:*:*:*", "*:b:*:d", "a:b:c:d"};
  for (auto& p : patterns)
    CAF_CHECK(index.insert(p, p));
  auto all = patterns;
  std::sort(all.begin(), all.end());
  CAF_CHECK_EQUAL(matches(index, "a:b:c:d"), all);
  CAF_CHECK_EQUAL(matches(index, "x:b:c:d"),
                  (strings{"*:*:*:*", "*:b:*:d", "*:b:c:d"}));
  CAF_CHECK_EQUAL(matches(index, "a:x:c:d"), (strings{"*:*:*:*", "a:*:c:d"}));
  CAF_CHECK_EQUAL(matches(index, "a:b:x:d"),
                  (strings{"*:*:*:*", "*:b:*:d", "a:b:*:d"}));
  CAF_CHECK_EQUAL(matches(index, "a:b:c:x"), (strings{"*:*:*:*", "a:b:c:*"}));
  // `*` is exactly one segment: neither shorter nor longer topics match.
  CAF_CHECK(matches(index, "a:b:c").empty());
  CAF_CHECK(matches(index, "a:b:c:d:e").empty());
}

CAF_TEST(gt at every position of a four segment topic) {
  pattern_index<std::string> index;
  strings patterns{">", "a:>", "a:b:>", "a:b:c:>"};
  for (auto& p : patterns)
    CAF_CHECK(index.insert(p, p));
  CAF_CHECK_EQUAL(matches(index, "a:b:c:d"), patterns);
  // `>` needs at least one segment after its prefix.
  CAF_CHECK_EQUAL(matches(index, "a:b:c"), (strings{">", "a:>", "a:b:>"}));
  CAF_CHECK_EQUAL(matches(index, "a:b"), (strings{">", "a:>"}));
  CAF_CHECK_EQUAL(matches(index, "a"), (strings{">"}));
  CAF_CHECK_EQUAL(matches(index, "a:b:c:d:e:f"), patterns);
  CAF_CHECK_EQUAL(matches(index, "z:b:c:d"), (strings{">"}));
  CAF_CHECK_EQUAL(matches(index, "a:z:c:d"), (strings{">", "a:>"}));
}

CAF_TEST(star and gt combined) {
  pattern_index<std::string> index;
  strings patterns{"*:>", "a:*:>", "*:*:c:>", "*:b:*:*",
                   "customer_id:*:call:>"};
  for (auto& p : patterns)
    CAF_CHECK(index.insert(p, p));
  CAF_CHECK_EQUAL(matches(index, "a:b:c:d"),
                  (strings{"*:*:c:>", "*:>", "*:b:*:*", "a:*:>"}));
  CAF_CHECK_EQUAL(matches(index, "customer_id:c1:call:x1"),
                  (strings{"*:>", "customer_id:*:call:>"}));
  CAF_CHECK(matches(index, "a").empty());
  CAF_CHECK_EQUAL(matches(index, "a:b"), (strings{"*:>"}));
}

CAF_TEST(each matching pattern is reported once) {
  pattern_index<int> index;
  index.insert("a:*", 1);
  index.insert("*:a", 2);
  index.insert("a:a", 3);
  index.insert("*:*", 4);
  index.insert("a:>", 5);
  index.insert(">", 6);
  CAF_CHECK_EQUAL(matches(index, "a:a"), (std::vector<int>{1, 2, 3, 4, 5, 6}));
}

CAF_TEST(erase prunes empty nodes) {
  pattern_index<int> index;
  CAF_CHECK(index.insert("a:b:c:d", 1));
  CAF_CHECK(index.insert("a:b", 2));
  CAF_CHECK(index.insert("a:*:c", 3));
  CAF_CHECK(index.insert("a:>", 4));
  CAF_CHECK(!index.erase("a:b:c"));
  CAF_CHECK(!index.erase("a:*"));
  CAF_CHECK_EQUAL(index.size(), 4u);
  CAF_CHECK(index.erase("a:b:c:d"));
  CAF_CHECK(!index.erase("a:b:c:d"));
  // The intermediate node `a:b` keeps its own value.
  CAF_CHECK_EQUAL(*index.find("a:b"), 2);
  CAF_CHECK(matches(index, "a:b:c:d") == std::vector<int>{4});
  CAF_CHECK(index.erase("a:b"));
  CAF_CHECK(index.erase("a:*:c"));
  CAF_CHECK_EQUAL(matches(index, "a:x:c"), std::vector<int>{4});
  CAF_CHECK(index.erase("a:>"));
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK(matches(index, "a:b").empty());
  // Nothing is left over: the snapshot is empty and reinsertion works.
  std::size_t left = 0;
  index.for_each([&](std::string_view, const int&) { ++left; });
  CAF_CHECK_EQUAL(left, 0u);
  CAF_CHECK(index.insert("a:b:c:d", 9));
  CAF_CHECK_EQUAL(matches(index, "a:b:c:d"), std::vector<int>{9});
}

CAF_TEST(erase of a prefix keeps longer patterns) {
  pattern_index<int> index;
  index.insert("a:b", 1);
  index.insert("a:b:c", 2);
  CAF_CHECK(index.erase("a:b"));
  CAF_CHECK(index.find("a:b") == nullptr);
  CAF_CHECK_EQUAL(*index.find("a:b:c"), 2);
  CAF_CHECK(matches(index, "a:b").empty());
  CAF_CHECK_EQUAL(matches(index, "a:b:c"), std::vector<int>{2});
}

CAF_TEST(for_each yields every pattern) {
  pattern_index<int> index;
  strings patterns{"a:b:c", "a:*:c", "a:>", ">", "*", "x"};
  for (std::size_t i = 0; i < patterns.size(); ++i)
    index.insert(patterns[i], static_cast<int>(i));
  std::map<std::string, int> seen;
  index.for_each(
      [&](std::string_view p, const int& v) { seen[std::string{p}] = v; });
  CAF_REQUIRE_EQUAL(seen.size(), patterns.size());
  for (std::size_t i = 0; i < patterns.size(); ++i)
    CAF_CHECK_EQUAL(seen[patterns[i]], static_cast<int>(i));
  index.clear();
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK(matches(index, "a:b:c").empty());
}

CAF_TEST(one hundred thousand patterns) {
  constexpr int n = 100000;
  pattern_index<int> index;
  auto pattern = [](int i) {
    // A mix of exact, `*` and `>` patterns over shared prefixes.
    auto id = std::to_string(i);
    switch (i % 4) {
    case 0:
      return "customer_id:c" + id + ":call:*";
    case 1:
      return "customer_id:c" + id + ":call:x" + id;
    case 2:
      return "agent_id:a" + id + ":>";
    default:
      return "customer_id:*:queue:q" + id;
    }
  };
  for (int i = 0; i < n; ++i)
    CAF_REQUIRE(index.insert(pattern(i), i));
  CAF_CHECK_EQUAL(index.size(), static_cast<std::size_t>(n));
  CAF_CHECK(!index.insert(pattern(12345), -1));
  // Each topic matches exactly the patterns built for it.
  CAF_CHECK_EQUAL(matches(index, "customer_id:c0:call:x9"),
                  std::vector<int>{0});
  CAF_CHECK_EQUAL(matches(index, "customer_id:c1:call:x1"),
                  std::vector<int>{1});
  CAF_CHECK_EQUAL(matches(index, "agent_id:a2:queue:q1"), std::vector<int>{2});
  CAF_CHECK_EQUAL(matches(index, "agent_id:a2:x"), std::vector<int>{2});
  CAF_CHECK(matches(index, "agent_id:a2").empty());
  CAF_CHECK_EQUAL(matches(index, "customer_id:c4:queue:q3"),
                  std::vector<int>{3});
  CAF_CHECK_EQUAL(matches(index, "customer_id:c99996:call:x99997"),
                  std::vector<int>{99996});
  CAF_CHECK(matches(index, "customer_id:c1:call:x2").empty());
  std::size_t hits = 0;
  for (int i = 0; i < n; ++i) {
    auto id = std::to_string(i);
    index.match(parsed("customer_id:c" + id + ":call:x" + id),
                [&](const int&) { ++hits; });
  }
  // Every even c<i> has its `call:*`, every i % 4 == 1 its exact pattern.
  CAF_CHECK_EQUAL(hits, static_cast<std::size_t>(n / 4 * 2));
  for (int i = 0; i < n; ++i)
    CAF_REQUIRE(index.erase(pattern(i)));
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK(matches(index, "customer_id:c0:call:x9").empty());
  std::size_t left = 0;
  index.for_each([&](std::string_view, const int&) { ++left; });
  CAF_CHECK_EQUAL(left, 0u);
}
