// The contest plugin (docs/endpoints.md "contest"): /api/v69/ws/contest.
// Reads are public; chat, a participant's status and admin presence need
// an identity. Backends publish a contest's state, participants and
// leaderboard on contest:{state,participant,leaderboard}:<id>; the channel
// holds the last of each and pushes changes to the contest's room. Chat,
// admin presence and each node's spectator count travel on
// contest:{chat,admin,presence}:<id>, so a room spans the cluster.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <set>

namespace herald::plugins::contest {

namespace {

struct contest_config {
  uint32_t chat_rate_messages = 5;
  uint32_t chat_rate_window_ms = 10000;
  uint32_t max_chat_bytes = 1000;
  uint32_t presence_refresh_ms = 10000;
};

sdk::config_result parse_config(const std::string& json) {
  std::map<std::string, uint64_t> v;
  auto why = parse_uint_config(json,
                               {{"chat_rate_messages", {1, 100000}},
                                {"chat_rate_window_ms", {1, 3600000}},
                                {"max_chat_bytes", {1, 1 << 20}},
                                {"presence_refresh_ms", {100, 3600000}}},
                               v);
  if (!why.empty())
    return why;
  auto cfg = std::make_shared<contest_config>();
  auto take = [&](const char* k, uint32_t& into) {
    if (v.count(k))
      into = static_cast<uint32_t>(v[k]);
  };
  take("chat_rate_messages", cfg->chat_rate_messages);
  take("chat_rate_window_ms", cfg->chat_rate_window_ms);
  take("max_chat_bytes", cfg->max_chat_bytes);
  take("presence_refresh_ms", cfg->presence_refresh_ms);
  return std::shared_ptr<const void>{std::move(cfg)};
}

using contest_actor =
    sdk::listening_channel_actor::extend<caf::reacts_to<tick_atom>>;

struct contest_data {
  std::string state_json;       ///< contest_state's data, or empty
  std::string leaderboard_json; ///< leaderboard_update's data, or empty
  std::map<std::string, std::string> participants; ///< by user
};

struct node_count {
  uint64_t count = 0;
  int64_t seen_us = 0;
};

struct contest_state {
  static inline const char* name = "herald.plugin.contest";
  std::optional<client_table> clients;
  contest_config cfg;
  std::optional<rate_window> limit;
  std::map<std::string, contest_data> contests;
  std::map<std::string, std::set<uint64_t>> rooms;  ///< by contest
  std::map<uint64_t, std::set<std::string>> joined; ///< by client
  std::map<std::string, std::map<std::string, node_count>> presence;
  std::map<std::string, uint64_t> shown; ///< the last sum pushed, by contest
};

using self_ptr = contest_actor::stateful_pointer<contest_state>;

const std::string& node_name(self_ptr self) {
  return self->state.clients->host().node_name;
}

// `data` (a JSON object, else {}) with contest_id set.
std::string with_contest(const std::string& data, const std::string& id) {
  rapidjson::Document doc;
  doc.Parse(data.data(), data.size());
  if (doc.HasParseError() || !doc.IsObject())
    doc.SetObject();
  doc.RemoveMember("contest_id");
  doc.AddMember("contest_id",
                rapidjson::Value{id.c_str(),
                                 static_cast<rapidjson::SizeType>(id.size()),
                                 doc.GetAllocator()},
                doc.GetAllocator());
  return to_json(doc);
}

uint64_t spectators(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.presence.find(id);
  if (it == st.presence.end())
    return 0;
  auto stale = int64_t{st.cfg.presence_refresh_ms} * 3000;
  auto now = now_us();
  uint64_t sum = 0;
  for (auto& [node, nc] : it->second)
    if (node == node_name(self) || now - nc.seen_us < stale)
      sum += nc.count;
  return sum;
}

std::string count_json(const std::string& id, uint64_t n) {
  return "{\"contest_id\":" + json_string(id)
         + ",\"count\":" + std::to_string(n) + "}";
}

// `skip`: a client that hears it otherwise (a joiner, in its answer).
void push_room(self_ptr self, const std::string& id, const sdk::frame& f,
               std::optional<uint64_t> skip = std::nullopt) {
  auto& st = self->state;
  auto it = st.rooms.find(id);
  if (it == st.rooms.end())
    return;
  for (auto c : it->second)
    if (c != skip)
      if (auto* client = st.clients->find(c))
        st.clients->push(self, *client, f);
}

// Pushes spectator_count to the room when the cluster's sum changed.
void show_count(self_ptr self, const std::string& id,
                std::optional<uint64_t> skip = std::nullopt) {
  auto& st = self->state;
  auto n = spectators(self, id);
  if (n == 0 && !st.rooms.count(id)) {
    // Nobody watches anywhere: forget the room's counts, so contests
    // that come and go cost nothing once empty.
    st.presence.erase(id);
    st.shown.erase(id);
    return;
  }
  auto& shown = st.shown[id];
  if (shown == n)
    return;
  shown = n;
  push_room(self, id,
            st.clients->host().make_frame("spectator_count", count_json(id, n),
                                          std::nullopt),
            skip);
}

void publish(self_ptr self, const std::string& topic, const std::string& type,
             std::string data) {
  self->request(self->state.clients->host().node, caf::infinite,
                sdk::publish_atom::value, topic, type, std::move(data))
      .then([](const std::string&) {}, [](caf::error&) {});
}

// This node's count of a room changed (or is due a refresh).
void announce(self_ptr self, const std::string& id,
              std::optional<uint64_t> skip = std::nullopt) {
  auto& st = self->state;
  auto it = st.rooms.find(id);
  uint64_t n = it == st.rooms.end() ? 0 : it->second.size();
  st.presence[id][node_name(self)] = node_count{n, now_us()};
  publish(self, "contest:presence:" + id, "contest.presence",
          "{\"node\":" + json_string(node_name(self))
              + ",\"count\":" + std::to_string(n) + "}");
  show_count(self, id, skip);
}

void leave(self_ptr self, uint64_t client, const std::string& id) {
  auto& st = self->state;
  auto it = st.rooms.find(id);
  if (it == st.rooms.end() || it->second.erase(client) == 0)
    return;
  if (it->second.empty())
    st.rooms.erase(it);
  announce(self, id);
}

void on_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  // contest:<kind>:<contest_id>
  auto first = ev.topic.find(':');
  auto second = ev.topic.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos)
    return;
  auto kind = ev.topic.substr(first + 1, second - first - 1);
  auto id = ev.topic.substr(second + 1);
  auto& h = st.clients->host();
  if (kind == "state") {
    auto data = with_contest(ev.data_json, id);
    st.contests[id].state_json = data;
    push_room(self, id, h.make_frame("contest_state", data, std::nullopt));
  } else if (kind == "leaderboard") {
    auto data = with_contest(ev.data_json, id);
    st.contests[id].leaderboard_json = data;
    push_room(self, id, h.make_frame("leaderboard_update", data, std::nullopt));
  } else if (kind == "participant") {
    rapidjson::Document doc;
    doc.Parse(ev.data_json.data(), ev.data_json.size());
    if (doc.HasParseError() || !doc.IsObject())
      return;
    auto user = doc.FindMember("user_id");
    if (user == doc.MemberEnd() || !user->value.IsString())
      return;
    auto data = with_contest(ev.data_json, id);
    st.contests[id].participants[user->value.GetString()] = data;
    push_room(self, id, h.make_frame("participant_update", data, std::nullopt));
  } else if (kind == "chat") {
    push_room(self, id,
              h.make_frame("chat_message", ev.data_json, std::nullopt));
  } else if (kind == "admin") {
    push_room(self, id,
              h.make_frame("admin_presence", ev.data_json, std::nullopt));
  } else if (kind == "presence") {
    rapidjson::Document doc;
    doc.Parse(ev.data_json.data(), ev.data_json.size());
    if (doc.HasParseError() || !doc.IsObject())
      return;
    auto node = doc.FindMember("node");
    auto count = doc.FindMember("count");
    if (node == doc.MemberEnd() || !node->value.IsString()
        || count == doc.MemberEnd() || !count->value.IsUint64())
      return;
    std::string from = node->value.GetString();
    if (from == node_name(self))
      return; // our own count is kept directly
    auto& entries = st.presence[id];
    if (count->value.GetUint64() == 0)
      entries.erase(from);
    else
      entries[from] = node_count{count->value.GetUint64(), now_us()};
    show_count(self, id);
  }
}

