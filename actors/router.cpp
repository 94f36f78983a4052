#include "actors/router.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"
#include "actors/router_detail.hpp"
#include "actors/topic.hpp"
#include "protocol/uuid.hpp"

#include <caf/all.hpp>

#include <unordered_set>

namespace herald::actors {

using namespace protocol;

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

protocol::history_limits history_limits_of(const config::settings& s) {
  protocol::history_limits limits;
  limits.rules = s.history.rules;
  limits.fallback.max_events = s.history.max_events;
  limits.fallback.max_age_seconds = s.history.max_age_seconds;
  limits.max_bytes = s.history.max_bytes;
  limits.max_replay_events = s.history.max_replay_events;
  return limits;
}

void publish_gauges(router_state& st) {
  auto& m = st.ctx->metrics;
  m.history_events.store(static_cast<int64_t>(st.history->size()),
                         std::memory_order_relaxed);
  m.history_bytes.store(static_cast<int64_t>(st.history->bytes()),
                        std::memory_order_relaxed);
  m.history_evicted.store(st.history->evicted(), std::memory_order_relaxed);
}

// The replay part of a lone node's answer: what the history holds after
// `since`, when `since` is a position of this node's current life.
template <class Collect>
void fill_replay(router_state& st, const std::optional<std::string>& since,
                 replay_answer& answer, Collect&& collect) {
  answer.live_after = {position_entry{st.epoch, st.seq}};
  if (!since)
    return;
  answer.asked = true;
  auto& metrics = st.ctx->metrics;
  metrics.replays.fetch_add(1, std::memory_order_relaxed);
  auto pos = parse_position_vector(*since);
  // A position of another life of this node (or of nothing) cannot be
  // recovered from; one from the future neither.
  if (pos && pos->size() == 1 && pos->front().epoch == st.epoch
      && pos->front().seq <= st.seq) {
    auto replay = collect(pos->front().seq);
    answer.recovered = replay.recovered;
    answer.events = std::move(replay.events);
  }
  if (!answer.recovered)
    metrics.replays_failed.fetch_add(1, std::memory_order_relaxed);
  metrics.replayed_events.fetch_add(answer.events.size(),
                                    std::memory_order_relaxed);
}

// Joins `who` to the pattern's topic actor, spawning it (and telling the
// other members of the new interest) when it is the first holder.
topic_entry& join_topic(self_ptr self, const std::string& pattern,
                        const connection_actor& who,
                        std::vector<std::string>& added) {
  auto& st = self->state;
  auto* entry = st.index.find(pattern);
  if (entry == nullptr) {
    auto actor = self->spawn<caf::linked>(topic, pattern, st.ctx, self->id());
    st.index.insert(pattern, topic_entry{actor, {}});
    entry = st.index.find(pattern);
    added.push_back(pattern);
  }
  entry->holders.push_back(who.id());
  self->send(entry->actor, join_atom::value, who);
  return *entry;
}

// Removes `who` from an entry; true when it was the last holder.
bool leave_entry(self_ptr self, topic_entry& entry,
                 const connection_actor& who) {
  self->send(entry.actor, leave_atom::value, who);
  auto& h = entry.holders;
  for (auto i = h.begin(); i != h.end(); ++i)
    if (*i == who.id()) {
      *i = h.back();
      h.pop_back();
      break;
    }
  if (!h.empty())
    return false;
  // The topic quits normally: the link does not take us down.
  self->send(entry.actor, stop_atom::value);
  return true;
}

void tell_interest(router_state& st, std::vector<std::string> added,
                   std::vector<std::string> removed) {
  if (st.cluster && (!added.empty() || !removed.empty()))
    anon_send(st.cluster, interest_atom::value, std::move(added),
              std::move(removed));
}

uint64_t local_presence(router_state& st, const std::string& topic) {
  topic_segments segments;
  if (!parse_topic(topic, segments))
    return 0;
  std::unordered_set<caf::actor_id> seen;
  st.index.match(segments, [&](const topic_entry& entry) {
    for (auto id : entry.holders)
      if (st.observers.count(id) == 0)
        seen.insert(id);
  });
  return seen.size();
}

void schedule_tick(self_ptr self) {
  self->delayed_send(
      self,
      std::chrono::milliseconds{self->state.ctx->settings.cluster.heartbeat_ms},
      tick_atom::value);
}

} // namespace

