// The notifications plugin (docs/endpoints.md): /api/v69/ws/notifications,
// identity required. Backends publish on `notifications:<anything>` with
// `user_id` (or `user_ids`) naming the recipients; each notification is
// stored (collection `notifications`, owner the user, key `<event id>:
// <user>`, so every node storing it into a shared store stores it once)
// and, once durable, pushed to the user's sessions on this node as
// `notification`, or `notification_batch` when several arrive within
// `batch_window_ms`. Reading marks are published on `notifications:read`
// so the user's sessions on every node see the new `unread_count`.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <set>

namespace herald::plugins::notifications {

namespace {

using flush_atom = caf::atom_constant<caf::atom("nflush")>;

constexpr const char* collection = "notifications";
constexpr const char* read_topic = "notifications:read";
constexpr const char* read_type = "notification.read";

struct notify_config {
  uint32_t batch_window_ms = 25;
  uint32_t replay_on_connect = 50; ///< unread pushed on connect, at most
};

sdk::config_result parse_config(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::string{"must be a JSON object"};
  auto cfg = std::make_shared<notify_config>();
  for (auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    uint32_t* field = key == "batch_window_ms"     ? &cfg->batch_window_ms
                      : key == "replay_on_connect" ? &cfg->replay_on_connect
                                                   : nullptr;
    if (field == nullptr)
      return "unknown key '" + key + "' (batch_window_ms, replay_on_connect)";
    if (!m.value.IsUint() || m.value.GetUint() > 10000)
      return key + ": must be an integer 0..10000";
    *field = m.value.GetUint();
  }
  return std::shared_ptr<const void>{std::move(cfg)};
}

using channel_type =
    sdk::listening_channel_actor::extend<caf::reacts_to<flush_atom>>;

struct notify_state {
  static inline const char* name = "herald.plugin.notifications";
  std::optional<client_table> clients;
  notify_config cfg;
  std::map<std::string, std::set<uint64_t>> sessions; ///< by user
  /// Stored, not yet pushed: by user, in arrival order.
  std::map<std::string, std::vector<std::string>> pending;
  bool flush_scheduled = false;
};

using self_ptr = channel_type::stateful_pointer<notify_state>;

const sdk::store_actor& store(self_ptr self) {
  return self->state.clients->host().store;
}

// A stored record as the client sees it: the stored object with `id` and
// `read` first.
std::string render(const sdk::record& r) {
  std::string body = r.value_json.size() > 2 ? r.value_json.substr(1) : "}";
  return "{\"id\":" + json_string(r.key) + ",\"read\":"
         + (r.flag ? "true" : "false") + (body == "}" ? "" : ",") + body;
}

std::string render_all(const std::vector<sdk::record>& rs) {
  std::vector<std::string> items;
  for (auto& r : rs)
    items.push_back(render(r));
  return json_array(items);
}

template <class F>
void for_sessions(self_ptr self, const std::string& user, F f) {
  auto& st = self->state;
  auto it = st.sessions.find(user);
  if (it == st.sessions.end())
    return;
  for (auto id : it->second)
    if (auto* c = st.clients->find(id))
      f(*c);
}

// Counts the user's unread and pushes the count to their sessions here.
void push_count(self_ptr self, const std::string& user) {
  if (!self->state.sessions.count(user))
    return;
  sdk::record_query q;
  q.owner = user;
  q.flag = false;
  self->request(store(self), caf::infinite, sdk::count_atom::value,
                std::string{collection}, q)
      .then([=](uint64_t n) {
        auto f = self->state.clients->host().make_frame(
            "unread_count", "{\"count\":" + std::to_string(n) + "}",
            std::nullopt);
        for_sessions(self, user, [&](const sdk::client& c) {
          self->state.clients->push(self, c, f);
        });
      });
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  auto pending = std::move(st.pending);
  st.pending.clear();
  for (auto& [user, items] : pending) {
    sdk::frame f =
        items.size() == 1
            ? st.clients->host().make_frame("notification", items[0],
                                            std::nullopt)
            : st.clients->host().make_frame(
                "notification_batch",
                "{\"notifications\":" + json_array(items)
                    + ",\"count\":" + std::to_string(items.size()) + "}",
                std::nullopt);
    for_sessions(self, user,
                 [&](const sdk::client& c) { st.clients->push(self, c, f); });
    push_count(self, user);
  }
}

void queue(self_ptr self, const std::string& user, std::string rendered) {
  auto& st = self->state;
  if (!st.sessions.count(user))
    return; // stored; seen on the next connect
  st.pending[user].push_back(std::move(rendered));
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, std::chrono::milliseconds(st.cfg.batch_window_ms),
                       flush_atom::value);
  }
}

