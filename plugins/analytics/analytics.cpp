// The analytics plugin (docs/endpoints.md "analytics"):
// /api/v69/ws/analytics, identity required. Tracks client events (published
// on analytics:track:event:<name> for backends), keeps the cluster's active
// users (connects and heartbeats on analytics:presence:active), and gives
// admins dashboards, metrics and server stats.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <string_view>

namespace herald::plugins::analytics {

namespace {

// Tracked events go out on analytics:track:event:<name>: the name is the
// resource id, the one segment a pattern may wildcard (PROTOCOL §3), so a
// backend follows every tracked event with analytics:track:event:*.
constexpr std::string_view tracked_prefix = "analytics:track:event:";

struct analytics_config {
  uint32_t active_window_ms = 60000;
  uint32_t dashboard_interval_ms = 5000;
  uint32_t metric_interval_ms = 5000;
};

sdk::config_result parse_config(const std::string& json) {
  std::map<std::string, uint64_t> v;
  auto why = parse_uint_config(json,
                               {{"active_window_ms", {1000, 86400000}},
                                {"dashboard_interval_ms", {100, 3600000}},
                                {"metric_interval_ms", {100, 3600000}}},
                               v);
  if (!why.empty())
    return why;
  auto cfg = std::make_shared<analytics_config>();
  auto take = [&](const char* k, uint32_t& into) {
    if (v.count(k))
      into = static_cast<uint32_t>(v[k]);
  };
  take("active_window_ms", cfg->active_window_ms);
  take("dashboard_interval_ms", cfg->dashboard_interval_ms);
  take("metric_interval_ms", cfg->metric_interval_ms);
  return std::shared_ptr<const void>{std::move(cfg)};
}

constexpr int64_t minute_us = 60'000'000;
constexpr size_t max_properties_bytes = 8192;
const std::set<std::string> node_metrics = {
    "connections", "sse_connections", "channel_sessions",
    "publishes",   "deliveries",      "rss_bytes"};

using analytics_actor =
    sdk::listening_channel_actor::extend<caf::reacts_to<tick_atom>>;

struct analytics_state {
  static inline const char* name = "herald.plugin.analytics";
  std::optional<client_table> clients;
  analytics_config cfg;
  /// user -> node -> last seen (us): the cluster's active set.
  std::map<std::string, std::map<std::string, int64_t>> seen;
  std::map<std::string, uint32_t> local_sessions;     ///< by user
  std::deque<std::pair<int64_t, std::string>> recent; ///< the last minute
  uint64_t tracked = 0; ///< events heard since start (cluster-wide)
  std::set<uint64_t> dashboards;
  std::map<uint64_t, std::set<std::string>> metrics; ///< by client
  int64_t last_dashboard = 0;
  int64_t last_metrics = 0;
};

using self_ptr = analytics_actor::stateful_pointer<analytics_state>;

const sdk::host& host(self_ptr self) {
  return self->state.clients->host();
}

void prune(analytics_state& st, int64_t now) {
  while (!st.recent.empty() && now - st.recent.front().first >= minute_us)
    st.recent.pop_front();
  auto window = int64_t{st.cfg.active_window_ms} * 1000;
  for (auto u = st.seen.begin(); u != st.seen.end();) {
    for (auto n = u->second.begin(); n != u->second.end();)
      n = now - n->second >= window ? u->second.erase(n) : std::next(n);
    u = u->second.empty() ? st.seen.erase(u) : std::next(u);
  }
}

uint64_t active_count(self_ptr self) {
  prune(self->state, now_us());
  return self->state.seen.size();
}

uint64_t count_of(const analytics_state& st, const std::string& name) {
  return static_cast<uint64_t>(
      std::count_if(st.recent.begin(), st.recent.end(),
                    [&](auto& e) { return e.second == name; }));
}

void publish(self_ptr self, std::string topic, std::string type,
             std::string data) {
  self->request(host(self).node, caf::infinite, sdk::publish_atom::value,
                std::move(topic), std::move(type), std::move(data))
      .then([](const std::string&) {}, [](caf::error&) {});
}

void seen_now(self_ptr self, const std::string& user, bool left = false) {
  publish(self, "analytics:presence:active", "analytics.presence",
          "{\"user_id\":" + json_string(user)
              + ",\"node\":" + json_string(host(self).node_name)
              + (left ? ",\"left\":true" : "") + "}");
}

// Answers with the node's stats merged with the channel's own figures.
template <class F>
void with_stats(self_ptr self, F then) {
  self->request(host(self).node, std::chrono::seconds{5},
                sdk::stats_atom::value)
      .then(
          [=](const std::string& json) mutable {
            rapidjson::Document doc;
            doc.Parse(json.data(), json.size());
            if (doc.HasParseError() || !doc.IsObject())
              doc.SetObject();
            then(doc);
          },
          [=](caf::error&) mutable {
            rapidjson::Document doc;
            doc.SetObject();
            then(doc);
          });
}

std::string server_stats_json(self_ptr self, rapidjson::Document& doc) {
  auto& st = self->state;
  auto& a = doc.GetAllocator();
  doc.AddMember("active_users", active_count(self), a);
  doc.AddMember("events_tracked", st.tracked, a);
  doc.AddMember("events_last_minute", static_cast<uint64_t>(st.recent.size()),
                a);
  return to_json(doc);
}

std::string dashboard_json(self_ptr self, rapidjson::Document& stats) {
  auto& st = self->state;
  // Nothing else ages the minute's events when none arrive.
  prune(st, now_us());
  std::map<std::string, uint64_t> counts;
  for (auto& [_, name] : st.recent)
    ++counts[name];
  std::vector<std::pair<std::string, uint64_t>> top(counts.begin(),
                                                    counts.end());
  std::sort(top.begin(), top.end(), [](auto& x, auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  if (top.size() > 10)
    top.resize(10);
  std::vector<std::string> items;
  for (auto& [name, n] : top)
    items.push_back("{\"event\":" + json_string(name)
                    + ",\"count\":" + std::to_string(n) + "}");
  return "{\"active_users\":" + std::to_string(active_count(self))
         + ",\"events_last_minute\":" + std::to_string(st.recent.size())
         + ",\"top_events\":" + json_array(items)
         + ",\"server\":" + server_stats_json(self, stats) + "}";
}

bool known_metric(const std::string& m) {
  return m == "active_users" || m == "events_per_minute"
         || node_metrics.count(m) > 0
         || (m.rfind("event:", 0) == 0 && valid_name(m.substr(6), 64));
}

std::string metric_json(self_ptr self, const std::string& m,
                        const rapidjson::Document& stats) {
  auto& st = self->state;
  prune(st, now_us());
  std::string value = "0";
  if (m == "active_users")
    value = std::to_string(active_count(self));
  else if (m == "events_per_minute")
    value = std::to_string(st.recent.size());
  else if (m.rfind("event:", 0) == 0)
    value = std::to_string(count_of(st, m.substr(6)));
  else if (auto it = stats.FindMember(m.c_str());
           it != stats.MemberEnd() && it->value.IsNumber())
    value = to_json(it->value);
  return "{\"metric\":" + json_string(m) + ",\"value\":" + value
         + ",\"at\":" + json_string(iso8601(now_us())) + "}";
}

// `id`: the subscribe_metric being answered, or none for a periodic push.
void send_metrics(self_ptr self, uint64_t client,
                  std::vector<std::string> which,
                  std::optional<std::string> id = std::nullopt) {
  with_stats(self, [=](rapidjson::Document& stats) {
    auto& st = self->state;
    auto* c = st.clients->find(client);
    auto held = st.metrics.find(client);
    if (c == nullptr || held == st.metrics.end())
      return;
    // The stats took a round trip: a metric unsubscribed meanwhile is not
    // sent any more.
    for (auto& m : which)
      if (held->second.count(m))
        st.clients->answer(self, *c, "metric_update",
                           metric_json(self, m, stats), id);
  });
}

void send_dashboard(self_ptr self, std::vector<uint64_t> to,
                    std::optional<std::string> id) {
  with_stats(self, [=](rapidjson::Document& stats) {
    auto& st = self->state;
    auto f = host(self).make_frame("dashboard_update",
                                   dashboard_json(self, stats), id);
    // Not to a client that unsubscribed while the stats were on their way.
    for (auto c : to)
      if (auto* client = st.clients->find(c); client && st.dashboards.count(c))
        st.clients->push(self, *client, f);
  });
}

void handle(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto refuse = [&](std::string_view code, const std::string& message) {
    st.clients->refuse(self, c, "error", code, message, req.type, req.id);
  };
  auto& type = req.type;
  if (type == "track_event") {
    auto event = req.string_field("event");
    if (!event || !valid_name(*event, 64))
      return refuse(codes::invalid_message,
                    "event must be 1-64 characters of [A-Za-z0-9_.-]");
    auto* props = req.field("properties");
    std::string props_json = "{}";
    if (props != nullptr) {
      if (!props->IsObject())
        return refuse(codes::invalid_message, "properties must be an object");
      props_json = to_json(*props);
      if (props_json.size() > max_properties_bytes)
        return refuse(codes::invalid_message, "properties are over 8 KiB");
    }
    // The user as `tracked_by`, not `user_id`: the node reads a payload's
    // `user_id` as its audience (PROTOCOL §1), and the backends following
    // the topic would never see the event.
    auto data = "{\"event\":" + json_string(*event) + ",\"properties\":"
                + props_json + ",\"tracked_by\":" + json_string(c.who->sub)
                + ",\"session_id\":" + json_string(c.session_id)
                + ",\"at\":" + json_string(iso8601(now_us())) + "}";
    auto client = c.id;
    auto name = *event;
    auto rid = req.id;
    self->request(host(self).node, caf::infinite, sdk::publish_atom::value,
                  std::string{tracked_prefix} + name,
                  std::string{"analytics.track"}, std::move(data))
        .then(
            [=](const std::string& event_id) {
              auto& st = self->state;
              if (auto* c = st.clients->find(client))
                st.clients->answer(self, *c, "event_tracked",
                                   "{\"event\":" + json_string(name)
                                       + ",\"event_id\":"
                                       + json_string(event_id) + "}",
                                   rid);
            },
            [=](caf::error& err) {
              auto& st = self->state;
              if (auto* c = st.clients->find(client))
                st.clients->refuse(self, *c, "error", codes::unavailable,
                                   "tracking failed: "
                                       + self->system().render(err),
                                   "track_event", rid);
            });
    return;
  }
  if (type == "heartbeat")
    return seen_now(self, c.who->sub);
  static const std::set<std::string> admin_only = {
      "subscribe_dashboard", "unsubscribe_dashboard", "subscribe_metric",
      "unsubscribe_metric",  "get_active_users",      "get_server_stats"};
  if (!admin_only.count(type))
    return refuse(codes::invalid_message,
                  "unknown message type '" + type
                      + "' (track_event, heartbeat, subscribe_dashboard, "
                        "unsubscribe_dashboard, subscribe_metric, "
                        "unsubscribe_metric, get_active_users, "
                        "get_server_stats)");
  if (!c.who->has_role("admin"))
    return refuse(codes::permission_denied, type + " needs the admin role");
  if (type == "get_active_users") {
    prune(st, now_us());
    std::vector<std::string> users;
    for (auto& [user, nodes] : st.seen) {
      if (users.size() >= 1000)
        break;
      int64_t last = 0;
      std::vector<std::string> names;
      for (auto& [node, at] : nodes) {
        last = std::max(last, at);
        names.push_back(json_string(node));
      }
      users.push_back("{\"user_id\":" + json_string(user)
                      + ",\"last_seen\":" + json_string(iso8601(last))
                      + ",\"nodes\":" + json_array(names) + "}");
    }
    return st.clients->answer(self, c, "active_users",
                              "{\"count\":" + std::to_string(st.seen.size())
                                  + ",\"users\":" + json_array(users) + "}",
                              req.id);
  }
  if (type == "get_server_stats") {
    auto client = c.id;
    auto rid = req.id;
    return with_stats(self, [=](rapidjson::Document& stats) {
      auto& st = self->state;
      if (auto* c = st.clients->find(client))
        st.clients->answer(self, *c, "server_stats",
                           server_stats_json(self, stats), rid);
    });
  }
  if (type == "subscribe_dashboard") {
    st.dashboards.insert(c.id);
    return send_dashboard(self, {c.id}, req.id);
  }
  if (type == "unsubscribe_dashboard") {
    st.dashboards.erase(c.id);
    return;
  }
  auto metric = req.string_field("metric");
  if (!metric || !known_metric(*metric))
    return refuse(codes::invalid_message,
                  "metric must be active_users, events_per_minute, "
                  "event:<name>, connections, sse_connections, "
                  "channel_sessions, publishes, deliveries or rss_bytes");
  if (type == "subscribe_metric") {
    st.metrics[c.id].insert(*metric);
    return send_metrics(self, c.id, {*metric}, req.id);
  }
  auto it = st.metrics.find(c.id);
  if (it != st.metrics.end()) {
    it->second.erase(*metric);
    if (it->second.empty())
      st.metrics.erase(it);
  }
}

void on_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  rapidjson::Document doc;
  doc.Parse(ev.data_json.data(), ev.data_json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return;
  if (ev.topic == "analytics:presence:active") {
    auto user = doc.FindMember("user_id");
    auto node = doc.FindMember("node");
    if (user == doc.MemberEnd() || !user->value.IsString()
        || node == doc.MemberEnd() || !node->value.IsString())
      return;
    auto& nodes = st.seen[user->value.GetString()];
    if (doc.HasMember("left")) {
      nodes.erase(node->value.GetString());
      if (nodes.empty())
        st.seen.erase(user->value.GetString());
    } else {
      nodes[node->value.GetString()] = now_us();
    }
    return;
  }
  if (ev.topic.rfind(tracked_prefix, 0) == 0) {
    auto now = now_us();
    st.recent.emplace_back(now, ev.topic.substr(tracked_prefix.size()));
    ++st.tracked;
    prune(st, now);
  }
}

void tick(self_ptr self) {
  auto& st = self->state;
  auto now = now_us();
  if (!st.dashboards.empty()
      && now - st.last_dashboard
             >= int64_t{st.cfg.dashboard_interval_ms} * 1000 - 50'000) {
    st.last_dashboard = now;
    send_dashboard(self, {st.dashboards.begin(), st.dashboards.end()},
                   std::nullopt);
  }
  if (now - st.last_metrics
      >= int64_t{st.cfg.metric_interval_ms} * 1000 - 50'000) {
    st.last_metrics = now;
    for (auto& [client, which] : st.metrics)
      send_metrics(self, client, {which.begin(), which.end()});
  }
  auto every =
      std::min(st.cfg.dashboard_interval_ms, st.cfg.metric_interval_ms);
  self->delayed_send(self, std::chrono::milliseconds{every}, tick_atom::value);
}

analytics_actor::behavior_type channel(self_ptr self, sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const analytics_config>(h.config);
  auto me = caf::actor_cast<sdk::listener_actor>(self);
  self->send(h.node, sdk::subscribe_atom::value,
             std::string{"analytics:presence:active"}, me);
  self->send(h.node, sdk::subscribe_atom::value,
             std::string{tracked_prefix} + "*", me);
  st.clients.emplace(std::move(h));
  self->send(self, tick_atom::value);
  return {
      [=](sdk::open_atom, sdk::client& c) {
        auto& st = self->state;
        auto user = c.who->sub;
        ++st.local_sessions[user];
        st.clients->answer(
            self, c, "welcome",
            "{\"user_id\":" + json_string(user) + ",\"node\":"
                + json_string(host(self).node_name) + ",\"server_time\":"
                + json_string(iso8601(now_us())) + ",\"active_window_ms\":"
                + std::to_string(st.cfg.active_window_ms) + "}",
            std::nullopt);
        st.clients->add(std::move(c));
        seen_now(self, user);
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
        if (auto* c = st.clients->find(id)) {
          auto it = st.local_sessions.find(c->who->sub);
          if (it != st.local_sessions.end() && --it->second == 0) {
            seen_now(self, it->first, true);
            st.local_sessions.erase(it);
          }
        }
        st.dashboards.erase(id);
        st.metrics.erase(id);
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
      [=](tick_atom) { tick(self); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "analytics";
  d.endpoints = {{"analytics", true}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::analytics

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::analytics::make_descriptor();
  return &d;
}
