// The skyduel plugin (docs/endpoints.md "skyduel"): /api/v69/ws/skyduel,
// identity required. Shows the node's upstream services with their
// breakers and the data backends publish on skyduel:service:<name>, pushes
// changes to subscribers, and sends clients' commands to a service over
// HTTP through its circuit breaker (sdk::call_request).

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <set>

namespace herald::plugins::skyduel {

namespace {

struct skyduel_config {
  std::string command_path = "/commands";
  std::string command_role = "admin"; ///< empty: any identity
  uint32_t command_timeout_ms = 5000;
};

sdk::config_result parse_config(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::string{"must be a JSON object"};
  auto cfg = std::make_shared<skyduel_config>();
  for (auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    if (key == "command_path") {
      if (!m.value.IsString() || m.value.GetStringLength() == 0
          || m.value.GetString()[0] != '/')
        return std::string{"command_path: must be a path starting with /"};
      cfg->command_path = m.value.GetString();
      while (cfg->command_path.size() > 1 && cfg->command_path.back() == '/')
        cfg->command_path.pop_back();
    } else if (key == "command_role") {
      if (!m.value.IsString())
        return std::string{"command_role: must be a string (\"\": anyone)"};
      cfg->command_role = m.value.GetString();
    } else if (key == "command_timeout_ms") {
      if (!m.value.IsUint() || m.value.GetUint() < 1
          || m.value.GetUint() > 60000)
        return std::string{"command_timeout_ms: must be an integer 1..60000"};
      cfg->command_timeout_ms = m.value.GetUint();
    } else {
      return "unknown key '" + key
             + "' (command_path, command_role, command_timeout_ms)";
    }
  }
  return std::shared_ptr<const void>{std::move(cfg)};
}

struct skyduel_state {
  static inline const char* name = "herald.plugin.skyduel";
  std::optional<client_table> clients;
  skyduel_config cfg;
  std::map<std::string, std::string> data; ///< last published, by service
  std::map<std::string, std::set<uint64_t>> subscribers; ///< by service
  std::map<uint64_t, std::set<std::string>> held;        ///< by client
};

using self_ptr = sdk::listening_channel_actor::stateful_pointer<skyduel_state>;

const sdk::host& host(self_ptr self) {
  return self->state.clients->host();
}

std::string data_of(self_ptr self, const std::string& service) {
  auto it = self->state.data.find(service);
  return it == self->state.data.end() ? "null" : it->second;
}

std::string service_json(self_ptr self, const sdk::breaker_view& b) {
  return "{\"name\":" + json_string(b.service) + ",\"layer\":"
         + json_string(b.layer) + ",\"state\":" + json_string(b.state)
         + ",\"given_up\":" + (b.given_up ? "true" : "false")
         + ",\"data\":" + data_of(self, b.service) + "}";
}

void push_subscribers(self_ptr self, const std::string& service,
                      const std::string& data_json) {
  auto& st = self->state;
  auto it = st.subscribers.find(service);
  if (it == st.subscribers.end())
    return;
  auto f = host(self).make_frame("service_update", data_json, std::nullopt);
  for (auto id : it->second)
    if (auto* c = st.clients->find(id))
      st.clients->push(self, *c, f);
}

void on_event(self_ptr self, const sdk::event& ev) {
  if (ev.topic.rfind("skyduel:service:", 0) == 0) {
    auto service = ev.topic.substr(16);
    self->state.data[service] = ev.data_json;
    push_subscribers(self, service,
                     "{\"service\":" + json_string(service)
                         + ",\"data\":" + ev.data_json + "}");
    return;
  }
  // system:<layer>:service:<name>, event type service.state
  if (ev.type != "service.state")
    return;
  rapidjson::Document doc;
  doc.Parse(ev.data_json.data(), ev.data_json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return;
  auto service = doc.FindMember("service");
  auto to = doc.FindMember("to");
  if (service == doc.MemberEnd() || !service->value.IsString()
      || to == doc.MemberEnd() || !to->value.IsString())
    return;
  auto reason = doc.FindMember("reason");
  std::string name = service->value.GetString();
  push_subscribers(self, name,
                   "{\"service\":" + json_string(name) + ",\"state\":"
                       + json_string(to->value.GetString()) + ",\"reason\":"
                       + (reason != doc.MemberEnd() && reason->value.IsString()
                              ? json_string(reason->value.GetString())
                              : std::string{"null"})
                       + "}");
}

void command(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto refuse = [&](std::string_view code, const std::string& message) {
    st.clients->refuse(self, c, "error", code, message, req.type, req.id);
  };
  if (!st.cfg.command_role.empty() && !c.who->has_role(st.cfg.command_role))
    return refuse(codes::permission_denied,
                  "service_command needs the " + st.cfg.command_role + " role");
  auto service = req.string_field("service");
  auto cmd = req.string_field("command");
  if (!service || !valid_name(*service, 64))
    return refuse(codes::invalid_message,
                  "service must be 1-64 characters of [A-Za-z0-9_.-]");
  if (!cmd || !valid_name(*cmd, 64))
    return refuse(codes::invalid_message,
                  "command must be 1-64 characters of [A-Za-z0-9_.-]");
  auto* params = req.field("params");
  if (params != nullptr && !params->IsObject())
    return refuse(codes::invalid_message, "params must be an object");
  sdk::call_request call;
  call.method = "POST";
  call.path = st.cfg.command_path + "/" + *cmd;
  call.timeout_ms = st.cfg.command_timeout_ms;
  call.body_json = "{\"command\":" + json_string(*cmd) + ",\"params\":"
                   + (params ? to_json(*params) : std::string{"{}"})
                   + ",\"user_id\":" + json_string(c.who->sub) + "}";
  auto client = c.id;
  auto rid = req.id;
  auto name = *service;
  auto command_name = *cmd;
  self->request(host(self).node, caf::infinite, sdk::call_atom::value, name,
                std::move(call))
      .then(
          [=](const sdk::call_result& r) {
            auto& st = self->state;
            auto* c = st.clients->find(client);
            if (c == nullptr)
              return;
            if (r.outcome == "unknown_service")
              return st.clients->refuse(self, *c, "error", codes::not_found,
                                        r.detail, "service_command", rid);
            if (r.outcome != "ok" && r.outcome != "failed")
              return st.clients->refuse(self, *c, "error", codes::unavailable,
                                        r.outcome + ": " + r.detail,
                                        "service_command", rid);
            rapidjson::Document body;
            body.Parse(r.body.data(), r.body.size());
            auto result = body.HasParseError() ? json_string(r.body) : r.body;
            st.clients->answer(
                self, *c, "service_update",
                "{\"service\":" + json_string(name)
                    + ",\"command\":" + json_string(command_name)
                    + ",\"outcome\":" + json_string(r.outcome) + ",\"status\":"
                    + std::to_string(r.status) + ",\"result\":" + result
                    + ",\"latency_ms\":" + std::to_string(r.latency_ms) + "}",
                rid);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto* c = st.clients->find(client))
              st.clients->refuse(self, *c, "error", codes::unavailable,
                                 "call failed: " + self->system().render(err),
                                 "service_command", rid);
          });
}

// Runs `then(view)` with the breaker of `service`, or refuses NOT_FOUND.
template <class F>
void with_service(self_ptr self, const sdk::client& c, const request& req,
                  const std::string& service, F then) {
  auto client = c.id;
  auto rid = req.id;
  auto type = req.type;
  self->request(host(self).node, std::chrono::seconds{5},
                sdk::services_atom::value)
      .then(
          [=](const std::vector<sdk::breaker_view>& all) mutable {
            auto& st = self->state;
            auto* c = st.clients->find(client);
            if (c == nullptr)
              return;
            for (auto& b : all)
              if (b.service == service)
                return then(*c, b);
            st.clients->refuse(self, *c, "error", codes::not_found,
                               "no service '" + service + "'", type, rid);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto* c = st.clients->find(client))
              st.clients->refuse(self, *c, "error", codes::unavailable,
                                 self->system().render(err), type, rid);
          });
}

void handle(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto& type = req.type;
  if (type == "heartbeat")
    return;
  if (type == "service_command")
    return command(self, c, req);
  if (type == "get_services") {
    auto client = c.id;
    auto rid = req.id;
    self->request(host(self).node, std::chrono::seconds{5},
                  sdk::services_atom::value)
        .then(
            [=](const std::vector<sdk::breaker_view>& all) {
              auto& st = self->state;
              std::vector<std::string> items;
              for (auto& b : all)
                items.push_back(service_json(self, b));
              if (auto* c = st.clients->find(client))
                st.clients->answer(self, *c, "service_data",
                                   "{\"services\":" + json_array(items) + "}",
                                   rid);
            },
            // A request is always answered: the client may wait on its id.
            // (The CAF error's text stays in the node: it is no client's.)
            [=](caf::error&) {
              auto& st = self->state;
              if (auto* c = st.clients->find(client))
                st.clients->refuse(self, *c, "error", codes::unavailable,
                                   "the health board did not answer",
                                   "get_services", rid);
            });
    return;
  }
  if (type == "subscribe_service" || type == "unsubscribe_service") {
    auto service = req.string_field("service");
    if (!service || !valid_name(*service, 64))
      return st.clients->refuse(
          self, c, "error", codes::invalid_message,
          "service must be 1-64 characters of [A-Za-z0-9_.-]", type, req.id);
    if (type == "unsubscribe_service") {
      st.held[c.id].erase(*service);
      auto it = st.subscribers.find(*service);
      if (it != st.subscribers.end()) {
        it->second.erase(c.id);
        if (it->second.empty())
          st.subscribers.erase(it);
      }
      return st.clients->answer(self, c, "service_subscribed",
                                "{\"service\":" + json_string(*service)
                                    + ",\"subscribed\":false}",
                                req.id);
    }
    auto rid = req.id;
    return with_service(
        self, c, req, *service,
        [=](const sdk::client& c, const sdk::breaker_view& b) {
          auto& st = self->state;
          st.subscribers[b.service].insert(c.id);
          st.held[c.id].insert(b.service);
          st.clients->answer(
              self, c, "service_subscribed",
              "{\"service\":" + json_string(b.service)
                  + ",\"subscribed\":true,\"state\":" + json_string(b.state)
                  + ",\"data\":" + data_of(self, b.service) + "}",
              rid);
        });
  }
  st.clients->refuse(self, c, "error", codes::invalid_message,
                     "unknown message type '" + type
                         + "' (get_services, subscribe_service, "
                           "unsubscribe_service, service_command, heartbeat)",
                     type, req.id);
}

sdk::listening_channel_actor::behavior_type channel(self_ptr self,
                                                    sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const skyduel_config>(h.config);
  auto me = caf::actor_cast<sdk::listener_actor>(self);
  self->send(h.node, sdk::subscribe_atom::value,
             std::string{"skyduel:service:*"}, me);
  self->send(h.node, sdk::subscribe_atom::value,
             std::string{"system:*:service:*"}, me);
  st.clients.emplace(std::move(h));
  return {
      [=](sdk::open_atom, sdk::client& c) {
        auto& st = self->state;
        auto user = c.who->sub;
        auto client = c.id;
        st.clients->add(std::move(c));
        self->request(host(self).node, std::chrono::seconds{5},
                      sdk::services_atom::value)
            .then(
                [=](const std::vector<sdk::breaker_view>& all) {
                  auto& st = self->state;
                  if (auto* c = st.clients->find(client))
                    st.clients->answer(
                        self, *c, "welcome",
                        "{\"user_id\":" + json_string(user)
                            + ",\"node\":" + json_string(host(self).node_name)
                            + ",\"services\":" + std::to_string(all.size())
                            + "}",
                        std::nullopt);
                },
                [](caf::error&) {});
      },
      [=](sdk::frame_atom, uint64_t id, const std::string& text) {
        auto& st = self->state;
        auto* c = st.clients->find(id);
        if (c == nullptr)
          return;
        std::string why;
        auto req = parse_request(text, why);
        if (!req)
          return st.clients->refuse(self, *c, "error", codes::invalid_message,
                                    why, "", {});
        handle(self, *c, *req);
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.held.find(id);
        if (it != st.held.end()) {
          for (auto& s : it->second) {
            auto sub = st.subscribers.find(s);
            if (sub != st.subscribers.end()) {
              sub->second.erase(id);
              if (sub->second.empty())
                st.subscribers.erase(sub);
            }
          }
          st.held.erase(it);
        }
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "skyduel";
  d.endpoints = {{"skyduel", true}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::skyduel

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::skyduel::make_descriptor();
  return &d;
}
