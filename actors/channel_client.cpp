#include "actors/channel.hpp"

#include "actors/chat_events.hpp"
#include "actors/clock.hpp"
#include "actors/frame_budget.hpp"
#include "actors/instrument.hpp"
#include "protocol/channel_frame.hpp"
#include "protocol/frames.hpp"
#include "protocol/rate_limiter.hpp"
#include "protocol/ws_codec.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

namespace herald::actors {

using namespace protocol;

// A session's sink takes whole WebSocket frames, encoded once and shared.
frame_ptr channel_frame(std::string_view type, std::string_view data_json,
                        const std::optional<std::string>& id) {
  return std::make_shared<const std::string>(ws::encode_frame(
      ws::opcode::text, encode_channel_frame(type, data_json, now_us(), id)));
}

frame_ptr channel_error(std::string_view code, std::string_view message,
                        std::string_view request_type,
                        const std::optional<std::string>& id,
                        std::string_view frame_type) {
  return std::make_shared<const std::string>(ws::encode_frame(
      ws::opcode::text, encode_channel_error(code, message, request_type,
                                             now_us(), id, frame_type)));
}

namespace {

struct channel_client_state {
  static inline const char* name = "herald.channel_client";
  context_ptr ctx;
  std::string channel;
  channel_actor handle;
  sink_ptr sink;
  std::optional<token_bucket> budget;
  uint32_t strikes = 0;
  bool closing = false;
  actor_counters* counters = nullptr;
};

using self_ptr = channel_client_actor::stateful_pointer<channel_client_state>;

void push(self_ptr self, frame_ptr frame) {
  auto& st = self->state;
  if (st.sink->send(std::move(frame))) {
    if (st.counters)
      actor_counters::bump(st.counters->delivered);
  } else if (st.counters) {
    actor_counters::bump(st.counters->dropped);
  }
}

// The same budget and strikes as a `/ws` connection (PROTOCOL §4).
bool within_budget(self_ptr self) {
  auto& st = self->state;
  switch (spend_frame_budget(*st.budget, st.strikes, *st.ctx, *st.sink)) {
  case budget_verdict::pass:
    return true;
  case budget_verdict::closed:
    st.closing = true;
    return false;
  case budget_verdict::refuse:
    break;
  }
  push(self,
       channel_error(codes::rate_limited, "too many frames; slow down", {}));
  return false;
}

channel_client_actor::behavior_type channel_client_behavior(
    self_ptr self, context_ptr ctx, std::string channel, channel_actor handle,
    std::shared_ptr<const protocol::identity> who, sink_ptr sink) {
  auto& st = self->state;
  st.counters =
      enroll(self, ctx, actor_kind::connection,
             (who->anonymous() ? "(anonymous)" : who->sub) + "@" + channel, 0);
  auto& limits = ctx->settings.limits;
  st.budget.emplace(limits.rate_per_second, limits.rate_burst);
  describe_connection(self, ctx, who, "/api/v69/ws/" + channel, sink);
  st.ctx = std::move(ctx);
  st.channel = std::move(channel);
  st.handle = handle;
  st.sink = std::move(sink);
  st.ctx->metrics.channel_sessions.fetch_add(1, std::memory_order_relaxed);
  self->attach_functor([ctx = st.ctx] {
    ctx->metrics.channel_sessions.fetch_sub(1, std::memory_order_relaxed);
  });
  // A channel that dies takes its sessions along: they reconnect to the
  // restarted channel, which starts with no clients.
  self->monitor(handle);
  self->set_down_handler([=](caf::down_msg&) {
    auto& st = self->state;
    if (!st.closing) {
      st.closing = true;
      st.sink->close(ws::close_code::internal_error,
                     "channel " + st.channel + " stopped; reconnect");
    }
    self->quit();
  });
  self->send(handle, open_atom::value,
             actors::channel_client{self->id(), std::move(who), self,
                                    session_id(*st.ctx, self->id())});
  return {
      [=](frame_atom, std::string& text) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (st.closing || !within_budget(self))
          return;
        self->send(st.handle, frame_atom::value, uint64_t{self->id()},
                   std::move(text));
      },
      [=](binary_atom) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (st.closing || !within_budget(self))
          return;
        st.ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
        push(self, channel_error(codes::invalid_message,
                                 "binary frames are not accepted", {}));
      },
      [=](push_atom, frame_ptr& frame) {
        count_message(self, self->state.counters);
        if (!self->state.closing)
          push(self, std::move(frame));
      },
      [=](closed_atom) {
        auto& st = self->state;
        st.closing = true;
        self->send(st.handle, closed_atom::value, uint64_t{self->id()});
        self->quit();
      },
  };
}

} // namespace

channel_client_actor spawn_channel_client(caf::actor_system& sys,
                                          context_ptr ctx, std::string channel,
                                          channel_actor handle,
                                          protocol::identity who,
                                          sink_ptr sink) {
  return sys.spawn(channel_client_behavior, std::move(ctx), std::move(channel),
                   std::move(handle),
                   std::make_shared<const protocol::identity>(std::move(who)),
                   std::move(sink));
}

} // namespace herald::actors
