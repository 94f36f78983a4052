#define CAF_SUITE protocol.history
#include <caf/test/unit_test.hpp>

#include "protocol/history.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

constexpr int64_t second = 1000000;

struct feed {
  uint64_t seq = 0;
  int64_t now = 1000 * second;

  event_ptr make(const std::string& topic, std::size_t data_bytes = 10) {
    auto ev = std::make_shared<event>();
    ev->seq = ++seq;
    ev->topic = topic;
    ev->pos = "e-" + std::to_string(ev->seq);
    ev->timestamp_us = now;
    ev->data_json = std::string(data_bytes, 'x');
    return ev;
  }
};

// Appends as the router does: with the topic parsed, null when empty.
void append(history& h, const event_ptr& ev, int64_t now) {
  topic_segments topic;
  bool has = !ev->topic.empty() && parse_topic(ev->topic, topic);
  h.append(ev, has ? &topic : nullptr, now);
}

std::vector<topic_segments> patterns(const std::vector<std::string>& texts) {
  // The views point into `texts`, which the caller keeps alive.
  std::vector<topic_segments> out;
  for (auto& t : texts) {
    topic_segments s;
    CAF_REQUIRE(parse_pattern(t, s));
    out.push_back(s);
  }
  return out;
}

std::vector<uint64_t> seqs(const history::replay& r) {
  std::vector<uint64_t> out;
  for (auto& ev : r.events)
    out.push_back(ev->seq);
  return out;
}

} // namespace

CAF_TEST(positions parse as epoch and sequence) {
  auto p = parse_position("4e292bda-17");
  CAF_REQUIRE(p.has_value());
  CAF_CHECK_EQUAL(std::string(p->epoch), "4e292bda");
  CAF_CHECK_EQUAL(p->seq, 17u);
  CAF_CHECK(!parse_position("nodash").has_value());
  CAF_CHECK(!parse_position("-5").has_value());
  CAF_CHECK(!parse_position("abc-").has_value());
  CAF_CHECK(!parse_position("abc-12x").has_value());
  CAF_CHECK(!parse_position("abc-99999999999999999999999").has_value());
}

CAF_TEST(patterns overlap when some topic matches both) {
  auto ok = [](std::string a, std::string b) {
    topic_segments x, y;
    CAF_REQUIRE(parse_pattern(a, x));
    CAF_REQUIRE(parse_pattern(b, y));
    return patterns_overlap(x, y);
  };
  CAF_CHECK(ok("a:b:c", "a:b:c"));
  CAF_CHECK(ok("a:*:c", "a:b:*"));
  CAF_CHECK(ok("a:>", "a:b:c:d"));
  CAF_CHECK(ok("a:b:>", "a:*:c"));
  CAF_CHECK(!ok("a:b:c", "a:b:d"));
  CAF_CHECK(!ok("a:b", "a:b:c"));
  CAF_CHECK(!ok("a:>", "a"));
  CAF_CHECK(!ok("x:>", "a:>"));
}

CAF_TEST(a replay returns what matches after the position in order) {
  history h{history_limits{}};
  feed f;
  for (int i = 0; i < 10; ++i)
    append(h, f.make(i % 2 ? "a:b:odd" : "a:c:even"), f.now);
  std::vector<std::string> texts{"a:b:*"};
  auto r = h.after(4, patterns(texts), f.now);
  CAF_CHECK(r.recovered);
  CAF_CHECK_EQUAL(seqs(r), (std::vector<uint64_t>{6, 8, 10}));
  std::vector<std::string> all{"a:>"};
  r = h.after(7, patterns(all), f.now);
  CAF_CHECK_EQUAL(seqs(r), (std::vector<uint64_t>{8, 9, 10}));
  r = h.after(10, patterns(all), f.now);
  CAF_CHECK(r.recovered);
  CAF_CHECK(r.events.empty());
}

CAF_TEST(a count bound makes older positions unrecoverable) {
  history_limits limits;
  limits.fallback.max_events = 5;
  history h{limits};
  feed f;
  for (int i = 0; i < 8; ++i)
    append(h, f.make("a:b:c"), f.now);
  CAF_CHECK_EQUAL(h.size(), 5u);
  CAF_CHECK_EQUAL(h.evicted(), 3u);
  std::vector<std::string> texts{"a:b:c"};
  CAF_CHECK(h.after(3, patterns(texts), f.now).recovered);
  auto r = h.after(2, patterns(texts), f.now);
  CAF_CHECK(!r.recovered);
  CAF_CHECK(r.events.empty());
}

