#include "actors/plugins/node_bridge.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"
#include "actors/plugins/service_call.hpp"
#include "protocol/json_util.hpp"
#include "protocol/publish.hpp"
#include "protocol/schema_bindings.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace herald::actors {

using namespace protocol;

namespace {

// -- the adapter: one per listening actor ------------------------------------

// The router delivers to connection actors; an adapter is one, for one
// listener, and hands each event on as the SDK's event: one conversion
// (a copy of the payload) per listening channel, never per client.
struct adapter_state {
  static inline const char* name = "herald.plugin_adapter";
  sdk::listener_actor listener;
};

using adapter_ptr = connection_actor::stateful_pointer<adapter_state>;

// Ends with its listener; the bridge then unsubscribes what it held.
connection_actor::behavior_type adapter(adapter_ptr self,
                                        sdk::listener_actor listener) {
  self->state.listener = listener;
  self->monitor(listener);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  return {
      [=](deliver_atom, event_ptr& ev, uint64_t) {
        auto out = std::make_shared<sdk::event>();
        out->id = ev->id;
        out->topic = ev->topic;
        out->type = ev->event_type;
        out->timestamp_us = ev->timestamp_us;
        out->data_json = ev->data_json;
        out->user_id = ev->user_id;
        self->send(self->state.listener, sdk::event_atom::value,
                   sdk::event_ptr{std::move(out)});
      },
      [=](frame_atom, std::string&) {},
      [=](binary_atom) {},
      [=](closed_atom) { self->quit(); },
      [=](replay_atom, replay_answer&) {},
  };
}

// -- the bridge -------------------------------------------------------------

struct bridge_state {
  static inline const char* name = "herald.plugin_bridge";
  context_ptr ctx;
  router_actor router;
  health_actor health;
  chat_events_actor chat_events;
  prober_actor prober;
  struct listening {
    connection_actor adapter;
    std::set<std::string> patterns;
  };
  /// By listener.
  std::map<caf::actor_addr, listening> listeners;
};

using bridge_ptr = sdk::node_actor::stateful_pointer<bridge_state>;

caf::error bad_publish(const publish_error& err) {
  return caf::make_error(caf::sec::invalid_argument,
                         err.code + ": " + err.message);
}

caf::result<std::string> publish(bridge_ptr self, const std::string& topic,
                                 const std::string& type,
                                 const std::string& data_json) {
  auto& st = self->state;
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("topic");
  write_json_string(w, topic);
  w.Key("event_type");
  write_json_string(w, type);
  w.EndObject();
  // {"topic":..,"event_type":..} with the data spliced in: it was encoded
  // once by the channel.
  std::string body{buf.GetString(), buf.GetSize() - 1};
  body += ",\"data\":";
  body += data_json.empty() ? std::string{"{}"} : data_json;
  body += '}';
  auto parsed = parse_publish(body, now_us());
  if (auto* err = std::get_if<publish_error>(&parsed))
    return bad_publish(*err);
  auto& ev = std::get<event>(parsed);
  auto verdict = check_schemas(st.ctx->settings.schemas.bindings, ev);
  if (verdict.violation)
    return bad_publish(schema_refusal(*verdict.violation));
  ev.envelope = verdict.envelope;
  auto id = ev.id;
  auto& metrics = st.ctx->metrics;
  // Counted like the publish API's events: the router takes them off the
  // queue gauge.
  metrics.publish_queue.fetch_add(1, std::memory_order_relaxed);
  metrics.publishes.fetch_add(1, std::memory_order_relaxed);
  self->send(st.router, publish_atom::value,
             pending_events{std::make_shared<event>(std::move(ev))});
  return id;
}

bridge_state::listening& listening_of(bridge_ptr self,
                                      const sdk::listener_actor& listener) {
  auto& st = self->state;
  auto key = listener.address();
  auto it = st.listeners.find(key);
  if (it != st.listeners.end())
    return it->second;
  auto a = self->spawn(adapter, listener);
  self->monitor(a);
  return st.listeners[key] = bridge_state::listening{a, {}};
}

} // namespace

