// Topics and patterns (PROTOCOL §2): parse_topic, parse_pattern and
// pattern_matches on every line of the input; the pattern index (the
// router's trie) against a brute-force match of the same patterns; and the
// subscribe-time permission check on each pattern. A line is a topic and
// a pattern at once.

#include "fuzz.hpp"

#include "protocol/pattern_index.hpp"
#include "protocol/permissions.hpp"
#include "protocol/topic.hpp"

#include <set>
#include <string>

using namespace herald::protocol;

namespace {

void check_limits(const topic_segments& segs, std::string_view text) {
  HERALD_FUZZ_CHECK(segs.size() >= 1 && segs.size() <= max_topic_segments);
  HERALD_FUZZ_CHECK(text.size() <= max_topic_bytes);
  for (auto s : segs)
    HERALD_FUZZ_CHECK(!s.empty() && s.size() <= max_segment_length);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto rules = permission_rules::defaults();
  auto lines = herald::fuzz::split(herald::fuzz::text_of(data, size), '\n', 32);
  pattern_index<std::size_t> index;
  std::vector<std::string_view> patterns;
  identity who;
  who.sub = "u1";
  who.customer_id = "c1";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto line = lines[i];
    topic_segments topic, pattern;
    std::string why;
    bool is_topic = parse_topic(line, topic, &why);
    if (is_topic) {
      check_limits(topic, line);
      // A concrete topic is also a pattern, one that matches itself.
      HERALD_FUZZ_CHECK(parse_pattern(line, pattern));
      HERALD_FUZZ_CHECK(pattern_matches(pattern, topic));
      HERALD_FUZZ_CHECK(pattern_matches(line, line));
    } else {
      HERALD_FUZZ_CHECK(!why.empty());
    }
    if (parse_pattern(line, pattern)) {
      check_limits(pattern, line);
      if (index.insert(line, i))
        patterns.push_back(line);
    }
    auto verdict = check_subscribe(rules, line, who);
    if (verdict.result == permission_result::allowed)
      HERALD_FUZZ_CHECK(parse_pattern(line, pattern));
    else
      HERALD_FUZZ_CHECK(!verdict.message.empty());
  }
  // The index finds exactly the patterns that match, each once.
  for (auto line : lines) {
    topic_segments topic;
    if (!parse_topic(line, topic))
      continue;
    std::multiset<std::string_view> found;
    index.match(topic, [&](const std::size_t& at) { found.insert(lines[at]); });
    std::multiset<std::string_view> expected;
    for (auto p : patterns)
      if (pattern_matches(p, line))
        expected.insert(p);
    HERALD_FUZZ_CHECK(found == expected);
  }
  return 0;
}
