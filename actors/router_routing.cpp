#include "actors/router_detail.hpp"

#include "actors/clock.hpp"
#include "actors/event_frames.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>

namespace herald::actors {

using namespace protocol;

namespace {

// Sets the position a frame carries here and encodes each frame format,
// once per event and node.
void localize(router_state& st, event& ev, std::string pos) {
  ev.pos = std::move(pos);
  encode_event_frames(st.ctx->settings, st.ctx->metrics, ev);
}

// The position of what is delivered here now: this node's own sequence
// and, in a cluster, every other owner's mark.
std::string current_pos(const router_state& st) {
  // Per event and node: encoded straight from the marks, this node's own
  // entry slotted in by epoch order, without copying the vector.
  std::string pos;
  pos.reserve((st.marks.size() + 1) * 20);
  bool mine_written = false;
  auto put = [&](const std::string& epoch, uint64_t seq) {
    if (!pos.empty())
      pos += '.';
    pos += epoch;
    pos += '-';
    pos += std::to_string(seq);
  };
  for (auto& e : st.marks) {
    if (!mine_written && st.epoch <= e.epoch) {
      put(st.epoch, std::max(st.seq, e.epoch == st.epoch ? e.seq : 0));
      mine_written = true;
      if (e.epoch == st.epoch)
        continue;
    }
    put(e.epoch, e.seq);
  }
  if (!mine_written)
    put(st.epoch, st.seq);
  return pos;
}

// Hands a frozen event to the topic actors whose pattern matches it and,
// when the SSE bridge carries it, to its tenant's fan-out.
void route_local(router_self self, const event_ptr& ev) {
  auto& st = self->state;
  if (ev->sse_frame) {
    auto i = st.sse_tenants.find(ev->aud.tenant_id);
    if (i != st.sse_tenants.end())
      self->send(i->second.actor, deliver_atom::value, ev);
  }
  topic_segments segments;
  if (ev->topic.empty() || !parse_topic(ev->topic, segments))
    return;
  st.index.match(segments, [&](const topic_entry& entry) {
    self->send(entry.actor, deliver_atom::value, ev);
    if (st.counters != nullptr)
      actor_counters::bump(st.counters->delivered);
  });
}

// Stamps an event this node owns and freezes it: from here on it is
// shared, immutable, by every topic and connection that receives it.
void own_route(router_self self, std::shared_ptr<event>& pending, int64_t now,
               std::vector<event_ptr>& forward) {
  auto& st = self->state;
  if (st.dedup->seen_before(pending->id, now)) {
    st.ctx->metrics.duplicates.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending->owner = st.epoch;
  pending->seq = ++st.seq;
  localize(st, *pending, current_pos(st));
  event_ptr ev = std::move(pending);
  ++st.routed;
  // Parsed once for the history's rule; an empty topic (broadcast-only,
  // for the SSE bridge) has no segments. The publish API validated it.
  topic_segments segments;
  bool has_topic = !ev->topic.empty() && parse_topic(ev->topic, segments);
  st.history->append(ev, has_topic ? &segments : nullptr, now);
  route_local(self, ev);
  if (st.cluster)
    forward.push_back(std::move(ev));
}

// What decides a topic's owner: the topic, or for a broadcast-only event
// its tenant's SSE fan-out.
std::string owner_key(const event& ev) {
  return ev.topic.empty() ? sse_fanout_name(ev.aud.tenant_id) : ev.topic;
}

bool is_live_epoch(const router_state& st, const std::string& epoch) {
  if (epoch == st.epoch)
    return true;
  for (auto& kv : st.epoch_of)
    if (kv.second == epoch)
      return true;
  return false;
}

// This node's events after `since` that a replay wants: a subscribe's
// topic patterns, or an SSE tenant's bridge events.
history::replay collect_own(router_state& st, uint64_t since,
                            const std::vector<std::string>& patterns,
                            const std::string& sse_tenant) {
  if (since > st.seq)
    return {};
  if (!sse_tenant.empty())
    return st.history->after_if(
        since,
        [&](const event& ev) {
          return ev.sse_frame && ev.aud.tenant_id == sse_tenant;
        },
        now_us());
  std::vector<topic_segments> parsed;
  for (auto& p : patterns) {
    topic_segments segments;
    if (parse_pattern(p, segments))
      parsed.push_back(segments);
  }
  return st.history->after(since, parsed, now_us());
}

} // namespace

void route_published(router_self self, pending_events& events, bool owned) {
  auto& st = self->state;
  auto now = now_us();
  std::vector<event_ptr> forward;
  std::map<std::string, pending_events> handed;
  const auto& me = st.ctx->settings.node_name;
  for (auto& pending : events) {
    if (!owned && st.ring && !st.ring->empty()) {
      auto& owner = st.ring->owner_of(owner_key(*pending));
      if (owner != me) {
        handed[owner].push_back(std::move(pending));
        continue;
      }
    }
    own_route(self, pending, now, forward);
  }
  for (auto& [owner, batch] : handed) {
    st.ctx->metrics.cluster_owner_hops.fetch_add(batch.size(),
                                                 std::memory_order_relaxed);
    self->send(st.cluster, owner_atom::value, owner, std::move(batch));
  }
  if (!forward.empty())
    self->send(st.cluster, forward_atom::value, std::move(forward));
}

void route_remote(router_self self, pending_events& events) {
  auto& st = self->state;
  st.ctx->metrics.cluster_received.fetch_add(events.size(),
                                             std::memory_order_relaxed);
  for (auto& pending : events) {
    raise_entry(st.marks, pending->owner, pending->seq);
    localize(st, *pending, current_pos(st));
    ++st.routed;
    route_local(self, event_ptr{std::move(pending)});
  }
}

void start_sync(router_self self, const connection_actor& who, uint64_t ticket,
                const std::optional<std::string>& since,
                std::vector<std::string> patterns, std::string sse_tenant) {
  auto& st = self->state;
  pending_sync p;
  p.who = who;
  p.ticket = ticket;
  p.asked = since.has_value();
  p.patterns = std::move(patterns);
  p.sse_tenant = std::move(sse_tenant);
  p.own_live_after = st.seq;
  if (p.asked) {
    st.ctx->metrics.replays.fetch_add(1, std::memory_order_relaxed);
    if (auto v = parse_position_vector(*since)) {
      p.since = std::move(*v);
      auto* mine = find_entry(p.since, st.epoch);
      auto replay = collect_own(st, mine != nullptr ? mine->seq : 0, p.patterns,
                                p.sse_tenant);
      p.own_recovered = replay.recovered;
      p.own_events = std::move(replay.events);
    } else {
      p.own_recovered = false;
    }
  }
  auto id = st.next_sync++;
  sync_request req;
  req.ticket = id;
  req.asked = p.asked;
  req.since = p.since;
  req.patterns = p.patterns;
  req.sse_tenant = p.sse_tenant;
  st.syncs.emplace(id, std::move(p));
  self->send(st.cluster, sync_atom::value, std::move(req));
}

void finish_sync(router_self self, uint64_t sync, replay_parts& parts) {
  auto& st = self->state;
  auto i = st.syncs.find(sync);
  if (i == st.syncs.end())
    return;
  auto p = std::move(i->second);
  st.syncs.erase(i);
  replay_answer answer;
  answer.ticket = p.ticket;
  answer.asked = p.asked;
  answer.live_after = {position_entry{st.epoch, p.own_live_after}};
  bool recovered = p.own_recovered;
  // Each owner's events, in its sequence order.
  std::vector<std::vector<event_ptr>> lists;
  lists.push_back(std::move(p.own_events));
  for (auto& part : parts) {
    raise_entry(answer.live_after, part.epoch, part.live_after);
    if (is_live_epoch(st, part.epoch))
      raise_entry(st.marks, part.epoch, part.live_after);
    recovered = recovered && part.recovered;
    std::vector<event_ptr> list;
    for (auto& w : part.events)
      list.push_back(from_wire(std::move(w)));
    lists.push_back(std::move(list));
  }
  position_vector running;
  for (auto& e : p.since)
    if (is_live_epoch(st, e.epoch))
      running.push_back(e);
    else
      recovered = false; // its history died with it, or is cut off
  if (p.asked && recovered) {
    // Merged by acceptance time, each owner's own order kept; every event
    // gets the position of everything before it in this answer.
    std::vector<std::size_t> next(lists.size(), 0);
    for (;;) {
      std::size_t best = lists.size();
      for (std::size_t l = 0; l < lists.size(); ++l)
        if (next[l] < lists[l].size()
            && (best == lists.size()
                || lists[l][next[l]]->timestamp_us
                       < lists[best][next[best]]->timestamp_us))
          best = l;
      if (best == lists.size())
        break;
      auto& ev = lists[best][next[best]++];
      raise_entry(running, ev->owner, ev->seq);
      auto copy = std::make_shared<event>(*ev);
      localize(st, *copy, encode_position_vector(running));
      answer.events.push_back(std::move(copy));
    }
  }
  auto& metrics = st.ctx->metrics;
  if (p.asked) {
    answer.recovered = recovered;
    if (!recovered)
      metrics.replays_failed.fetch_add(1, std::memory_order_relaxed);
    metrics.replayed_events.fetch_add(answer.events.size(),
                                      std::memory_order_relaxed);
  }
  self->send(p.who, replay_atom::value, std::move(answer));
}

replay_part answer_query(router_state& st, const replay_query& query) {
  replay_part part;
  part.epoch = st.epoch;
  part.live_after = st.seq;
  if (!query.asked)
    return part;
  auto replay = collect_own(st, query.since, query.patterns, query.sse_tenant);
  part.recovered = replay.recovered;
  for (auto& ev : replay.events)
    part.events.push_back(to_wire(*ev));
  return part;
}

void on_members(router_self self, const std::vector<std::string>& names,
                const std::vector<std::string>& epochs) {
  auto& st = self->state;
  st.epoch_of.clear();
  for (std::size_t i = 0; i < names.size() && i < epochs.size(); ++i)
    st.epoch_of.emplace(names[i], epochs[i]);
  auto all = names;
  all.push_back(st.ctx->settings.node_name);
  st.ring.emplace(std::move(all));
  st.marks.erase(std::remove_if(st.marks.begin(), st.marks.end(),
                                [&](const position_entry& e) {
                                  return !is_live_epoch(st, e.epoch);
                                }),
                 st.marks.end());
}

} // namespace herald::actors
