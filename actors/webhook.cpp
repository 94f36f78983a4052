#include "actors/webhook.hpp"

#include "actors/clock.hpp"
#include "protocol/breaker.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>

namespace herald::actors {

namespace {

struct webhook_state {
  static inline const char* name = "herald.webhook";
  context_ptr ctx;
  protocol::probe_spec spec; ///< the POST; `body` set per attempt
  prober_actor prober;
  std::optional<protocol::circuit_breaker> breaker;
  std::deque<std::string> queue;
  uint32_t attempts = 0; ///< of the event at the front
  bool in_flight = false;
  bool waiting = false; ///< a backoff or the open breaker holds posts back
};

using self_ptr = webhook_actor::stateful_pointer<webhook_state>;

// The actor's clock: CAF's steady clock, virtual under the test
// coordinator, so the breaker's timing and the delayed retries agree.
int64_t now_ms(self_ptr self) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
      .count();
}

void wait_then_retry(self_ptr self, uint32_t ms) {
  self->state.waiting = true;
  self->delayed_send(self, std::chrono::milliseconds{ms},
                     protocol::tick_atom::value);
}

void log_transitions(webhook_state& st) {
  for (auto& t : st.breaker->take_transitions())
    spdlog::log(t.to == protocol::breaker_state::closed ? spdlog::level::info
                                                        : spdlog::level::warn,
                "chat events webhook breaker {} -> {}: {}", to_string(t.from),
                to_string(t.to), t.reason);
}

void post_next(self_ptr self) {
  auto& st = self->state;
  if (st.in_flight || st.waiting || st.queue.empty())
    return;
  auto now = now_ms(self);
  if (!st.breaker->admit(now)) {
    log_transitions(st);
    return wait_then_retry(self, st.ctx->settings.chat_events.webhook_open_ms);
  }
  log_transitions(st);
  st.in_flight = true;
  auto spec = st.spec;
  spec.body = st.queue.front();
  // The prober bounds the attempt by spec.timeout_ms; the request's own
  // bound only covers a prober that never answers.
  self->request(st.prober, std::chrono::milliseconds{spec.timeout_ms + 2000},
                protocol::probe_atom::value, std::move(spec))
      .then(
          [=](const probe_result& r) {
            auto& st = self->state;
            st.in_flight = false;
            auto& cfg = st.ctx->settings.chat_events;
            auto& m = st.ctx->metrics;
            if (r.ok) {
              st.breaker->record_success(now_ms(self));
              log_transitions(st);
              m.webhook_posts.fetch_add(1, std::memory_order_relaxed);
              m.webhook_queue.fetch_sub(1, std::memory_order_relaxed);
              st.queue.pop_front();
              st.attempts = 0;
              return post_next(self);
            }
            st.breaker->record_failure(now_ms(self));
            log_transitions(st);
            m.webhook_failures.fetch_add(1, std::memory_order_relaxed);
            if (++st.attempts >= cfg.webhook_max_attempts) {
              spdlog::warn("chat events webhook: dropped an event after {} "
                           "attempts ({})",
                           st.attempts, r.detail);
              m.webhook_dropped.fetch_add(1, std::memory_order_relaxed);
              m.webhook_queue.fetch_sub(1, std::memory_order_relaxed);
              st.queue.pop_front();
              st.attempts = 0;
            }
            auto shift =
                std::min<uint32_t>(st.attempts ? st.attempts - 1 : 0, 6);
            wait_then_retry(self, cfg.webhook_backoff_ms << shift);
          },
          [=](caf::error&) {
            // The prober itself failed to answer: count it as a failed
            // attempt after a backoff, like a timeout.
            auto& st = self->state;
            st.in_flight = false;
            st.breaker->record_failure(now_ms(self));
            st.ctx->metrics.webhook_failures.fetch_add(
                1, std::memory_order_relaxed);
            wait_then_retry(self,
                            st.ctx->settings.chat_events.webhook_backoff_ms);
          });
}

webhook_actor::behavior_type webhook(self_ptr self, context_ptr ctx,
                                     protocol::http_url url,
                                     prober_actor prober) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.prober = std::move(prober);
  auto& cfg = st.ctx->settings.chat_events;
  st.spec.host = url.host;
  st.spec.port = url.port;
  st.spec.path = url.target;
  st.spec.method = "POST";
  st.spec.expect_status = 0; // any 2xx
  st.spec.timeout_ms = cfg.webhook_timeout_ms;
  protocol::breaker_settings bs;
  bs.failure_threshold = cfg.webhook_failure_threshold;
  bs.open_ms = cfg.webhook_open_ms;
  bs.half_open_trials = 1;
  bs.close_after = 1;
  st.breaker.emplace(bs);
  return {
      [=](protocol::publish_atom, std::string& body) {
        auto& st = self->state;
        auto& m = st.ctx->metrics;
        if (st.queue.size() >= st.ctx->settings.chat_events.webhook_queue_max) {
          // The front may be in flight: drop the oldest one behind it.
          auto victim = st.in_flight && st.queue.size() > 1
                            ? std::next(st.queue.begin())
                            : st.queue.begin();
          if (!(st.in_flight && victim == st.queue.begin())) {
            if (victim == st.queue.begin())
              st.attempts = 0; // they were the dropped event's
            st.queue.erase(victim);
            m.webhook_dropped.fetch_add(1, std::memory_order_relaxed);
            m.webhook_queue.fetch_sub(1, std::memory_order_relaxed);
          }
        }
        st.queue.push_back(std::move(body));
        m.webhook_queue.fetch_add(1, std::memory_order_relaxed);
        post_next(self);
      },
      [=](protocol::tick_atom) {
        self->state.waiting = false;
        post_next(self);
      },
  };
}

} // namespace

webhook_actor spawn_webhook(caf::actor_system& sys, context_ptr ctx,
                            protocol::http_url url, prober_actor prober) {
  return sys.spawn(webhook, std::move(ctx), std::move(url), std::move(prober));
}

} // namespace herald::actors
