// /api/v69/ws/drill (docs/channels.md): a channel an admin can crash on
// purpose, to rehearse supervision and alerting on a live node. Off unless
// `channels.drill.enabled`.

#include "actors/channels/common.hpp"
#include "protocol/json_util.hpp"

#include <caf/all.hpp>

#include <stdexcept>

namespace herald::actors::channels {

using namespace protocol;

namespace {

struct drill_state {
  static inline const char* name = "herald.channel.drill";
  context_ptr ctx;
  std::map<uint64_t, channel_client> clients;
  actor_counters* counters = nullptr;
};

using self_ptr = plain_channel_actor::stateful_pointer<drill_state>;

void on_frame(self_ptr self, uint64_t id, const std::string& text) {
  auto& st = self->state;
  auto it = st.clients.find(id);
  if (it == st.clients.end())
    return;
  auto& c = it->second;
  auto req = read_request(self, st.ctx, c, text);
  if (!req)
    return;
  if (req->type == "echo") {
    auto text_field = req->string_field("text");
    rapidjson::StringBuffer buf;
    json_writer w{buf};
    w.StartObject();
    w.Key("text");
    write_json_string(w, text_field.value_or(""));
    w.EndObject();
    answer(self, c, "echo", {buf.GetString(), buf.GetSize()}, tag(*req));
  } else if (req->type == "crash") {
    if (!is_admin(*c.who)) {
      refuse(self, st.ctx, c, codes::permission_denied,
             "crashing the drill channel needs the admin role", tag(*req));
      return;
    }
    // An exception escaping a handler is what a buggy channel does: CAF
    // ends the actor with sec::runtime_error and its supervisor takes
    // over.
    throw std::runtime_error("drill: crash asked by " + c.who->sub);
  } else {
    refuse(self, st.ctx, c, codes::invalid_message,
           "unknown message type '" + req->type + "'", tag(*req));
  }
}

plain_channel_actor::behavior_type drill_channel(self_ptr self, context_ptr ctx,
                                                 uint64_t parent) {
  auto& st = self->state;
  st.counters = enroll(self, ctx, actor_kind::channel, "drill", parent);
  stoppable_by_admin(self, ctx);
  keep_exception_text(self);
  st.ctx = std::move(ctx);
  return {
      [=](open_atom, channel_client& c) {
        count_message(self, self->state.counters);
        auto id = c.id;
        self->state.clients.emplace(id, std::move(c));
      },
      [=](frame_atom, uint64_t id, const std::string& text) {
        count_message(self, self->state.counters);
        on_frame(self, id, text);
      },
      [=](closed_atom, uint64_t id) {
        count_message(self, self->state.counters);
        self->state.clients.erase(id);
      },
  };
}

} // namespace

caf::actor spawn_drill_channel(caf::actor_system& sys, context_ptr ctx,
                               uint64_t parent) {
  return caf::actor_cast<caf::actor>(
      sys.spawn(drill_channel, std::move(ctx), parent));
}

} // namespace herald::actors::channels
