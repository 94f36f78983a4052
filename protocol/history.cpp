#include "protocol/history.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>

namespace herald::protocol {

namespace {

constexpr int64_t us_per_s = 1000000;

// What an event costs beyond its strings: the event object, its control
// blocks and the deque slot, rounded up.
constexpr uint64_t event_overhead = 320;

bool older_than(const event& ev, uint32_t max_age_seconds, int64_t now_us) {
  return now_us - ev.timestamp_us > int64_t{max_age_seconds} * us_per_s;
}

} // namespace

std::string parse_history_rules(std::string_view json,
                                std::vector<history_rule>& out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray())
    return "must be an array of {\"pattern\", \"max_events\", "
           "\"max_age_seconds\"} objects";
  std::vector<history_rule> rules;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    auto at = "[" + std::to_string(i) + "]";
    auto& item = doc[i];
    if (!item.IsObject())
      return at + ": must be an object";
    history_rule rule;
    for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) {
      std::string_view name{m->name.GetString(), m->name.GetStringLength()};
      auto& v = m->value;
      if (name == "pattern") {
        if (!v.IsString())
          return at + ".pattern: must be a string";
        rule.pattern.assign(v.GetString(), v.GetStringLength());
        topic_segments segments;
        std::string why;
        if (!parse_pattern(rule.pattern, segments, &why))
          return at + ".pattern: " + why;
      } else if (name == "max_events" || name == "max_age_seconds") {
        if (!v.IsUint() || v.GetUint() == 0)
          return at + "." + std::string(name)
                 + ": must be an integer in 1..4294967295";
        (name == "max_events" ? rule.max_events : rule.max_age_seconds) =
            v.GetUint();
      } else {
        return at + ": unknown member \"" + std::string(name)
               + "\" (pattern, max_events, max_age_seconds)";
      }
    }
    if (rule.pattern.empty())
      return at + ".pattern: is required";
    rules.push_back(std::move(rule));
  }
  out = std::move(rules);
  return {};
}

std::optional<position> parse_position(std::string_view text) {
  auto dash = text.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size())
    return std::nullopt;
  position pos;
  pos.epoch = text.substr(0, dash);
  auto digits = text.substr(dash + 1);
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), pos.seq);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return pos;
}

bool patterns_overlap(const topic_segments& a, const topic_segments& b) {
  std::size_t i = 0;
  for (; i < a.size() && i < b.size(); ++i) {
    // `>` takes one or more segments: whatever the other has from here on,
    // as long as it has something.
    if (a[i] == ">" || b[i] == ">")
      return true;
    if (a[i] != "*" && b[i] != "*" && a[i] != b[i])
      return false;
  }
  return a.size() == b.size();
}

history::history(history_limits limits) : limits_(std::move(limits)) {
  // Reserved up front: a ring's segments view its own pattern string, so
  // the rings never move once built.
  rings_.reserve(limits_.rules.size() + 1);
  for (auto& rule : limits_.rules)
    rings_.push_back(ring{rule, {}, false, {}, 0});
  rings_.push_back(ring{limits_.fallback, {}, true, {}, 0});
  for (auto& r : rings_)
    if (!r.fallback)
      parse_pattern(r.rule.pattern, r.pattern);
}

uint64_t history::cost(const event& ev) {
  uint64_t n = event_overhead + ev.id.size() + ev.topic.size()
               + ev.event_type.size() + ev.data_json.size()
               + ev.trace_json.size() + ev.pos.size();
  if (ev.ws_frame)
    n += ev.ws_frame->size();
  if (ev.sse_frame)
    n += ev.sse_frame->size();
  if (ev.envelope_frame)
    n += ev.envelope_frame->size();
  return n;
}

history::ring& history::ring_for(const topic_segments* topic) {
  if (topic != nullptr)
    for (auto& r : rings_)
      if (!r.fallback && pattern_matches(r.pattern, *topic))
        return r;
  return rings_.back();
}

void history::evict_front(ring& r) {
  auto& ev = *r.events.front();
  r.evicted_through = std::max(r.evicted_through, ev.seq);
  bytes_ -= cost(ev);
  --count_;
  ++evicted_;
  r.events.pop_front();
}

void history::expire(int64_t now_us) {
  for (auto& r : rings_)
    while (!r.events.empty()
           && older_than(*r.events.front(), r.rule.max_age_seconds, now_us))
      evict_front(r);
}

void history::append(const event_ptr& ev, const topic_segments* topic,
                     int64_t now_us) {
  auto& r = ring_for(topic);
  r.events.push_back(ev);
  bytes_ += cost(*ev);
  ++count_;
  if (r.events.size() > r.rule.max_events)
    evict_front(r);
  expire(now_us);
  // The byte bound takes the oldest event of the node, whatever its ring.
  while (bytes_ > limits_.max_bytes && count_ > 0) {
    ring* oldest = nullptr;
    for (auto& x : rings_)
      if (!x.events.empty()
          && (oldest == nullptr
              || x.events.front()->seq < oldest->events.front()->seq))
        oldest = &x;
    evict_front(*oldest);
  }
}

bool history::complete_since(const ring& r, uint64_t since) const {
  return r.evicted_through <= since;
}

template <class Pred>
history::replay history::collect(uint64_t since,
                                 const std::vector<const ring*>& rings,
                                 Pred&& wanted) {
  replay out;
  for (auto* r : rings)
    if (!complete_since(*r, since))
      return out;
  for (auto* r : rings) {
    auto first = std::upper_bound(
        r->events.begin(), r->events.end(), since,
        [](uint64_t s, const event_ptr& ev) { return s < ev->seq; });
    for (auto i = first; i != r->events.end(); ++i)
      if (wanted(**i)) {
        if (out.events.size() == limits_.max_replay_events)
          return replay{};
        out.events.push_back(*i);
      }
  }
  std::sort(
      out.events.begin(), out.events.end(),
      [](const event_ptr& a, const event_ptr& b) { return a->seq < b->seq; });
  out.recovered = true;
  return out;
}

history::replay history::after(uint64_t since,
                               const std::vector<topic_segments>& patterns,
                               int64_t now_us) {
  expire(now_us);
  // Only the rings that can hold a matching topic decide whether the
  // replay is complete; the fallback ring always can.
  std::vector<const ring*> rings;
  for (auto& r : rings_) {
    bool relevant = r.fallback;
    for (auto& p : patterns)
      relevant = relevant || patterns_overlap(r.pattern, p);
    if (relevant)
      rings.push_back(&r);
  }
  return collect(since, rings, [&](const event& ev) {
    if (ev.topic.empty())
      return false;
    topic_segments topic;
    if (!parse_topic(ev.topic, topic))
      return false;
    for (auto& p : patterns)
      if (pattern_matches(p, topic))
        return true;
    return false;
  });
}

history::replay
history::after_if(uint64_t since,
                  const std::function<bool(const event&)>& wanted,
                  int64_t now_us) {
  expire(now_us);
  std::vector<const ring*> rings;
  for (auto& r : rings_)
    rings.push_back(&r);
  return collect(since, rings, wanted);
}

} // namespace herald::protocol
