// The chat plugin (docs/endpoints.md "chat", docs/chat-events.md):
// /api/v69/ws/chat, identity required. Personal messages to a user or a
// party reach every session of every member on any node: the sender's
// node publishes one event per member on `chat:user:<id>`, which each
// node's channel subscribes for the users connected to it. Parties come
// from backends on `chat:party:<party_id>` and are stored.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <set>

namespace herald::plugins::chat {

namespace {

constexpr const char* parties = "chat.parties"; // the store collection

struct chat_config {
  uint32_t max_message_bytes = 4096;
  uint32_t rate_messages = 10;
  uint32_t rate_window_ms = 10000;
  uint32_t max_party_members = 1000;
};

sdk::config_result parse_config(const std::string& json) {
  std::map<std::string, uint64_t> v;
  auto why = parse_uint_config(json,
                               {{"max_message_bytes", {1, 1 << 20}},
                                {"rate_messages", {1, 100000}},
                                {"rate_window_ms", {1, 3600000}},
                                {"max_party_members", {1, 100000}}},
                               v);
  if (!why.empty())
    return why;
  auto cfg = std::make_shared<chat_config>();
  auto take = [&](const char* k, uint32_t& into) {
    if (v.count(k))
      into = static_cast<uint32_t>(v[k]);
  };
  take("max_message_bytes", cfg->max_message_bytes);
  take("rate_messages", cfg->rate_messages);
  take("rate_window_ms", cfg->rate_window_ms);
  take("max_party_members", cfg->max_party_members);
  return std::shared_ptr<const void>{std::move(cfg)};
}

// A user or party id usable as a topic segment (PROTOCOL §2).
bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 128)
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
          || c == '@' || c == '-'))
      return false;
  return true;
}

struct chat_state {
  static inline const char* name = "herald.plugin.chat";
  std::optional<client_table> clients;
  chat_config cfg;
  std::optional<rate_window> limit;
  std::map<std::string, std::set<uint64_t>> sessions;      ///< by user
  std::map<std::string, std::vector<std::string>> parties; ///< by party id
};

using self_ptr = sdk::listening_channel_actor::stateful_pointer<chat_state>;

sdk::listener_actor me(self_ptr self) {
  return caf::actor_cast<sdk::listener_actor>(self);
}

std::string members_json(const std::vector<std::string>& members) {
  std::vector<std::string> quoted;
  for (auto& m : members)
    quoted.push_back(json_string(m));
  return json_array(quoted);
}

// Parties: from a backend's event or from the store.
void set_party(self_ptr self, const std::string& id,
               std::vector<std::string> members) {
  auto& st = self->state;
  if (members.empty())
    st.parties.erase(id);
  else
    st.parties[id] = std::move(members);
}

std::optional<std::vector<std::string>> parse_members(const std::string& json,
                                                      size_t max) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  const rapidjson::Value* arr = nullptr;
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("members");
    if (it != doc.MemberEnd())
      arr = &it->value;
  } else if (!doc.HasParseError() && doc.IsArray()) {
    arr = &doc;
  }
  if (arr == nullptr || !arr->IsArray() || arr->Size() > max)
    return std::nullopt;
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (auto& m : arr->GetArray()) {
    if (!m.IsString() || !valid_id({m.GetString(), m.GetStringLength()}))
      return std::nullopt;
    std::string id{m.GetString(), m.GetStringLength()};
    if (seen.insert(id).second)
      out.push_back(std::move(id));
  }
  return out;
}

void on_party_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  // chat:party:<party_id>
  auto id = ev.topic.substr(std::string_view{"chat:party:"}.size());
  auto members = parse_members(ev.data_json, st.cfg.max_party_members);
  if (!valid_id(id) || !members)
    return; // not a membership list: nothing to keep
  set_party(self, id, *members);
  // Stored by every node that hears it: the same record, so a shared
  // PostgreSQL keeps one and SQLite keeps each node's own.
  sdk::record r;
  r.key = id;
  r.value_json = members_json(*members);
  self->request(st.clients->host().store, caf::infinite, sdk::put_atom::value,
                std::string{parties}, std::move(r))
      .then([](const sdk::record&) {}, [](caf::error&) {});
}

void on_personal_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  // chat:user:<user_id>
  auto user = ev.topic.substr(std::string_view{"chat:user:"}.size());
  auto it = st.sessions.find(user);
  if (it == st.sessions.end())
    return;
  auto f = st.clients->host().make_frame("personal_message", ev.data_json,
                                         std::nullopt);
  for (auto id : it->second)
    if (auto* c = st.clients->find(id))
      st.clients->push(self, *c, f);
}

