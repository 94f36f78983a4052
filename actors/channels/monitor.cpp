// /api/v69/ws/monitor (seeds/v69-websocket-endpoints.md §5,
// docs/channels.md): the node's status, maintenance mode, settings,
// services and recent errors.

#include "actors/channels/common.hpp"
#include "actors/clock.hpp"
#include "actors/health_json.hpp"
#include "config/describe.hpp"
#include "protocol/json_util.hpp"
#include "protocol/version.hpp"

#include <caf/all.hpp>

#include <cctype>

namespace herald::actors::channels {

using namespace protocol;

namespace {

struct monitor_channel_state {
  static inline const char* name = "herald.channel.monitor";
  context_ptr ctx;
  health_actor health;
  std::map<uint64_t, channel_client> clients;
  std::string settings_json; ///< encoded once: the settings never change
  actor_counters* counters = nullptr;
};

using self_ptr = ticking_channel_actor::stateful_pointer<monitor_channel_state>;

constexpr size_t max_maintenance_message = 500;

std::string system_status_json(const node_context& ctx,
                               const health_summary& sum) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  auto now = now_us();
  auto& m = ctx.metrics;
  auto gauge = [](const std::atomic<int64_t>& g) {
    return std::max<int64_t>(0, g.load(std::memory_order_relaxed));
  };
  w.StartObject();
  w.Key("node");
  write_json_string(w, ctx.settings.node_name);
  w.Key("version");
  w.String(protocol::version);
  w.Key("epoch");
  write_json_string(w, ctx.epoch);
  w.Key("started_at");
  write_json_string(w, format_iso8601_us(ctx.started_ms * 1000));
  w.Key("uptime_s");
  w.Int64(std::max<int64_t>(0, (now / 1000 - ctx.started_ms) / 1000));
  w.Key("connections");
  w.StartObject();
  w.Key("ws");
  w.Int64(gauge(m.connections));
  w.Key("sse");
  w.Int64(gauge(m.sse_connections));
  w.Key("channels");
  w.Int64(gauge(m.channel_sessions));
  w.EndObject();
  w.Key("topics");
  w.Int64(gauge(m.topics));
  w.Key("events_published");
  w.Uint64(m.publishes.load(std::memory_order_relaxed));
  auto cluster = ctx.cluster.get();
  if (cluster.enabled) {
    w.Key("cluster");
    w.StartObject();
    w.Key("joined");
    w.Bool(cluster.joined);
    w.Key("members");
    w.StartArray();
    for (auto& member : cluster.members)
      write_json_string(w, member);
    w.EndArray();
    w.EndObject();
  }
  layer_summary total;
  for (auto& l : sum.layers) {
    total.services += l.services;
    total.closed += l.closed;
    total.half_open += l.half_open;
    total.open += l.open;
  }
  w.Key("services");
  w.StartObject();
  w.Key("total");
  w.Uint(total.services);
  w.Key("closed");
  w.Uint(total.closed);
  w.Key("half_open");
  w.Uint(total.half_open);
  w.Key("open");
  w.Uint(total.open);
  w.EndObject();
  w.Key("layers");
  w.StartObject();
  for (auto& l : sum.layers) {
    w.Key(l.name.data(), static_cast<rapidjson::SizeType>(l.name.size()));
    write_json_string(w, l.status);
  }
  w.EndObject();
  w.Key("maintenance");
  w.Bool(sum.maintenance.on);
  w.Key("errors_total");
  w.Uint64(sum.errors);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// Sends SERVER_STATUS_UPDATE to one client (`to`), or to all of them.
void send_status(self_ptr self, std::optional<uint64_t> to, request_tag req) {
  auto& st = self->state;
  self->request(st.health, std::chrono::seconds{5}, summary_atom::value)
      .then([=](health_summary& sum) {
        auto& st = self->state;
        auto frame = channel_frame("SERVER_STATUS_UPDATE",
                                   system_status_json(*st.ctx, sum), req.id);
        if (to) {
          if (auto it = st.clients.find(*to); it != st.clients.end())
            reply(self, it->second, frame);
          return;
        }
        for (auto& [id, c] : st.clients)
          reply(self, c, frame);
      });
}

void set_maintenance(self_ptr self, const channel_client& c,
                     const channel_request& req) {
  auto& st = self->state;
  if (!is_admin(*c.who)) {
    refuse(self, st.ctx, c, codes::permission_denied,
           "setting maintenance mode needs the admin role", tag(req));
    return;
  }
  auto bad = [&](std::string why) {
    self->send(st.health, error_atom::value, std::string{"refused"},
               std::string{"set_maintenance"}, c.who->sub + ": " + why);
    refuse(self, st.ctx, c, codes::invalid_message, why, tag(req));
  };
  auto on = req.bool_field("on");
  if (!on)
    return bad("'on' must be true or false");
  maintenance_state m;
  m.on = *on;
  m.set_by = c.who->sub;
  if (req.doc.HasMember("message")) {
    auto msg = req.string_field("message");
    if (!msg || msg->size() > max_maintenance_message || !valid_utf8(*msg))
      return bad("'message' must be a string of at most 500 bytes");
    m.message = std::move(*msg);
  }
  if (req.doc.HasMember("expected_end") && !req.doc["expected_end"].IsNull()) {
    auto end = req.string_field("expected_end");
    if (!end || !iso8601_utc(*end))
      return bad("'expected_end' must be an ISO-8601 UTC time such as "
                 "2026-11-23T18:00:00Z");
    m.expected_end = std::move(*end);
  }
  auto id = c.id;
  auto t = tag(req);
  self->request(st.health, std::chrono::seconds{5}, maint_atom::value,
                std::move(m))
      .then([=](maintenance_state& now) {
        // Every client gets maintenance_status from the board's note; the
        // admin's copy carries the request id.
        auto& st = self->state;
        if (auto it = st.clients.find(id); it != st.clients.end())
          answer(self, it->second, "maintenance_status",
                 encode_maintenance(now), t);
      });
}

// Asks the board (`args`), then answers the client with `type`.
template <class T, class Encode, class... Args>
void ask_board(self_ptr self, uint64_t id, const char* type, request_tag req,
               std::string service, Encode encode, Args... args) {
  auto& st = self->state;
  self->request(st.health, std::chrono::seconds{5}, args...)
      .then(
          [=](T& value) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              answer(self, it->second, type, encode(value), req);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (auto it = st.clients.find(id); it != st.clients.end())
              refuse_error(self, st.ctx, it->second, err, req, service);
          });
}

void on_frame(self_ptr self, uint64_t id, const std::string& text) {
  auto& st = self->state;
  auto it = st.clients.find(id);
  if (it == st.clients.end())
    return;
  auto& c = it->second;
  auto req = read_request(self, st.ctx, c, text);
  if (!req)
    return;
  auto& type = req->type;
  if (type == "get_system_status") {
    send_status(self, id, tag(*req));
  } else if (type == "get_maintenance_status") {
    ask_board<maintenance_state>(
        self, id, "maintenance_status", tag(*req), {},
        [](const maintenance_state& m) { return encode_maintenance(m); },
        maint_atom::value);
  } else if (type == "set_maintenance") {
    set_maintenance(self, c, *req);
  } else if (type == "get_system_settings") {
    answer(self, c, "system_settings", st.settings_json, tag(*req));
  } else if (type == "get_service_status") {
    if (auto s = required_string(self, st.ctx, c, *req, "service"))
      ask_board<service_status>(
          self, id, "service_status", tag(*req), *s,
          [](const service_status& s) { return encode_service(s); },
          status_atom::value, *s);
  } else if (type == "get_all_services") {
    ask_board<std::vector<service_status>>(
        self, id, "all_services", tag(*req), {},
        [](const std::vector<service_status>& all) {
          return encode_services_state(all, summarize_layers(all));
        },
        services_atom::value);
  } else if (type == "get_recent_errors") {
    auto cap = st.ctx->settings.health.recent_errors;
    uint32_t limit = cap;
    if (req->doc.HasMember("limit")) {
      auto l = req->uint_field("limit");
      if (!l || *l == 0) {
        refuse(self, st.ctx, c, codes::invalid_message,
               "'limit' must be a positive integer", tag(*req));
        return;
      }
      limit = static_cast<uint32_t>(std::min<uint64_t>(*l, cap));
    }
    ask_board<std::vector<error_entry>>(
        self, id, "recent_errors", tag(*req), {},
        [](const std::vector<error_entry>& errors) {
          return "{\"errors\":" + encode_error_list(errors) + "}";
        },
        errors_atom::value, limit);
  } else {
    refuse(self, st.ctx, c, codes::invalid_message,
           "unknown message type '" + type + "'", tag(*req));
  }
}

void on_note(self_ptr self, const health_note& note) {
  auto& st = self->state;
  const char* type = note.what == health_note::kind::maintenance
                         ? "maintenance_status"
                     : note.what == health_note::kind::error ? "error_alert"
                                                             : nullptr;
  if (type == nullptr || st.clients.empty())
    return;
  auto frame = channel_frame(type, *note.data);
  for (auto& [id, c] : st.clients)
    reply(self, c, frame);
}

ticking_channel_actor::behavior_type monitor_channel(self_ptr self,
                                                     context_ptr ctx,
                                                     health_actor health,
                                                     uint64_t parent) {
  auto& st = self->state;
  st.counters = enroll(self, ctx, actor_kind::channel, "monitor", parent);
  stoppable_by_admin(self, ctx);
  keep_exception_text(self);
  st.ctx = std::move(ctx);
  st.health = std::move(health);
  st.settings_json = config::describe_settings(st.ctx->settings);
  self->send(st.health, listen_atom::value,
             caf::actor_cast<health_listener_actor>(self));
  // A client that dies without saying so is forgotten all the same.
  self->set_down_handler([=](caf::down_msg& msg) {
    erase_client(self->state.clients, msg.source,
                 [](const channel_client& c) { return c.handle; });
  });
  self->delayed_send(
      self,
      std::chrono::milliseconds{st.ctx->settings.channels.status_interval_ms},
      tick_atom::value);
  return {
      [=](open_atom, channel_client& c) {
        count_message(self, self->state.counters);
        self->monitor(c.handle);
        auto id = c.id;
        self->state.clients.emplace(id, std::move(c));
        // A new client sees where things stand at once.
        send_status(self, id, {});
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
      [=](tick_atom) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (!st.clients.empty())
          send_status(self, std::nullopt, {});
        self->delayed_send(self,
                           std::chrono::milliseconds{
                               st.ctx->settings.channels.status_interval_ms},
                           tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_monitor_channel(caf::actor_system& sys, context_ptr ctx,
                                 health_actor health, uint64_t parent) {
  return caf::actor_cast<caf::actor>(
      sys.spawn(monitor_channel, std::move(ctx), std::move(health), parent));
}

} // namespace herald::actors::channels