std::vector<std::string> recipients(const sdk::event& ev,
                                    const rapidjson::Document& doc) {
  std::set<std::string> out;
  if (!ev.user_id.empty())
    out.insert(ev.user_id);
  auto it = doc.FindMember("user_ids");
  if (it != doc.MemberEnd() && it->value.IsArray())
    for (auto& u : it->value.GetArray())
      if (u.IsString() && u.GetStringLength() > 0 && u.GetStringLength() <= 256)
        out.insert(u.GetString());
  return {out.begin(), out.end()};
}

void on_event(self_ptr self, const sdk::event& ev) {
  rapidjson::Document doc;
  doc.Parse(ev.data_json.c_str());
  if (!doc.IsObject())
    return;
  if (ev.type == read_type) {
    if (doc.HasMember("user_id") && doc["user_id"].IsString())
      push_count(self, doc["user_id"].GetString());
    return;
  }
  auto users = recipients(ev, doc);
  // The notification as stored: the payload, less the routing fields, with
  // its kind and when it was published.
  doc.RemoveMember("user_id");
  doc.RemoveMember("user_ids");
  doc.RemoveMember("id");
  doc.RemoveMember("read");
  auto& a = doc.GetAllocator();
  if (!doc.HasMember("type"))
    doc.AddMember("type", rapidjson::Value{ev.type.c_str(), a}, a);
  doc.AddMember("created_at",
                rapidjson::Value{iso8601(ev.timestamp_us).c_str(), a}, a);
  auto body = to_json(doc);
  for (auto& user : users) {
    sdk::record r;
    r.key = ev.id + ":" + user;
    r.owner = user;
    r.value_json = body;
    // Pushed once durable; also when another node stored it first (a
    // shared store), since this node's sessions have not seen it.
    self->request(store(self), caf::infinite, sdk::add_atom::value,
                  std::string{collection}, r)
        .then([=](bool) { queue(self, user, render(r)); },
              [=](caf::error&) {
                // Logged by the store; the publisher's event is not lost
                // for other nodes, and this one cannot keep it.
              });
  }
}

void on_open(self_ptr self, const sdk::client& c) {
  auto& st = self->state;
  auto user = c.who->sub;
  st.sessions[user].insert(c.id);
  sdk::record_query q;
  q.owner = user;
  q.flag = false;
  self->request(store(self), caf::infinite, sdk::count_atom::value,
                std::string{collection}, q)
      .then([=](uint64_t n) {
        auto& st = self->state;
        st.clients->answer(self, c, "unread_count",
                           "{\"count\":" + std::to_string(n) + "}",
                           std::nullopt);
        if (n == 0 || st.cfg.replay_on_connect == 0)
          return;
        // What arrived while the user was away.
        auto q2 = q;
        q2.limit = st.cfg.replay_on_connect;
        self->request(store(self), caf::infinite, sdk::list_atom::value,
                      std::string{collection}, q2)
            .then([=](std::vector<sdk::record>& rs) {
              self->state.clients->answer(
                  self, c, "notification_batch",
                  "{\"notifications\":" + render_all(rs) + ",\"count\":"
                      + std::to_string(rs.size()) + ",\"unread\":true}",
                  std::nullopt);
            });
      });
}

