#define CAF_SUITE protocol.topic
#include <caf/test/unit_test.hpp>

#include "protocol/topic.hpp"

#include <string>

using namespace herald::protocol;

namespace {

bool topic_ok(std::string_view text) {
  topic_segments segs;
  return parse_topic(text, segs);
}

bool pattern_ok(std::string_view text) {
  topic_segments segs;
  return parse_pattern(text, segs);
}

std::string join(std::size_t count, const std::string& seg) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0)
      out += ':';
    out += seg;
  }
  return out;
}

} // namespace

CAF_TEST(splits into segments) {
  topic_segments segs;
  CAF_REQUIRE(parse_topic("customer_id:c1:call:x1", segs));
  CAF_REQUIRE_EQUAL(segs.size(), 4u);
  CAF_CHECK_EQUAL(segs[0], "customer_id");
  CAF_CHECK_EQUAL(segs[1], "c1");
  CAF_CHECK_EQUAL(segs[2], "call");
  CAF_CHECK_EQUAL(segs[3], "x1");
  CAF_REQUIRE(parse_topic("single", segs));
  CAF_CHECK_EQUAL(segs.size(), 1u);
  CAF_CHECK_EQUAL(segs[0], "single");
  // Reparsing into the same struct resets the count.
  CAF_REQUIRE(parse_topic("a:b", segs));
  CAF_CHECK_EQUAL(segs.size(), 2u);
  std::size_t n = 0;
  for (auto seg : segs) {
    CAF_CHECK(!seg.empty());
    ++n;
  }
  CAF_CHECK_EQUAL(n, 2u);
}

CAF_TEST(segment charset) {
  CAF_CHECK(topic_ok("AZaz09_.@-"));
  CAF_CHECK(topic_ok("user@example.com:a-b_c.d"));
  CAF_CHECK(topic_ok("12345678-1234-1234-1234-123456789012"));
  for (auto bad : {"a b", "a/b", "a#b", "a+b", "a$b", "a,b", "a\"b", "a\tb",
                   "caf\xc3\xa9", "a%b", "a?b", "a=b", "a!b"})
    CAF_CHECK(!topic_ok(bad));
  std::string with_nul("a\0b", 3);
  CAF_CHECK(!topic_ok(with_nul));
  CAF_CHECK(!pattern_ok("a b:*"));
}

CAF_TEST(segment length) {
  CAF_CHECK(topic_ok(std::string(128, 'x')));
  CAF_CHECK(!topic_ok(std::string(129, 'x')));
  CAF_CHECK(topic_ok("a:" + std::string(128, 'x')));
  CAF_CHECK(!topic_ok("a:" + std::string(129, 'x')));
  CAF_CHECK(topic_ok("a"));
}

CAF_TEST(segment count) {
  CAF_CHECK(topic_ok(join(1, "a")));
  CAF_CHECK(topic_ok(join(16, "a")));
  CAF_CHECK(!topic_ok(join(17, "a")));
  CAF_CHECK(pattern_ok(join(15, "a") + ":>"));
  CAF_CHECK(!pattern_ok(join(16, "a") + ":>"));
  CAF_CHECK(pattern_ok(join(16, "*")));
  CAF_CHECK(!pattern_ok(join(17, "*")));
  std::string why;
  topic_segments segs;
  CAF_CHECK(!parse_topic(join(17, "a"), segs, &why));
  CAF_CHECK(why.find("16") != std::string::npos);
}

CAF_TEST(total length) {
  // 16 segments of 15 characters plus 15 colons: 255 bytes.
  auto t255 = join(16, std::string(15, 'a'));
  CAF_REQUIRE_EQUAL(t255.size(), 255u);
  CAF_CHECK(topic_ok(t255));
  auto t256 = t255 + "b";
  CAF_CHECK(topic_ok(t256));
  CAF_CHECK(!topic_ok(t256 + "c"));
  // Two long segments within the per-segment limit but over 256 in total.
  auto two = std::string(128, 'a') + ":" + std::string(128, 'b');
  CAF_REQUIRE_EQUAL(two.size(), 257u);
  CAF_CHECK(!topic_ok(two));
  CAF_CHECK(!pattern_ok(two));
}

