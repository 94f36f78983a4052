#include "actors/topic.hpp"

#include "actors/instrument.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace herald::actors {

using namespace protocol;

namespace {

// The console's subscriber count (docs/console.md): one relaxed store.
void show_subscribers(topic_state& st) {
  if (st.counters != nullptr)
    st.counters->gauge.store(st.subscribers.size(), std::memory_order_relaxed);
}

} // namespace

topic_actor::behavior_type
topic(topic_actor::stateful_pointer<topic_state> self, std::string pattern,
      context_ptr ctx, uint64_t parent) {
  self->state.counters = enroll(self, ctx, actor_kind::topic, pattern, parent);
  self->state.key = pattern_key(pattern);
  self->state.pattern = std::move(pattern);
  ctx->metrics.topics.fetch_add(1, std::memory_order_relaxed);
  self->attach_functor(
      [ctx] { ctx->metrics.topics.fetch_sub(1, std::memory_order_relaxed); });
  return {
      [=](deliver_atom, const event_ptr& ev) {
        // One message, built once and shared (reference-counted) by every
        // subscriber's mailbox: a fan-out to N costs N mailbox elements and
        // nothing else, the event itself never copied.
        auto& st = self->state;
        count_message(self, st.counters);
        if (st.subscribers.empty())
          return;
        auto msg = caf::make_message(deliver_atom::value, ev, st.key);
        for (auto& subscriber : st.subscribers)
          caf::actor_cast<caf::abstract_actor*>(subscriber)
              ->enqueue(caf::make_mailbox_element(
                            self->ctrl(), caf::make_message_id(), {}, msg),
                        self->context());
        if (st.counters != nullptr) {
          actor_counters::bump(st.counters->delivered, st.subscribers.size());
          st.counters->last_seq.store(ev->seq, std::memory_order_relaxed);
        }
      },
      [=](join_atom, const connection_actor& who) {
        count_message(self, self->state.counters);
        self->state.subscribers.push_back(who);
        show_subscribers(self->state);
      },
      [=](leave_atom, const connection_actor& who) {
        // Linear in the subscriber count; leaving is rare next to delivering.
        count_message(self, self->state.counters);
        auto& subs = self->state.subscribers;
        auto i = std::find(subs.begin(), subs.end(), who);
        if (i != subs.end()) {
          *i = std::move(subs.back());
          subs.pop_back();
        }
        show_subscribers(self->state);
      },
      [=](stop_atom) { self->quit(); },
  };
}

} // namespace herald::actors