sdk::node_actor::behavior_type node_bridge(bridge_ptr self, context_ptr ctx,
                                           router_actor router,
                                           health_actor health,
                                           chat_events_actor chat_events,
                                           prober_actor prober) {
  auto& st = self->state;
  enroll(self, ctx, actor_kind::channel, "plugin-bridge", 0);
  st.ctx = std::move(ctx);
  st.router = router;
  st.health = health;
  st.chat_events = std::move(chat_events);
  st.prober = std::move(prober);
  // An adapter gone (its listener died): the router forgets it.
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto it = st.listeners.begin(); it != st.listeners.end(); ++it)
      if (it->second.adapter.address() == msg.source) {
        for (auto& p : it->second.patterns)
          self->send(st.router, unsubscribe_atom::value, p, it->second.adapter);
        st.listeners.erase(it);
        return;
      }
  });
  return {
      [=](sdk::publish_atom, const std::string& topic, const std::string& type,
          const std::string& data_json) -> caf::result<std::string> {
        return publish(self, topic, type, data_json);
      },
      [=](sdk::subscribe_atom, std::string& pattern,
          sdk::listener_actor& listener) {
        topic_segments seg;
        if (!parse_pattern(pattern, seg))
          return;
        auto& entry = listening_of(self, listener);
        if (!entry.patterns.insert(pattern).second)
          return;
        subscribe_request req;
        req.patterns.push_back(std::move(pattern));
        self->send(self->state.router, subscribe_atom::value, std::move(req),
                   entry.adapter);
      },
      [=](sdk::unsubscribe_atom, std::string& pattern,
          sdk::listener_actor& listener) {
        auto it = self->state.listeners.find(listener.address());
        if (it == self->state.listeners.end()
            || it->second.patterns.erase(pattern) == 0)
          return;
        self->send(self->state.router, unsubscribe_atom::value, pattern,
                   it->second.adapter);
      },
      [=](sdk::breaker_atom,
          const std::string& service) -> caf::result<sdk::breaker_view> {
        auto rp = self->make_response_promise<sdk::breaker_view>();
        self->request(self->state.health, caf::infinite, status_atom::value,
                      service)
            .then(
                [=](const service_status& s) mutable {
                  rp.deliver(sdk::breaker_view{s.name, s.layer,
                                               to_string(s.state), s.given_up});
                },
                [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [=](sdk::services_atom) -> caf::result<std::vector<sdk::breaker_view>> {
        auto rp = self->make_response_promise<std::vector<sdk::breaker_view>>();
        self->request(self->state.health, caf::infinite, services_atom::value)
            .then(
                [=](const std::vector<service_status>& all) mutable {
                  std::vector<sdk::breaker_view> out;
                  for (auto& s : all)
                    if (s.kind == "upstream")
                      out.push_back(sdk::breaker_view{
                          s.name, s.layer, to_string(s.state), s.given_up});
                  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
                    return a.service < b.service;
                  });
                  rp.deliver(std::move(out));
                },
                [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [=](sdk::chat_atom, sdk::chat_event& ev) {
        if (self->state.chat_events)
          self->send(self->state.chat_events, sdk::chat_atom::value,
                     std::move(ev));
      },
      [=](sdk::call_atom, const std::string& service,
          sdk::call_request& req) -> caf::result<sdk::call_result> {
        auto rp = self->make_response_promise<sdk::call_result>();
        auto& st = self->state;
        call_service(self, st.ctx, st.health, st.prober, service,
                     std::move(req), rp);
        return rp;
      },
      [=](sdk::stats_atom) { return node_stats_json(*self->state.ctx); },
  };
}

sdk::node_actor spawn_node_bridge(caf::actor_system& sys, context_ptr ctx,
                                  router_actor router, health_actor health,
                                  chat_events_actor chat_events,
                                  prober_actor prober) {
  return sys.spawn(node_bridge, std::move(ctx), router, health,
                   std::move(chat_events), std::move(prober));
}

} // namespace herald::actors
