#include "actors/router.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"
#include "actors/topic.hpp"
#include "protocol/envelope.hpp"
#include "protocol/frames.hpp"
#include "protocol/sse.hpp"
#include "protocol/uuid.hpp"
#include "protocol/ws_codec.hpp"

#include <caf/all.hpp>

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

// Stamps an accepted event and freezes it: from here on it is shared,
// immutable, by every topic and connection that receives it. Each frame
// format is encoded here, once.
event_ptr stamp(router_state& st, std::shared_ptr<event>& ev) {
  ev->seq = ++st.seq;
  ev->pos = st.epoch;
  ev->pos += '-';
  ev->pos += std::to_string(ev->seq);
  ev->ws_frame = std::make_shared<const std::string>(
      ws::encode_frame(ws::opcode::text, encode_ws_event(*ev)));
  if (ev->envelope)
    ev->envelope_frame = std::make_shared<const std::string>(
        ws::encode_frame(ws::opcode::text, encode_envelope_event(*ev)));
  auto& metrics = st.ctx->metrics;
  if (sse::carries(*ev, st.ctx->settings.sse.broadcast_event_types)) {
    if (auto encoded = sse::encode_frame(*ev)) {
      ev->sse_frame =
          std::make_shared<const std::string>(std::move(encoded->frame));
      if (encoded->truncated)
        metrics.sse_truncated.fetch_add(1, std::memory_order_relaxed);
    } else {
      metrics.sse_skipped.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return std::move(ev);
}

void publish_gauges(router_state& st) {
  auto& m = st.ctx->metrics;
  m.history_events.store(static_cast<int64_t>(st.history->size()),
                         std::memory_order_relaxed);
  m.history_bytes.store(static_cast<int64_t>(st.history->bytes()),
                        std::memory_order_relaxed);
  m.history_evicted.store(st.history->evicted(), std::memory_order_relaxed);
}

// The replay part of an answer: what the history holds after `since`, when
// `since` is a position of this node's current life.
template <class Collect>
void fill_replay(router_state& st, const std::optional<std::string>& since,
                 replay_answer& answer, Collect&& collect) {
  answer.live_after = st.seq;
  if (!since)
    return;
  answer.asked = true;
  auto& metrics = st.ctx->metrics;
  metrics.replays.fetch_add(1, std::memory_order_relaxed);
  auto pos = parse_position(*since);
  // A position of another life of this node (or of nothing) cannot be
  // recovered from; one from the future neither.
  if (pos && pos->epoch == st.epoch && pos->seq <= st.seq) {
    auto replay = collect(pos->seq);
    answer.recovered = replay.recovered;
    answer.events = std::move(replay.events);
  }
  if (!answer.recovered)
    metrics.replays_failed.fetch_add(1, std::memory_order_relaxed);
  metrics.replayed_events.fetch_add(answer.events.size(),
                                    std::memory_order_relaxed);
}

topic_entry& join_topic(self_ptr self, const std::string& pattern) {
  auto& st = self->state;
  auto* entry = st.index.find(pattern);
  if (entry == nullptr) {
    auto actor = self->spawn<caf::linked>(topic, pattern, st.ctx, self->id());
    st.index.insert(pattern, topic_entry{actor, 0});
    entry = st.index.find(pattern);
  }
  return *entry;
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
  st.epoch = make_uuid_v4().substr(0, 8);
  return {
      [=](publish_atom, pending_events& events) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto& metrics = st.ctx->metrics;
        auto now = now_us();
        metrics.publish_queue.fetch_sub(static_cast<int64_t>(events.size()),
                                        std::memory_order_relaxed);
        for (auto& pending : events) {
          if (st.dedup->seen_before(pending->id, now)) {
            metrics.duplicates.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          auto ev = stamp(st, pending);
          ++st.routed;
          // Parsed once, for the history's rule and the index alike; an
          // empty topic (broadcast-only, for the SSE bridge) has no
          // segments. The publish API validated it.
          topic_segments segments;
          bool has_topic =
              !ev->topic.empty() && parse_topic(ev->topic, segments);
          st.history->append(ev, has_topic ? &segments : nullptr, now);
          if (ev->sse_frame) {
            auto i = st.sse_tenants.find(ev->aud.tenant_id);
            if (i != st.sse_tenants.end())
              self->send(i->second.actor, deliver_atom::value, ev);
          }
          if (!has_topic)
            continue;
          st.index.match(segments, [&](const topic_entry& entry) {
            self->send(entry.actor, deliver_atom::value, ev);
            if (st.counters != nullptr)
              actor_counters::bump(st.counters->delivered);
          });
        }
        publish_gauges(st);
      },
      [=](subscribe_atom, const subscribe_request& req,
          const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        std::vector<topic_segments> parsed;
        parsed.reserve(req.patterns.size());
        for (auto& pattern : req.patterns) {
          // Connections check patterns first; nothing else holding our
          // handle may make us index garbage.
          topic_segments segments;
          if (!parse_pattern(pattern, segments))
            continue;
          parsed.push_back(segments);
          auto& entry = join_topic(self, pattern);
          ++entry.subscribers;
          self->send(entry.actor, join_atom::value, who);
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
        auto* entry = st.index.find(pattern);
        if (entry == nullptr)
          return;
        self->send(entry->actor, leave_atom::value, who);
        if (--entry->subscribers == 0) {
          // The topic quits normally: the link does not take us down.
          self->send(entry->actor, stop_atom::value);
          st.index.erase(pattern);
        }
      },
      [=](sse_atom, const sse_request& req, const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto i = st.sse_tenants.find(req.tenant);
        if (i == st.sse_tenants.end()) {
          auto actor = self->spawn<caf::linked>(
              topic, sse_fanout_name(req.tenant), st.ctx, self->id());
          i = st.sse_tenants.emplace(req.tenant, topic_entry{actor, 0}).first;
        }
        ++i->second.subscribers;
        self->send(i->second.actor, join_atom::value, who);
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
        self->send(i->second.actor, leave_atom::value, who);
        if (--i->second.subscribers == 0) {
          self->send(i->second.actor, stop_atom::value);
          st.sse_tenants.erase(i);
        }
      },
      [=](stats_atom) {
        return std::make_tuple(uint64_t{self->state.index.size()},
                               self->state.routed);
      },
  };
}

} // namespace herald::actors