void mark(self_ptr self, const sdk::client& c, const request& req, bool all) {
  auto& st = self->state;
  std::vector<std::string> keys;
  if (!all) {
    if (auto one = req.string_field("id"))
      keys.push_back(*one);
    if (auto* ids = req.field("ids"); ids && ids->IsArray())
      for (auto& k : ids->GetArray())
        if (k.IsString())
          keys.emplace_back(k.GetString());
    if (keys.empty() || keys.size() > 1000)
      return st.clients->refuse(self, c, "error", codes::invalid_message,
                                "mark_read takes `id` or `ids` (1 to 1000 "
                                "notification ids)",
                                req.type, req.id);
  }
  sdk::record_query q;
  q.owner = c.who->sub;
  self->request(store(self), caf::infinite, sdk::flag_atom::value,
                std::string{collection}, q, keys, true)
      .then(
          [=, id = req.id](std::vector<std::string>& changed) {
            std::vector<std::string> ids;
            for (auto& k : changed)
              ids.push_back(json_string(k));
            self->state.clients->answer(
                self, c, "read_confirmed",
                std::string{"{\"all\":"} + (all ? "true" : "false")
                    + ",\"ids\":" + json_array(ids)
                    + ",\"count\":" + std::to_string(changed.size()) + "}",
                id);
            // Every node recounts for the user's sessions, this one too.
            caf::anon_send(self->state.clients->host().node,
                           sdk::publish_atom::value, std::string{read_topic},
                           std::string{read_type},
                           "{\"user_id\":" + json_string(q.owner) + "}");
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the notification store", req.type, req.id));
}

void list(self_ptr self, const sdk::client& c, const request& req,
          bool unread_only) {
  auto& st = self->state;
  auto limit = uint_in(req, "limit", 20, 1, 100);
  auto before = uint_in(req, "before", 0, 0, UINT64_MAX);
  if (!limit || !before)
    return st.clients->refuse(self, c, "error", codes::invalid_message,
                              "`limit` is an integer 1..100 and `before` a "
                              "cursor from an earlier answer",
                              req.type, req.id);
  sdk::record_query q;
  q.owner = c.who->sub;
  if (unread_only)
    q.flag = false;
  q.limit = static_cast<uint32_t>(*limit);
  q.before_seq = *before;
  self->request(store(self), caf::infinite, sdk::list_atom::value,
                std::string{collection}, q)
      .then(
          [=, id = req.id, n = *limit](std::vector<sdk::record>& rs) {
            // A full page may have more behind it.
            std::string next = rs.size() == n && !rs.empty()
                                   ? std::to_string(rs.back().seq)
                                   : "null";
            self->state.clients->answer(
                self, c, unread_only ? "unread_notifications" : "notifications",
                "{\"notifications\":" + render_all(rs)
                    + ",\"next_before\":" + next + "}",
                id);
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the notification store", req.type, req.id));
}

void on_frame(self_ptr self, const sdk::client& c, const std::string& text) {
  auto& st = self->state;
  std::string why;
  auto req = parse_request(text, why);
  if (!req)
    return st.clients->refuse(self, c, "error", codes::invalid_message, why, "",
                              {});
  auto& t = req->type;
  if (t == "mark_read")
    mark(self, c, *req, false);
  else if (t == "mark_all_read")
    mark(self, c, *req, true);
  else if (t == "get_unread")
    list(self, c, *req, true);
  else if (t == "get_notifications")
    list(self, c, *req, false);
  else
    st.clients->refuse(self, c, "error", codes::invalid_message,
                       "unknown message type '" + t
                           + "' (mark_read, mark_all_read, get_unread, "
                             "get_notifications)",
                       t, req->id);
}

channel_type::behavior_type channel(self_ptr self, sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const notify_config>(h.config);
  self->send(h.node, sdk::subscribe_atom::value, std::string{"notifications:>"},
             sdk::listener_actor{self});
  st.clients.emplace(std::move(h));
  return {
      [=](sdk::open_atom, sdk::client& c) {
        self->state.clients->add(c);
        on_open(self, c);
      },
      [=](sdk::frame_atom, uint64_t id, const std::string& text) {
        if (auto* c = self->state.clients->find(id))
          on_frame(self, *c, text);
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        if (auto* c = st.clients->find(id)) {
          auto it = st.sessions.find(c->who->sub);
          if (it != st.sessions.end() && it->second.erase(id)
              && it->second.empty())
            st.sessions.erase(it);
        }
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
      [=](flush_atom) { flush(self); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "notifications";
  d.endpoints = {{"notifications", true}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::notifications

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::notifications::make_descriptor();
  return &d;
}
