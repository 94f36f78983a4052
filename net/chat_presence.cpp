#include "net/chat_presence.hpp"

#include "actors/chat_events.hpp"
#include "protocol/uuid.hpp"

#include <caf/all.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::net {

namespace {

// The `client_id` claim, else `azp` (the OAuth client a token was issued
// to), else none.
std::string client_of(const protocol::identity& who) {
  for (auto* name : {"client_id", "azp"}) {
    auto it = who.claims.find(name);
    if (it != who.claims.end() && !it->second.empty())
      return it->second.front();
  }
  return {};
}

std::string trace_of(const std::string& uuid) {
  std::string out;
  out.reserve(32);
  for (char c : uuid)
    if (c != '-')
      out += c;
  return out;
}

} // namespace

std::unique_ptr<chat_presence>
chat_presence::open(net_context& ctx, const protocol::identity& who,
                    uint64_t actor_id) {
  if (!ctx.chat_events || !ctx.node->settings.chat_events.connections)
    return nullptr;
  auto p = std::make_unique<chat_presence>();
  p->user_id_ = who.sub;
  p->client_id_ = client_of(who);
  p->session_id_ = actors::session_id(*ctx.node, actor_id);
  p->trace_id_ = trace_of(protocol::make_uuid_v4());
  sdk::chat_event ev;
  ev.name = "userConnected";
  ev.user_id = p->user_id_;
  ev.client_id = p->client_id_;
  ev.session_id = p->session_id_;
  ev.trace_id = p->trace_id_;
  caf::anon_send(ctx.chat_events, sdk::chat_atom::value, std::move(ev));
  return p;
}

void chat_presence::closed(net_context& ctx, std::string reason, int code,
                           bool forced) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("reason");
  w.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
  w.Key("code");
  w.Int(code);
  w.Key("forced");
  w.Bool(forced);
  w.EndObject();
  sdk::chat_event ev;
  ev.name = "userDisconnected";
  ev.user_id = user_id_;
  ev.client_id = client_id_;
  ev.session_id = session_id_;
  ev.trace_id = trace_id_;
  ev.payload_json.assign(buf.GetString(), buf.GetSize());
  caf::anon_send(ctx.chat_events, sdk::chat_atom::value, std::move(ev));
}

} // namespace herald::net