// -- client messages ---------------------------------------------------------

struct ctx {
  self_ptr self;
  const sdk::client& c;
  const request& req;
  void refuse(std::string_view code, const std::string& message) const {
    self->state.clients->refuse(self, c, "error", code, message, req.type,
                                req.id);
  }
  void answer(std::string_view type, const std::string& data) const {
    self->state.clients->answer(self, c, type, data, req.id);
  }
};

std::optional<std::string> contest_id(const ctx& x) {
  auto id = x.req.string_field("contest_id");
  if (!id || !valid_name(*id, 128)) {
    x.refuse(codes::invalid_message,
             "contest_id must be 1-128 characters of [A-Za-z0-9_.-]");
    return std::nullopt;
  }
  return id;
}

bool identified(const ctx& x) {
  if (!x.c.who->anonymous())
    return true;
  x.refuse(codes::unauthorized,
           "'" + x.req.type + "' needs a token; connect with one");
  return false;
}

void handle(const ctx& x) {
  auto self = x.self;
  auto& st = self->state;
  auto& type = x.req.type;
  if (type == "get_all_contests") {
    std::vector<std::string> all;
    for (auto& [id, d] : st.contests)
      if (!d.state_json.empty())
        all.push_back(d.state_json);
    return x.answer("all_contests", "{\"contests\":" + json_array(all) + "}");
  }
  if (type == "get_contest_state" || type == "get_leaderboard") {
    auto id = contest_id(x);
    if (!id)
      return;
    auto it = st.contests.find(*id);
    bool state = type == "get_contest_state";
    if (it == st.contests.end()
        || (state ? it->second.state_json : it->second.leaderboard_json)
               .empty())
      return x.refuse(codes::not_found,
                      std::string{"no "} + (state ? "state" : "leaderboard")
                          + " known for contest '" + *id + "'");
    return state ? x.answer("contest_state", it->second.state_json)
                 : x.answer("leaderboard_update", it->second.leaderboard_json);
  }
  if (type == "join_contest_room") {
    auto id = contest_id(x);
    if (!id)
      return;
    if (st.rooms[*id].insert(x.c.id).second) {
      st.joined[x.c.id].insert(*id);
      announce(self, *id, x.c.id); // the joiner's count is its answer
    }
    x.answer("spectator_count", count_json(*id, spectators(self, *id)));
    auto it = st.contests.find(*id);
    if (it != st.contests.end() && !it->second.state_json.empty())
      st.clients->answer(self, x.c, "contest_state", it->second.state_json,
                         std::nullopt);
    return;
  }
  if (type == "leave_contest_room") {
    auto id = contest_id(x);
    if (!id)
      return;
    st.joined[x.c.id].erase(*id);
    leave(self, x.c.id, *id);
    return x.answer("spectator_count", count_json(*id, spectators(self, *id)));
  }
  if (type == "get_participant_status") {
    if (!identified(x))
      return;
    auto id = contest_id(x);
    if (!id)
      return;
    auto user = x.req.string_field("user_id").value_or(x.c.who->sub);
    if (user != x.c.who->sub && !x.c.who->has_role("admin"))
      return x.refuse(codes::permission_denied,
                      "only an admin may ask for another user's status");
    auto it = st.contests.find(*id);
    if (it != st.contests.end()) {
      auto p = it->second.participants.find(user);
      if (p != it->second.participants.end())
        return x.answer("participant_update", p->second);
    }
    return x.refuse(codes::not_found,
                    "no status of '" + user + "' in contest '" + *id + "'");
  }
  if (type == "send_chat_message") {
    if (!identified(x))
      return;
    auto id = contest_id(x);
    if (!id)
      return;
    auto* message = x.req.field("message");
    if (message == nullptr || !message->IsString()
        || message->GetStringLength() == 0)
      return x.refuse(codes::invalid_message,
                      "message must be a non-empty string");
    if (message->GetStringLength() > st.cfg.max_chat_bytes)
      return x.refuse(codes::limit_exceeded,
                      "message is over " + std::to_string(st.cfg.max_chat_bytes)
                          + " bytes");
    auto room = st.rooms.find(*id);
    if (room == st.rooms.end() || !room->second.count(x.c.id))
      return x.refuse(codes::permission_denied,
                      "join the contest room before chatting in it");
    if (!st.limit->allow(x.c.who->sub, now_us())) {
      emit_rate_limited(self, st.clients->host(), x.c, *st.limit);
      return x.refuse(codes::rate_limited,
                      "more than " + std::to_string(st.limit->limit())
                          + " messages in "
                          + std::to_string(st.limit->window_ms()) + " ms");
    }
    std::string text{message->GetString(), message->GetStringLength()};
    return publish(self, "contest:chat:" + *id, "contest.chat",
                   "{\"contest_id\":" + json_string(*id)
                       + ",\"message_id\":" + json_string(make_message_id())
                       + ",\"user_id\":" + json_string(x.c.who->sub)
                       + ",\"message\":" + json_string(text) + ",\"sent_at\":"
                       + json_string(iso8601(now_us())) + "}");
  }
  if (type == "set_admin_presence") {
    if (!identified(x))
      return;
    if (!x.c.who->has_role("admin"))
      return x.refuse(codes::permission_denied,
                      "set_admin_presence needs the admin role");
    auto id = contest_id(x);
    if (!id)
      return;
    auto* present = x.req.field("present");
    if (present != nullptr && !present->IsBool())
      return x.refuse(codes::invalid_message, "present must be a boolean");
    bool on = present == nullptr || present->GetBool();
    return publish(self, "contest:admin:" + *id, "contest.admin_presence",
                   "{\"contest_id\":" + json_string(*id)
                       + ",\"user_id\":" + json_string(x.c.who->sub)
                       + ",\"present\":" + (on ? "true" : "false") + "}");
  }
  x.refuse(codes::invalid_message,
           "unknown message type '" + type
               + "' (get_contest_state, get_participant_status, "
                 "get_leaderboard, send_chat_message, join_contest_room, "
                 "leave_contest_room, set_admin_presence, get_all_contests)");
}