std::string sse_fanout_name(const std::string& tenant) {
  // `=` is not a topic character: this never names a /ws pattern.
  return "sse:tenant=" + tenant;
}

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, context_ptr ctx,
       uint64_t parent) {
  auto& st = self->state;
  st.ctx = ctx;
  st.counters = enroll(self, ctx, actor_kind::router, "router", parent);
  st.dedup.emplace(ctx->settings.dedup.max_entries,
                   int64_t{ctx->settings.dedup.window_seconds} * 1000000);
  st.history.emplace(history_limits_of(ctx->settings));
  st.epoch = ctx->epoch.empty() ? make_uuid_v4().substr(0, 8) : ctx->epoch;
  return {
      [=](publish_atom, pending_events& events) {
        auto& st = self->state;
        count_message(self, st.counters);
        st.ctx->metrics.publish_queue.fetch_sub(
            static_cast<int64_t>(events.size()), std::memory_order_relaxed);
        route_published(self, events, false);
        publish_gauges(st);
      },
      [=](owner_atom, pending_events& events) {
        // Handed to us as owner by another member: ours, whatever our ring
        // says now (a hand-over never bounces).
        count_message(self, self->state.counters);
        route_published(self, events, true);
        publish_gauges(self->state);
      },
      [=](forward_atom, pending_events& events) {
        count_message(self, self->state.counters);
        route_remote(self, events);
      },
      [=](subscribe_atom, const subscribe_request& req,
          const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (req.observer)
          st.observers.insert(who.id());
        std::vector<topic_segments> parsed;
        std::vector<std::string> added;
        parsed.reserve(req.patterns.size());
        for (auto& pattern : req.patterns) {
          // Connections check patterns first; nothing else holding our
          // handle may make us index garbage.
          topic_segments segments;
          if (!parse_pattern(pattern, segments))
            continue;
          parsed.push_back(segments);
          join_topic(self, pattern, who, added);
        }
        bool reaches_members = !added.empty() || req.since.has_value();
        tell_interest(st, added, {});
        if (st.cluster && reaches_members) {
          auto patterns = req.patterns;
          patterns.insert(patterns.end(), req.also_replay.begin(),
                          req.also_replay.end());
          start_sync(self, who, req.ticket, req.since, std::move(patterns), {});
          return;
        }
        // Everything routed so far is history; everything after comes
        // through the topics just joined. The answer is sent before any of
        // those, so it reaches the connection first.
        replay_answer answer;
        answer.ticket = req.ticket;
        fill_replay(st, req.since, answer, [&](uint64_t since) {
          return st.history->after(since, parsed, now_us());
        });
        self->send(who, replay_atom::value, std::move(answer));
      },
      [=](unsubscribe_atom, const std::string& pattern,
          const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        // An observer holds one pattern: its unsubscribe is its end.
        st.observers.erase(who.id());
        auto* entry = st.index.find(pattern);
        if (entry == nullptr)
          return;
        if (leave_entry(self, *entry, who)) {
          st.index.erase(pattern);
          tell_interest(st, {}, {pattern});
        }
      },
      [=](sse_atom, const sse_request& req, const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto name = sse_fanout_name(req.tenant);
        auto i = st.sse_tenants.find(req.tenant);
        bool added = false;
        if (i == st.sse_tenants.end()) {
          auto actor =
              self->spawn<caf::linked>(topic, name, st.ctx, self->id());
          i = st.sse_tenants.emplace(req.tenant, topic_entry{actor, {}}).first;
          added = true;
        }
        i->second.holders.push_back(who.id());
        self->send(i->second.actor, join_atom::value, who);
        if (added)
          tell_interest(st, {name}, {});
        if (st.cluster && (added || req.since)) {
          start_sync(self, who, 0, req.since, {}, req.tenant);
          return;
        }
        replay_answer answer;
        fill_replay(st, req.since, answer, [&](uint64_t since) {
          return st.history->after_if(
              since,
              [&](const event& ev) {
                return ev.sse_frame && ev.aud.tenant_id == req.tenant;
              },
              now_us());
        });
        self->send(who, replay_atom::value, std::move(answer));
      },
      [=](sse_atom, leave_atom, const std::string& tenant,
          const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto i = st.sse_tenants.find(tenant);
        if (i == st.sse_tenants.end())
          return;
        if (leave_entry(self, i->second, who)) {
          st.sse_tenants.erase(i);
          tell_interest(st, {}, {sse_fanout_name(tenant)});
        }
      },
      [=](stats_atom) {
        return std::make_tuple(uint64_t{self->state.index.size()},
                               self->state.routed);
      },
      [=](presence_atom,
          const std::string& topic) -> caf::result<presence_answer> {
        auto& st = self->state;
        if (st.cluster)
          return self->delegate(st.cluster, presence_atom::value, topic);
        presence_answer answer;
        answer.nodes.push_back(st.ctx->settings.node_name);
        answer.counts.push_back(local_presence(st, topic));
        return answer;
      },
      [=](presence_atom, const std::string& topic, bool) {
        return local_presence(self->state, topic);
      },
      [=](cluster_atom, const cluster_actor& cluster) {
        auto& st = self->state;
        st.cluster = cluster;
        st.ring.emplace(std::vector<std::string>{st.ctx->settings.node_name});
        schedule_tick(self);
      },
      [=](members_atom, const std::vector<std::string>& names,
          const std::vector<std::string>& epochs) {
        count_message(self, self->state.counters);
        on_members(self, names, epochs);
      },
      [=](sync_atom, uint64_t sync, replay_parts& parts) {
        count_message(self, self->state.counters);
        finish_sync(self, sync, parts);
      },
      [=](query_atom, const replay_query& query) {
        count_message(self, self->state.counters);
        return answer_query(self->state, query);
      },
      [=](mark_atom, const std::string& epoch, uint64_t seq) {
        auto& st = self->state;
        // Only a live member's: a late watermark of a departed one must not
        // bring its epoch back into positions.
        for (auto& kv : st.epoch_of)
          if (kv.second == epoch) {
            raise_entry(st.marks, epoch, seq);
            return;
          }
      },
      [=](tick_atom) {
        auto& st = self->state;
        if (st.cluster)
          self->send(st.cluster, mark_atom::value, st.seq);
        schedule_tick(self);
      },
  };
}

} // namespace herald::actors
