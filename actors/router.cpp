#include "actors/router.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"
#include "actors/topic.hpp"
#include "protocol/frames.hpp"
#include "protocol/uuid.hpp"
#include "protocol/ws_codec.hpp"

#include <caf/all.hpp>

namespace herald::actors {

using namespace protocol;

namespace {

// Stamps an accepted event and freezes it: from here on it is shared,
// immutable, by every topic and connection that receives it.
event_ptr stamp(router_state& st, std::shared_ptr<event>& ev) {
  ev->seq = ++st.seq;
  ev->pos = st.epoch;
  ev->pos += '-';
  ev->pos += std::to_string(ev->seq);
  ev->ws_frame = std::make_shared<const std::string>(
      ws::encode_frame(ws::opcode::text, encode_ws_event(*ev)));
  return std::move(ev);
}

} // namespace

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self, context_ptr ctx,
       uint64_t parent) {
  auto& st = self->state;
  st.ctx = ctx;
  st.counters = enroll(self, ctx, actor_kind::router, "router", parent);
  st.dedup.emplace(ctx->settings.dedup.max_entries,
                   int64_t{ctx->settings.dedup.window_seconds} * 1000000);
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
          if (ev->topic.empty())
            continue; // broadcast-only: for the SSE bridge, no /ws topic
          topic_segments segments;
          if (!parse_topic(ev->topic, segments))
            continue; // the publish API validated it; never expected
          st.index.match(segments, [&](const topic_entry& entry) {
            self->send(entry.actor, deliver_atom::value, ev);
            if (st.counters != nullptr)
              actor_counters::bump(st.counters->delivered);
          });
        }
      },
      [=](subscribe_atom, const std::string& pattern,
          const connection_actor& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto* entry = st.index.find(pattern);
        if (entry == nullptr) {
          // Connections check patterns first; nothing else holding our
          // handle may make us index garbage.
          topic_segments segments;
          if (!parse_pattern(pattern, segments))
            return;
          auto actor =
              self->spawn<caf::linked>(topic, pattern, st.ctx, self->id());
          st.index.insert(pattern, topic_entry{actor, 0});
          entry = st.index.find(pattern);
        }
        ++entry->subscribers;
        self->send(entry->actor, join_atom::value, who);
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
      [=](stats_atom) {
        return std::make_tuple(uint64_t{self->state.index.size()},
                               self->state.routed);
      },
  };
}

} // namespace herald::actors
