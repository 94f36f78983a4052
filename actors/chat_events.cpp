#include "actors/chat_events.hpp"

#include "actors/clock.hpp"
#include "actors/system_events.hpp"
#include "actors/webhook.hpp"
#include "protocol/frames.hpp"
#include "protocol/uuid.hpp"

#include <caf/all.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <spdlog/spdlog.h>

#include <random>

namespace herald::actors {

namespace {

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(gen() & 0xff);
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

struct chat_events_state {
  static inline const char* name = "herald.chat_events";
  context_ptr ctx;
  router_actor router;
  webhook_actor webhook; ///< null without a webhook
};

} // namespace

std::string session_id(const node_context& ctx, uint64_t actor_id) {
  return ctx.settings.node_name + "/" + std::to_string(actor_id);
}

std::string encode_chat_envelope(const node_context& ctx, const chat_event& ev,
                                 int64_t timestamp_us) {
  // W3C trace context: a trace id of 16 bytes, a span of 8, so backends
  // that trace can pick the event up; the caller's win when given.
  auto trace_id = ev.trace_id.empty() ? random_hex(16) : ev.trace_id;
  auto span = ev.span_context.empty()
                  ? "00-" + trace_id + "-" + random_hex(8) + "-01"
                  : ev.span_context;
  rapidjson::Document payload;
  payload.Parse(ev.payload_json.data(), ev.payload_json.size());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  w.Key("payload");
  w.StartObject();
  w.Key(ev.name.data(), static_cast<rapidjson::SizeType>(ev.name.size()));
  if (!payload.HasParseError() && payload.IsObject())
    payload.Accept(w);
  else {
    w.StartObject();
    w.EndObject();
  }
  w.EndObject();
  str("id", protocol::make_uuid_v4());
  w.Key("version");
  w.Int(1);
  str("name", ev.name);
  str("namespace", ctx.settings.chat_events.event_namespace);
  str("parentNamespace", ctx.settings.chat_events.parent_namespace);
  // date-time (RFC 3339) in UTC with microseconds, as every frame's.
  str("timestamp", protocol::format_iso8601_us(timestamp_us));
  str("clientId", ev.client_id);
  str("userId", ev.user_id);
  str("traceId", trace_id);
  str("sessionId", ev.session_id);
  str("spanContext", span);
  str("node", ctx.settings.node_name);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

chat_events_actor spawn_chat_events(caf::actor_system& sys, context_ptr ctx,
                                    router_actor router, prober_actor prober) {
  webhook_actor webhook;
  auto& url = ctx->settings.chat_events.webhook_url;
  if (!url.empty() && prober) {
    std::string why;
    if (auto parsed = protocol::parse_http_url(url, why))
      webhook = spawn_webhook(sys, ctx, *parsed, prober);
    else
      spdlog::error("chat_events.webhook.url: {}", why); // checked at load
  }
  auto behavior =
      [](chat_events_actor::stateful_pointer<chat_events_state> self,
         context_ptr ctx, router_actor router,
         webhook_actor webhook) -> chat_events_actor::behavior_type {
    self->state.ctx = std::move(ctx);
    self->state.router = std::move(router);
    self->state.webhook = std::move(webhook);
    if (self->state.webhook)
      self->link_to(self->state.webhook);
    return {
        [=](sdk::chat_atom, const chat_event& ev) {
          auto& st = self->state;
          auto body = encode_chat_envelope(*st.ctx, ev, now_us());
          st.ctx->metrics.chat_events.fetch_add(1, std::memory_order_relaxed);
          if (st.webhook)
            self->send(st.webhook, protocol::publish_atom::value, body);
          publish_system_event(self, st.ctx, st.router,
                               "system:chat:event:" + ev.name,
                               "chat." + ev.name, std::move(body));
        },
    };
  };
  return sys.spawn(behavior, std::move(ctx), std::move(router),
                   std::move(webhook));
}

} // namespace herald::actors
