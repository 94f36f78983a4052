#include "actors/connection_delivery.hpp"

#include "actors/event_frames.hpp"
#include "protocol/audience.hpp"
#include "protocol/frames.hpp"
#include "protocol/sse.hpp"
#include "protocol/ws_codec.hpp"

#include <algorithm>

namespace herald::actors {

using namespace protocol;

namespace {

// A connection receives an event at most once however many of its patterns
// match: the copy that arrives through the first matching subscription (in
// subscription order) is the one delivered, the others are dropped. Costs a
// scan of this connection's patterns, only when it holds more than one.
// Returns the subscription a copy is delivered through, or null.
subscription* canonical_subscription(connection_state& st, const event& ev,
                                     uint64_t key) {
  if (st.subs.size() == 1)
    return st.subs.front().key == key ? &st.subs.front() : nullptr;
  topic_segments topic;
  if (!parse_topic(ev.topic, topic))
    return nullptr;
  topic_segments pattern;
  for (auto& sub : st.subs)
    if (parse_pattern(sub.pattern, pattern) && pattern_matches(pattern, topic))
      return sub.key == key ? &sub : nullptr;
  return nullptr;
}

// Whether a live event came through `sub` after its answer's range, that
// is, was not in the answer.
bool comes_live(const subscription& sub, const event& ev) {
  auto* entry = find_entry(sub.live_after, ev.owner);
  return entry == nullptr || ev.seq > entry->seq;
}

// Live events a subscription may hold back before the router answers;
// past it the newest are dropped (and counted).
constexpr std::size_t max_held_events = 10000;

// The frame this connection's socket takes for an event; null when the
// event has none of that kind (not an envelope event, not for SSE).
const frame_ptr& frame_for(const connection_state& st, const event& ev) {
  switch (st.kind) {
  case connection_kind::envelope:
    return ev.envelope_frame;
  case connection_kind::sse:
    return ev.sse_frame;
  case connection_kind::ws:
    break;
  }
  return ev.ws_frame;
}

// Audience, format and (SSE) event_type filters, then the socket. Counted
// in this actor's own block when it has one (summed at scrape time), else
// in the node counters that every CAF worker shares, whose cache line then
// moves between cores per delivery.
void deliver_event(connection_state& st, const event& ev) {
  auto& frame = frame_for(st, ev);
  if (!frame)
    return;
  if (st.kind == connection_kind::sse
      && !sse::any_matches(st.sse.patterns, ev.event_type))
    return;
  auto* c = st.counters;
  auto& metrics = st.ctx->metrics;
  if (!audience_allows(ev.aud, st.who)) {
    if (c != nullptr)
      actor_counters::bump(c->filtered);
    else
      metrics.audience_filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool queued = st.sink->send(frame);
  if (c != nullptr)
    actor_counters::bump(queued ? c->delivered : c->dropped);
  else
    (queued ? metrics.deliveries : metrics.drops)
        .fetch_add(1, std::memory_order_relaxed);
}

// A live event: as it is, unless its position is behind the floor a
// replay left (see connection_state::floor); then a copy whose position
// merges the two.
void deliver_live(connection_state& st, const event_ptr& ev) {
  if (!st.floor) {
    deliver_event(st, *ev);
    return;
  }
  auto pos = parse_position_vector(ev->pos);
  if (!pos) {
    deliver_event(st, *ev);
    return;
  }
  bool behind = false;
  for (auto& e : *st.floor) {
    // An owner the live position no longer names has left: nothing of it
    // comes live any more.
    auto* mine = find_entry(*pos, e.epoch);
    if (mine != nullptr && mine->seq < e.seq) {
      behind = true;
      raise_entry(*pos, e.epoch, e.seq);
    }
  }
  if (!behind) {
    st.floor.reset();
    deliver_event(st, *ev);
    return;
  }
  auto copy = std::make_shared<event>(*ev);
  copy->pos = encode_position_vector(*pos);
  encode_event_frames(st.ctx->settings, st.ctx->metrics, *copy);
  deliver_event(st, *copy);
}

// After an answer: the floor for live events is its last replayed
// position, if it replayed anything.
void set_floor(connection_state& st, const replay_answer& answer) {
  if (answer.events.empty())
    return;
  if (auto v = parse_position_vector(answer.events.back()->pos))
    st.floor = std::move(*v);
}

// Whether a replayed event is owed: some subscription matches it, and
// none that matches it was live when it was routed (that one delivered
// it already, or has it in flight).
bool owed(const connection_state& st, const event& ev) {
  topic_segments topic;
  if (!parse_topic(ev.topic, topic))
    return false;
  bool matched = false;
  topic_segments pattern;
  for (auto& sub : st.subs) {
    if (!parse_pattern(sub.pattern, pattern)
        || !pattern_matches(pattern, topic))
      continue;
    if (!sub.pending && comes_live(sub, ev))
      return false;
    matched = true;
  }
  return matched;
}

// Delivers what a subscription held back while its answer was on the way,
// minus what the answer carried.
void release_held(connection_state& st, subscription& sub) {
  auto held = std::move(sub.held);
  sub.held.clear();
  for (auto& ev : held)
    if (comes_live(sub, *ev))
      deliver_live(st, ev);
}

} // namespace

// Frames to the client travel as complete wire frames (see
// protocol/ws_codec.hpp): the session writes them as they are.
void push(connection_state& st, std::string_view json) {
  st.sink->send(std::make_shared<const std::string>(
      ws::encode_frame(ws::opcode::text, json)));
}

subscription* find_subscription(connection_state& st, std::string_view p) {
  for (auto& sub : st.subs)
    if (sub.pattern == p)
      return &sub;
  return nullptr;
}

void on_replay(connection_state& st, replay_answer& answer) {
  if (st.kind == connection_kind::sse) {
    if (st.closing || st.subs.empty())
      return;
    auto& sub = st.subs.front();
    sub.live_after = answer.live_after;
    sub.pending = false;
    st.sink->ready();
    if (answer.asked && !answer.recovered)
      st.sink->send(std::make_shared<const std::string>(
          sse::encode_named("herald.recovery", R"({"recovered":false})")));
    for (auto& ev : answer.events)
      deliver_event(st, *ev);
    set_floor(st, answer);
    release_held(st, sub);
    return;
  }
  auto i = std::find_if(st.pending.begin(), st.pending.end(),
                        [&](auto& p) { return p.ticket == answer.ticket; });
  if (i == st.pending.end())
    return;
  auto p = std::move(*i);
  st.pending.erase(i);
  std::vector<subscription*> answered;
  for (auto& pattern : p.patterns)
    if (auto* sub = find_subscription(st, pattern)) {
      sub->live_after = answer.live_after;
      answered.push_back(sub);
    }
  if (st.closing)
    return;
  if (p.deferred_ack)
    push(st, encode_ack("subscribe", p.accepted, p.id,
                        answer.asked ? std::optional<bool>{answer.recovered}
                                     : std::nullopt));
  // Still pending while the replay is judged: owed() must not take them
  // for live subscriptions that delivered it.
  for (auto& ev : answer.events)
    if (owed(st, *ev))
      deliver_event(st, *ev);
  set_floor(st, answer);
  for (auto* sub : answered) {
    sub->pending = false;
    release_held(st, *sub);
  }
}

void on_deliver(connection_state& st, const event_ptr& ev, uint64_t key) {
  // Copies may still arrive from a pattern just unsubscribed: the key is
  // checked even with one subscription left.
  if (st.subs.empty())
    return;
  auto* sub = canonical_subscription(st, *ev, key);
  if (sub == nullptr)
    return;
  if (sub->pending) {
    if (sub->held.size() < max_held_events)
      sub->held.push_back(ev);
    else
      st.ctx->metrics.drops.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (comes_live(*sub, *ev))
    deliver_live(st, ev);
}

} // namespace herald::actors