CAF_TEST(empty topic and empty segments) {
  CAF_CHECK(!topic_ok(""));
  CAF_CHECK(!topic_ok(":"));
  CAF_CHECK(!topic_ok("a:"));
  CAF_CHECK(!topic_ok(":a"));
  CAF_CHECK(!topic_ok("a::b"));
  CAF_CHECK(!pattern_ok(""));
  CAF_CHECK(!pattern_ok("a::*"));
  CAF_CHECK(!pattern_ok("a:>:"));
  std::string why;
  topic_segments segs;
  CAF_CHECK(!parse_topic("a::b", segs, &why));
  CAF_CHECK_EQUAL(why, "segment 2: empty segment");
}

CAF_TEST(star is a whole segment only) {
  CAF_CHECK(pattern_ok("*"));
  CAF_CHECK(pattern_ok("a:*:c"));
  CAF_CHECK(pattern_ok("*:*:*:*"));
  CAF_CHECK(!pattern_ok("ab*"));
  CAF_CHECK(!pattern_ok("a:b*:c"));
  CAF_CHECK(!pattern_ok("a:*b"));
  CAF_CHECK(!pattern_ok("a:**"));
  CAF_CHECK(!pattern_ok("a:*.*"));
  std::string why;
  topic_segments segs;
  CAF_CHECK(!parse_pattern("a:ab*", segs, &why));
  CAF_CHECK_EQUAL(why, "segment 2: a wildcard must be a whole segment");
}

CAF_TEST(gt is the last segment only) {
  CAF_CHECK(pattern_ok(">"));
  CAF_CHECK(pattern_ok("a:>"));
  CAF_CHECK(pattern_ok("a:*:>"));
  CAF_CHECK(!pattern_ok(">:a"));
  CAF_CHECK(!pattern_ok("a:>:b"));
  CAF_CHECK(!pattern_ok("a:>>"));
  CAF_CHECK(!pattern_ok("a:b>"));
  CAF_CHECK(!pattern_ok("a:>:>"));
}

CAF_TEST(wildcards are invalid in concrete topics) {
  CAF_CHECK(!topic_ok("*"));
  CAF_CHECK(!topic_ok(">"));
  CAF_CHECK(!topic_ok("a:*:c"));
  CAF_CHECK(!topic_ok("a:b:>"));
  CAF_CHECK(!topic_ok("a:b*"));
  std::string why;
  topic_segments segs;
  CAF_CHECK(!parse_topic("a:*", segs, &why));
  CAF_CHECK_EQUAL(why, "segment 2: wildcard in a concrete topic");
}

CAF_TEST(patterns without wildcards are topics) {
  CAF_CHECK(pattern_ok("customer_id:c1:call:x1"));
  CAF_CHECK(
      pattern_matches("customer_id:c1:call:x1", "customer_id:c1:call:x1"));
  CAF_CHECK(
      !pattern_matches("customer_id:c1:call:x1", "customer_id:c1:call:x2"));
  CAF_CHECK(!pattern_matches("a:b", "a:b:c"));
  CAF_CHECK(!pattern_matches("a:b:c", "a:b"));
}

CAF_TEST(star matches exactly one segment) {
  CAF_CHECK(pattern_matches("customer_id:c1:call:*", "customer_id:c1:call:x1"));
  CAF_CHECK(!pattern_matches("customer_id:c1:call:*", "customer_id:c1:call"));
  CAF_CHECK(
      !pattern_matches("customer_id:c1:call:*", "customer_id:c1:call:x1:y"));
  CAF_CHECK(pattern_matches("*:c1:*:x1", "agent_id:c1:queue:x1"));
  CAF_CHECK(!pattern_matches("*:c1:*:x1", "agent_id:c2:queue:x1"));
  CAF_CHECK(pattern_matches("*", "a"));
  CAF_CHECK(!pattern_matches("*", "a:b"));
}

CAF_TEST(gt matches one or more segments) {
  CAF_CHECK(pattern_matches("a:>", "a:b"));
  CAF_CHECK(pattern_matches("a:>", "a:b:c:d"));
  CAF_CHECK(!pattern_matches("a:>", "a"));
  CAF_CHECK(!pattern_matches("a:>", "b:c"));
  CAF_CHECK(pattern_matches(">", "a"));
  CAF_CHECK(pattern_matches(">", join(16, "a")));
  CAF_CHECK(pattern_matches("a:*:>", "a:b:c"));
  CAF_CHECK(!pattern_matches("a:*:>", "a:b"));
}

CAF_TEST(convenience form refuses bad input) {
  CAF_CHECK(!pattern_matches("a:b*", "a:bc"));
  CAF_CHECK(!pattern_matches("a:*", "a:*"));
  CAF_CHECK(!pattern_matches("a:*", "a:b c"));
}