void tick(self_ptr self) {
  auto& st = self->state;
  for (auto& [id, members] : st.rooms)
    if (!members.empty())
      announce(self, id);
  // Drop other nodes' counts gone stale (a node that died or left).
  auto stale = int64_t{st.cfg.presence_refresh_ms} * 3000;
  auto now = now_us();
  std::vector<std::string> changed;
  for (auto& [id, nodes] : st.presence)
    for (auto it = nodes.begin(); it != nodes.end();)
      if (it->first != node_name(self) && now - it->second.seen_us >= stale) {
        it = nodes.erase(it);
        changed.push_back(id);
      } else {
        ++it;
      }
  for (auto& id : changed)
    show_count(self, id);
  self->delayed_send(self,
                     std::chrono::milliseconds{st.cfg.presence_refresh_ms},
                     tick_atom::value);
}

contest_actor::behavior_type channel(self_ptr self, sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const contest_config>(h.config);
  st.limit.emplace(st.cfg.chat_rate_messages, st.cfg.chat_rate_window_ms);
  self->send(h.node, sdk::subscribe_atom::value, std::string{"contest:*:*"},
             caf::actor_cast<sdk::listener_actor>(self));
  st.clients.emplace(std::move(h));
  self->delayed_send(self,
                     std::chrono::milliseconds{st.cfg.presence_refresh_ms},
                     tick_atom::value);
  return {
      [=](sdk::open_atom, sdk::client& c) {
        self->state.clients->add(std::move(c));
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
        handle(ctx{self, *c, *req});
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.joined.find(id);
        if (it != st.joined.end()) {
          auto rooms = std::move(it->second);
          st.joined.erase(it);
          for (auto& r : rooms)
            leave(self, id, r);
        }
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
      [=](tick_atom) { tick(self); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "contest";
  d.endpoints = {{"contest", false}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::contest

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::contest::make_descriptor();
  return &d;
}
