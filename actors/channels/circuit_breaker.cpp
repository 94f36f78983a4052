// /api/v69/ws/circuit-breaker (seeds/v69-websocket-endpoints.md §2,
// docs/channels.md): the services' breakers, live.

#include "actors/channels/common.hpp"
#include "actors/health_json.hpp"

#include <caf/all.hpp>

#include <set>

namespace herald::actors::channels {

using namespace protocol;

namespace {

struct cb_client {
  channel_client client;
  bool all = false;
  std::set<std::string> layers;
  std::set<std::string> services;

  bool wants(const std::string& service, const std::string& layer) const {
    return all || layers.count(layer) > 0 || services.count(service) > 0;
  }
};

struct cb_state {
  static inline const char* name = "herald.channel.circuit_breaker";
  context_ptr ctx;
  health_actor health;
  std::map<uint64_t, cb_client> clients;
  actor_counters* counters = nullptr;
};

using self_ptr = health_channel_actor::stateful_pointer<cb_state>;

enum class scope { all, layer, service };

// Subscribes the client, then answers with the state of what it now
// follows (`services:state`).
void subscribe(self_ptr self, uint64_t id, scope what, std::string name,
               request_tag req) {
  auto& st = self->state;
  self->request(st.health, std::chrono::seconds{5}, services_atom::value)
      .then(
          [=](std::vector<service_status>& all) {
            auto& st = self->state;
            auto it = st.clients.find(id);
            if (it == st.clients.end())
              return;
            auto& c = it->second;
            std::vector<service_status> picked;
            for (auto& s : all)
              if (what == scope::all
                  || (what == scope::layer && s.layer == name)
                  || (what == scope::service && s.name == name))
                picked.push_back(s);
            if (what != scope::all && picked.empty()) {
              refuse(self, st.ctx, c.client, channel_codes::not_found,
                     std::string{what == scope::layer ? "unknown layer '"
                                                      : "unknown service '"}
                         + name + "'",
                     req);
              return;
            }
            if (what == scope::all)
              c.all = true;
            else if (what == scope::layer)
              c.layers.insert(name);
            else
              c.services.insert(name);
            auto layers = summarize_layers(what == scope::all ? all : picked);
            answer(self, c.client, "services:state",
                   encode_services_state(picked, layers), req);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              refuse_error(self, st.ctx, it->second.client, err, req, name);
          });
}

void health_check(self_ptr self, uint64_t id, std::string service,
                  request_tag req) {
  auto& st = self->state;
  // A probe takes at most its timeout; the board answers at once for a
  // service whose breaker is open.
  self->request(st.health, std::chrono::seconds{60}, probe_atom::value, service)
      .then(
          [=](service_status& s) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              answer(self, it->second.client, "service:health_check_result",
                     encode_service(s), req);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              refuse_error(self, st.ctx, it->second.client, err, req, service);
          });
}

void reset(self_ptr self, uint64_t id, std::string service, request_tag req) {
  auto& st = self->state;
  auto& c = st.clients.at(id).client;
  if (!is_admin(*c.who)) {
    refuse(self, st.ctx, c, codes::permission_denied,
           "resetting a circuit breaker needs the admin role", req);
    return;
  }
  self->request(st.health, std::chrono::seconds{10}, reset_atom::value, service,
                c.who->sub)
      .then(
          [=](service_status& s) {
            // Subscribers see the change as a service:update from the
            // board; the admin gets the answer.
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              answer(self, it->second.client,
                     "service:reset_circuit_breaker_result", encode_service(s),
                     req);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              refuse_error(self, st.ctx, it->second.client, err, req, service);
          });
}

void on_frame(self_ptr self, uint64_t id, const std::string& text) {
  auto& st = self->state;
  auto it = st.clients.find(id);
  if (it == st.clients.end())
    return;
  auto& c = it->second.client;
  auto req = read_request(self, st.ctx, c, text);
  if (!req)
    return;
  auto& type = req->type;
  if (type == "subscribe_all" || type == "subscribe:services") {
    subscribe(self, id, scope::all, {}, tag(*req));
  } else if (type == "subscribe:layer") {
    if (auto layer = required_string(self, st.ctx, c, *req, "layer"))
      subscribe(self, id, scope::layer, *layer, tag(*req));
  } else if (type == "subscribe:service") {
    if (auto s = required_string(self, st.ctx, c, *req, "service"))
      subscribe(self, id, scope::service, *s, tag(*req));
  } else if (type == "service:health_check") {
    if (auto s = required_string(self, st.ctx, c, *req, "service"))
      health_check(self, id, *s, tag(*req));
  } else if (type == "service:reset_circuit_breaker") {
    if (auto s = required_string(self, st.ctx, c, *req, "service"))
      reset(self, id, *s, tag(*req));
  } else {
    refuse(self, st.ctx, c, codes::invalid_message,
           "unknown message type '" + type + "'", tag(*req));
  }
}

// Pushes a board change to every client following it, the frame encoded
// once.
void on_note(self_ptr self, const health_note& note) {
  auto& st = self->state;
  const char* type = nullptr;
  switch (note.what) {
  case health_note::kind::service:
    type = "service:update";
    break;
  case health_note::kind::layer:
    type = "layer:status";
    break;
  case health_note::kind::alert:
    type = "service:alert";
    break;
  default:
    return; // maintenance and errors are the monitor endpoint's
  }
  frame_ptr frame;
  for (auto& [id, c] : st.clients) {
    bool wanted = note.what == health_note::kind::layer
                      ? c.all || c.layers.count(note.layer) > 0
                      : c.wants(note.service, note.layer);
    if (!wanted)
      continue;
    if (!frame)
      frame = channel_frame(type, *note.data);
    reply(self, c.client, frame);
  }
}

health_channel_actor::behavior_type circuit_breaker_channel(self_ptr self,
                                                            context_ptr ctx,
                                                            health_actor health,
                                                            uint64_t parent) {
  auto& st = self->state;
  st.counters =
      enroll(self, ctx, actor_kind::channel, "circuit-breaker", parent);
  keep_exception_text(self);
  st.ctx = std::move(ctx);
  st.health = std::move(health);
  self->send(st.health, listen_atom::value,
             caf::actor_cast<health_listener_actor>(self));
  // A client that dies without saying so is forgotten all the same.
  self->set_down_handler([=](caf::down_msg& msg) {
    erase_client(self->state.clients, msg.source,
                 [](const cb_client& c) { return c.client.handle; });
  });
  return {
      [=](open_atom, channel_client& c) {
        count_message(self, self->state.counters);
        self->monitor(c.handle);
        auto id = c.id;
        cb_client entry;
        entry.client = std::move(c);
        self->state.clients.emplace(id, std::move(entry));
      },
      [=](frame_atom, uint64_t id, const std::string& text) {
        count_message(self, self->state.counters);
        on_frame(self, id, text);
      },
      [=](closed_atom, uint64_t id) {
        count_message(self, self->state.counters);
        self->state.clients.erase(id);
      },
      [=](health_atom, const health_note& note) {
        count_message(self, self->state.counters);
        on_note(self, note);
      },
  };
}

} // namespace

caf::actor spawn_circuit_breaker_channel(caf::actor_system& sys,
                                         context_ptr ctx, health_actor health,
                                         uint64_t parent) {
  return caf::actor_cast<caf::actor>(sys.spawn(
      circuit_breaker_channel, std::move(ctx), std::move(health), parent));
}

} // namespace herald::actors::channels