CAF_TEST(rules keep their own rings) {
  history_limits limits;
  limits.rules.push_back(history_rule{"hot:>", 2, 300});
  limits.fallback.max_events = 100;
  history h{limits};
  feed f;
  append(h, f.make("quiet:x:y"), f.now); // 1
  for (int i = 0; i < 10; ++i)
    append(h, f.make("hot:x:y"), f.now); // 2..11
  std::vector<std::string> quiet{"quiet:*:*"};
  auto r = h.after(0, patterns(quiet), f.now);
  // The hot ring evicted, but it cannot hold quiet topics.
  CAF_CHECK(r.recovered);
  CAF_CHECK_EQUAL(seqs(r), (std::vector<uint64_t>{1}));
  std::vector<std::string> hot{"hot:>"};
  CAF_CHECK(!h.after(0, patterns(hot), f.now).recovered);
  CAF_CHECK_EQUAL(seqs(h.after(9, patterns(hot), f.now)),
                  (std::vector<uint64_t>{10, 11}));
}

CAF_TEST(events older than their age bound go) {
  history_limits limits;
  limits.fallback.max_age_seconds = 10;
  history h{limits};
  feed f;
  append(h, f.make("a:b:c"), f.now);
  f.now += 5 * second;
  append(h, f.make("a:b:c"), f.now);
  f.now += 6 * second;
  std::vector<std::string> texts{"a:b:c"};
  auto r = h.after(0, patterns(texts), f.now);
  CAF_CHECK(!r.recovered);
  CAF_CHECK_EQUAL(h.size(), 1u);
  CAF_CHECK_EQUAL(seqs(h.after(1, patterns(texts), f.now)),
                  (std::vector<uint64_t>{2}));
}

CAF_TEST(the byte bound evicts the oldest event of any ring) {
  history_limits limits;
  limits.rules.push_back(history_rule{"r:>", 1000, 300});
  feed f;
  auto probe = f.make("r:x:y", 1000);
  limits.max_bytes = 3 * history::cost(*probe) + 64; // topics differ a bit
  history h{limits};
  f.seq = 0;
  append(h, f.make("r:x:y", 1000), f.now);     // 1
  append(h, f.make("other:x:y", 1000), f.now); // 2
  append(h, f.make("r:x:y", 1000), f.now);     // 3
  CAF_CHECK_EQUAL(h.size(), 3u);
  append(h, f.make("other:x:y", 1000), f.now); // 4: evicts 1
  CAF_CHECK_EQUAL(h.size(), 3u);
  CAF_CHECK(h.bytes() <= limits.max_bytes);
  std::vector<std::string> r{"r:>"};
  CAF_CHECK(!h.after(0, patterns(r), f.now).recovered);
  CAF_CHECK_EQUAL(seqs(h.after(1, patterns(r), f.now)),
                  (std::vector<uint64_t>{3}));
}

CAF_TEST(a replay longer than its bound is refused) {
  history_limits limits;
  limits.max_replay_events = 3;
  history h{limits};
  feed f;
  for (int i = 0; i < 5; ++i)
    append(h, f.make("a:b:c"), f.now);
  std::vector<std::string> texts{"a:b:c"};
  CAF_CHECK(!h.after(0, patterns(texts), f.now).recovered);
  CAF_CHECK_EQUAL(h.after(2, patterns(texts), f.now).events.size(), 3u);
}

CAF_TEST(after_if consults every ring) {
  history h{history_limits{}};
  feed f;
  append(h, f.make(""), f.now); // broadcast-only
  append(h, f.make("a:b:c"), f.now);
  auto r = h.after_if(
      0, [](const event& ev) { return ev.topic.empty(); }, f.now);
  CAF_CHECK(r.recovered);
  CAF_CHECK_EQUAL(seqs(r), (std::vector<uint64_t>{1}));
}

CAF_TEST(history rules parse with paths in their errors) {
  std::vector<history_rule> rules;
  CAF_CHECK_EQUAL(
      parse_history_rules(
          R"([{"pattern":"a:*:>","max_events":5,"max_age_seconds":9}])", rules),
      "");
  CAF_REQUIRE_EQUAL(rules.size(), 1u);
  CAF_CHECK_EQUAL(rules[0].max_events, 5u);
  CAF_CHECK_EQUAL(rules[0].max_age_seconds, 9u);
  CAF_CHECK_NOT_EQUAL(parse_history_rules(R"({"pattern":"a"})", rules), "");
  CAF_CHECK_EQUAL(parse_history_rules(R"([{"max_events":5}])", rules),
                  "[0].pattern: is required");
  CAF_CHECK(parse_history_rules(R"([{"pattern":"a:b*"}])", rules)
                .rfind("[0].pattern: ", 0)
            == 0);
  CAF_CHECK(parse_history_rules(R"([{"pattern":"a","max_events":0}])", rules)
                .rfind("[0].max_events: ", 0)
            == 0);
  CAF_CHECK(parse_history_rules(R"([{"pattern":"a","ttl":3}])", rules)
                .find("unknown member \"ttl\"")
            != std::string::npos);
}
