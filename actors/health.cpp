#include "actors/health.hpp"

#include "actors/clock.hpp"
#include "actors/health_json.hpp"
#include "actors/instrument.hpp"
#include "actors/system_events.hpp"
#include "protocol/json_util.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

namespace herald::actors {

using namespace protocol;

namespace {

using self_ptr = health_actor::stateful_pointer<health_state>;

std::shared_ptr<spdlog::logger> log_health() {
  auto log = spdlog::get("actors");
  return log ? log : spdlog::default_logger();
}

void notify(self_ptr self, health_note::kind what, std::string service,
            std::string layer, std::string data) {
  auto& st = self->state;
  if (st.listeners.empty())
    return;
  health_note note{what, std::move(service), std::move(layer),
                   std::make_shared<const std::string>(std::move(data))};
  for (auto& l : st.listeners)
    self->send(l, health_atom::value, note);
}

std::vector<service_status> all_services(const health_state& st) {
  std::vector<service_status> out;
  out.reserve(st.services.size());
  for (auto& [name, rec] : st.services)
    out.push_back(rec.status);
  return out;
}

void record_error(self_ptr self, std::string kind, std::string source,
                  std::string message) {
  auto& st = self->state;
  error_entry e{++st.error_seq,  now_us(),          st.ctx->settings.node_name,
                std::move(kind), std::move(source), std::move(message)};
  log_health()->warn("health: {} {}: {}", e.kind, e.source, e.message);
  st.ctx->metrics.health_errors.fetch_add(1, std::memory_order_relaxed);
  auto json = encode_error_entry(e);
  publish_system_event(self, st.ctx, st.router, error_topic, "node.error",
                       json);
  notify(self, health_note::kind::error, e.source, {}, std::move(json));
  st.errors.push_back(std::move(e));
  auto cap = std::max<uint32_t>(1, st.ctx->settings.health.recent_errors);
  while (st.errors.size() > cap)
    st.errors.pop_front();
}

// Publishes and pushes the layers whose status moved.
void refresh_layers(self_ptr self) {
  auto& st = self->state;
  for (auto& l : summarize_layers(all_services(st))) {
    auto& last = st.layer_status[l.name];
    if (last == l.status)
      continue;
    bool first = last.empty();
    last = l.status;
    l.node = st.ctx->settings.node_name;
    auto json = encode_layer(l);
    // The first status of a layer is its starting point, not news.
    if (!first)
      publish_system_event(self, st.ctx, st.router, layer_topic(l.name),
                           "layer.status", json);
    notify(self, health_note::kind::layer, {}, l.name, std::move(json));
  }
}

void alert(self_ptr self, const service_status& s, std::string message) {
  auto& st = self->state;
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("service");
  write_json_string(w, s.name);
  w.Key("layer");
  write_json_string(w, s.layer);
  w.Key("kind");
  write_json_string(w, s.kind);
  w.Key("node");
  write_json_string(w, st.ctx->settings.node_name);
  w.Key("severity");
  w.String("critical");
  w.Key("state");
  w.String(to_string(s.state));
  w.Key("message");
  write_json_string(w, message);
  w.EndObject();
  std::string json{buf.GetString(), buf.GetSize()};
  publish_system_event(self, st.ctx, st.router,
                       "system:" + s.layer + ":service:" + s.name,
                       "service.alert", json);
  notify(self, health_note::kind::alert, s.name, s.layer, std::move(json));
}

void on_status(self_ptr self, service_status s) {
  auto& st = self->state;
  auto& rec = st.services[s.name];
  bool was_open =
      rec.status.name.empty() ? false : rec.status.state == breaker_state::open;
  rec.status = std::move(s);
  auto& now = rec.status;
  notify(self, health_note::kind::service, now.name, now.layer,
         encode_service(now));
  if (now.state == breaker_state::open && !was_open) {
    auto why = now.given_up ? now.reason : "breaker opened: " + now.reason;
    record_error(self, now.given_up ? "gave_up" : "breaker_open", now.name,
                 why);
    alert(self, now, why);
  }
  refresh_layers(self);
}

// Counts the request and finds the service it names (null: unknown).
health_state::record* lookup(self_ptr self, const std::string& name) {
  auto& st = self->state;
  count_message(self, st.counters);
  auto it = st.services.find(name);
  return it == st.services.end() ? nullptr : &it->second;
}

} // namespace

std::string layer_topic(const std::string& layer) {
  return "system:" + layer + ":layer:status";
}

health_actor::behavior_type
health_board(health_actor::stateful_pointer<health_state> self, context_ptr ctx,
             router_actor router, uint64_t parent) {
  auto& st = self->state;
  st.counters = enroll(self, ctx, actor_kind::supervisor, "health", parent);
  st.ctx = std::move(ctx);
  st.router = std::move(router);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const health_listener_actor& l) {
                              return l.address() == msg.source;
                            }),
             ls.end());
  });
  return {
      [=](service_atom, service_status& s) {
        count_message(self, self->state.counters);
        on_status(self, std::move(s));
      },
      [=](service_atom, service_status& s, monitor_actor& m) {
        count_message(self, self->state.counters);
        self->state.services[s.name].monitor = std::move(m);
        on_status(self, std::move(s));
      },
      [=](error_atom, std::string& kind, std::string& source,
          std::string& message) {
        count_message(self, self->state.counters);
        record_error(self, std::move(kind), std::move(source),
                     std::move(message));
      },
      [=](listen_atom, health_listener_actor& l) {
        count_message(self, self->state.counters);
        self->monitor(l);
        self->state.listeners.push_back(std::move(l));
      },
      [=](group_atom, std::string& name, group_supervisor_actor& sup) {
        self->state.groups[name] = std::move(sup);
      },
      [=](services_atom) {
        count_message(self, self->state.counters);
        return all_services(self->state);
      },
      [=](status_atom, const std::string& name) -> caf::result<service_status> {
        count_message(self, self->state.counters);
        auto it = self->state.services.find(name);
        if (it == self->state.services.end())
          return make_error(health_errc::unknown_service);
        return it->second.status;
      },
      [=](summary_atom) {
        auto& st = self->state;
        count_message(self, st.counters);
        return health_summary{summarize_layers(all_services(st)),
                              st.maintenance, st.error_seq};
      },
      [=](probe_atom, const std::string& name) -> caf::result<service_status> {
        auto* found = lookup(self, name);
        if (found == nullptr)
          return make_error(health_errc::unknown_service);
        auto& rec = *found;
        if (rec.monitor && !rec.status.given_up)
          return self->delegate(rec.monitor, probe_atom::value);
        // A channel, or a monitor given up on: what the board knows.
        return rec.status;
      },
      [=](reset_atom, const std::string& name,
          const std::string& who) -> caf::result<service_status> {
        auto* found = lookup(self, name);
        if (found == nullptr)
          return make_error(health_errc::unknown_service);
        auto& rec = *found;
        if (!rec.status.given_up) {
          if (rec.monitor)
            return self->delegate(rec.monitor, reset_atom::value, who);
          return rec.status; // a running channel: nothing to reset
        }
        auto& groups = self->state.groups;
        auto group =
            groups.find(rec.status.kind == "channel" ? "channels" : "monitors");
        if (group == groups.end())
          return rec.status;
        // Shared: CAF calls response handlers const.
        auto rp = std::make_shared<caf::typed_response_promise<service_status>>(
            self->make_response_promise<service_status>());
        self->request(group->second, std::chrono::seconds{5},
                      revive_atom::value, name, who)
            .then(
                [=](bool) {
                  auto& st = self->state;
                  auto& s = st.services[name].status;
                  // The revived child reports itself when it starts; until
                  // then the board shows what the reset did.
                  if (s.given_up) {
                    s.given_up = false;
                    s.state = breaker_state::closed;
                    s.reason = "reset by " + who;
                    s.changed_us = now_us();
                    on_status(self, s);
                  }
                  rp->deliver(st.services[name].status);
                },
                [=](caf::error& err) { rp->deliver(std::move(err)); });
        return *rp;
      },
      [=](call_atom, const std::string& name) -> caf::result<bool> {
        auto* found = lookup(self, name);
        if (found == nullptr)
          return make_error(health_errc::unknown_service);
        auto& rec = *found;
        if (rec.status.given_up)
          return false;
        if (rec.monitor)
          return self->delegate(rec.monitor, call_atom::value);
        return rec.status.state != breaker_state::open;
      },
      [=](call_atom, const std::string& name, bool ok) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto it = st.services.find(name);
        if (it != st.services.end() && it->second.monitor
            && !it->second.status.given_up)
          self->send(it->second.monitor, call_atom::value, ok);
      },
      [=](maint_atom) {
        count_message(self, self->state.counters);
        return self->state.maintenance;
      },
      [=](maint_atom, maintenance_state& m) {
        auto& st = self->state;
        count_message(self, st.counters);
        m.since_us = now_us();
        m.node = st.ctx->settings.node_name;
        st.maintenance = std::move(m);
        auto json = encode_maintenance(st.maintenance);
        log_health()->info("maintenance {} by {}",
                           st.maintenance.on ? "on" : "off",
                           st.maintenance.set_by);
        publish_system_event(self, st.ctx, st.router, maintenance_topic,
                             "maintenance.status", json);
        notify(self, health_note::kind::maintenance, {}, {}, std::move(json));
        return st.maintenance;
      },
      [=](errors_atom, uint32_t limit) {
        auto& st = self->state;
        count_message(self, st.counters);
        std::vector<error_entry> out;
        for (auto it = st.errors.rbegin();
             it != st.errors.rend() && out.size() < limit; ++it)
          out.push_back(*it);
        return out;
      },
  };
}

} // namespace herald::actors