void send_message(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto refuse = [&](std::string_view code, std::string message) {
    st.clients->refuse(self, c, "error", code, message, req.type, req.id);
  };
  auto type = req.string_field("target_type");
  auto target = req.string_field("target_id");
  auto* payload = req.field("payload");
  if (!type || (*type != "user" && *type != "party"))
    return refuse(codes::invalid_message,
                  "target_type must be \"user\" or \"party\"");
  if (!target || !valid_id(*target))
    return refuse(codes::invalid_message,
                  "target_id must be 1-128 characters of [A-Za-z0-9_.@-]");
  if (payload == nullptr || !payload->IsString())
    return refuse(codes::invalid_message, "payload must be a string");
  if (payload->GetStringLength() > st.cfg.max_message_bytes)
    return refuse(codes::limit_exceeded,
                  "payload is over " + std::to_string(st.cfg.max_message_bytes)
                      + " bytes");
  auto& sender = c.who->sub;
  if (!valid_id(sender))
    return refuse(codes::invalid_message,
                  "your user id cannot receive chat (not a topic segment)");
  std::vector<std::string> members;
  if (*type == "party") {
    auto it = st.parties.find(*target);
    if (it == st.parties.end())
      return refuse(codes::not_found, "no party '" + *target + "'");
    if (std::find(it->second.begin(), it->second.end(), sender)
        == it->second.end())
      return refuse(codes::permission_denied,
                    "you are not a member of party '" + *target + "'");
    members = it->second;
  } else {
    members = {*target};
    if (*target != sender)
      members.push_back(sender);
  }
  if (!st.limit->allow(sender, now_us())) {
    emit_rate_limited(self, st.clients->host(), c, *st.limit);
    return refuse(codes::rate_limited,
                  "more than " + std::to_string(st.limit->limit())
                      + " messages in " + std::to_string(st.limit->window_ms())
                      + " ms");
  }
  auto message_id = req.string_field("message_id");
  std::string mid;
  if (message_id && valid_id(*message_id))
    mid = *message_id;
  else
    mid = make_message_id();
  std::string text{payload->GetString(), payload->GetStringLength()};
  auto members_text = members_json(members);
  auto message = "{\"message_id\":" + json_string(mid)
                 + ",\"sender_id\":" + json_string(sender) + ",\"target_id\":"
                 + json_string(*target) + ",\"target_type\":"
                 + json_string(*type) + ",\"target_members\":" + members_text
                 + ",\"payload\":" + json_string(text)
                 + ",\"sent_at\":" + json_string(iso8601(now_us())) + "}";
  auto& h = st.clients->host();
  for (auto& m : members)
    self->request(h.node, caf::infinite, sdk::publish_atom::value,
                  "chat:user:" + m, std::string{"chat.personal"}, message)
        .then([](const std::string&) {}, [](caf::error&) {});
  sdk::chat_event ev;
  ev.name = "personalChatSent";
  ev.user_id = sender;
  ev.session_id = c.session_id;
  if (auto trace = req.string_field("trace_id"))
    ev.trace_id = *trace;
  ev.client_id = client_id_of(c);
  ev.payload_json = "{\"message_id\":" + json_string(mid) + ",\"sender_id\":"
                    + json_string(sender) + ",\"target_id\":"
                    + json_string(*target) + ",\"payload\":" + json_string(text)
                    + ",\"target_type\":" + json_string(*type)
                    + ",\"target_members\":" + members_text + "}";
  self->send(h.node, sdk::chat_atom::value, std::move(ev));
  st.clients->answer(self, c, "message_sent",
                     "{\"message_id\":" + json_string(mid)
                         + ",\"target_id\":" + json_string(*target)
                         + ",\"target_type\":" + json_string(*type)
                         + ",\"target_members\":" + members_text + "}",
                     req.id);
}

void get_parties(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  std::vector<std::string> out;
  for (auto& [id, members] : st.parties)
    if (std::find(members.begin(), members.end(), c.who->sub) != members.end())
      out.push_back("{\"party_id\":" + json_string(id)
                    + ",\"members\":" + members_json(members) + "}");
  st.clients->answer(self, c, "parties",
                     "{\"parties\":" + json_array(out) + "}", req.id);
}

// Loads the stored parties, newest first, page by page.
void load_parties(self_ptr self, uint64_t before) {
  auto& st = self->state;
  sdk::record_query q;
  q.before_seq = before;
  q.limit = 1000;
  self->request(st.clients->host().store, caf::infinite, sdk::list_atom::value,
                std::string{parties}, q)
      .then(
          [=](const std::vector<sdk::record>& page) {
            auto& st = self->state;
            for (auto& r : page)
              if (!st.parties.count(r.key)) // a live event is newer
                if (auto m =
                        parse_members(r.value_json, st.cfg.max_party_members))
                  set_party(self, r.key, *m);
            if (page.size() == 1000)
              load_parties(self, page.back().seq);
          },
          [](caf::error&) {});
}

sdk::listening_channel_actor::behavior_type channel(self_ptr self,
                                                    sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const chat_config>(h.config);
  st.limit.emplace(st.cfg.rate_messages, st.cfg.rate_window_ms);
  self->send(h.node, sdk::subscribe_atom::value, std::string{"chat:party:*"},
             me(self));
  st.clients.emplace(std::move(h));
  load_parties(self, 0);
  return {
      [=](sdk::open_atom, sdk::client& c) {
        auto& st = self->state;
        auto& user = c.who->sub;
        if (valid_id(user)) {
          auto& mine = st.sessions[user];
          if (mine.empty())
            self->send(st.clients->host().node, sdk::subscribe_atom::value,
                       "chat:user:" + user, me(self));
          mine.insert(c.id);
        }
        st.clients->add(std::move(c));
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
        if (req->type == "send_message")
          send_message(self, *c, *req);
        else if (req->type == "get_parties")
          get_parties(self, *c, *req);
        else
          st.clients->refuse(self, *c, "error", codes::invalid_message,
                             "unknown message type '" + req->type
                                 + "' (send_message, get_parties)",
                             req->type, req->id);
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        if (auto* c = st.clients->find(id)) {
          auto it = st.sessions.find(c->who->sub);
          if (it != st.sessions.end()) {
            it->second.erase(id);
            if (it->second.empty()) {
              self->send(st.clients->host().node, sdk::unsubscribe_atom::value,
                         "chat:user:" + it->first, me(self));
              st.sessions.erase(it);
            }
          }
        }
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) {
        if (ev->topic.rfind("chat:user:", 0) == 0)
          on_personal_event(self, *ev);
        else if (ev->topic.rfind("chat:party:", 0) == 0)
          on_party_event(self, *ev);
      },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "chat";
  d.endpoints = {{"chat", true}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::chat

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::chat::make_descriptor();
  return &d;
}
