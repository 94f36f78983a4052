// The system-settings plugin (docs/endpoints.md): /api/v69/ws/system-settings,
// identity required. Settings are stored (collection `system-settings`, one
// record per key, its category as the record's group); reading is for
// every client, update_setting for admins. An update is published on the
// topic `system-settings:update`, and every node's channel pushes it as
// setting_update to its clients subscribed to the key or its category.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <set>

namespace herald::plugins::settings {

namespace {

constexpr const char* collection = "system-settings";
constexpr const char* update_topic = "system-settings:update";
constexpr size_t max_value_bytes = 16 * 1024;

struct setting_default {
  std::string key;
  std::string category;
  std::string value_json;
  std::string description;
};

struct settings_config {
  std::vector<setting_default> defaults;
};

sdk::config_result parse_config(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::string{"must be a JSON object"};
  auto cfg = std::make_shared<settings_config>();
  for (auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    if (key != "defaults")
      return "unknown key '" + key + "' (defaults)";
    if (!m.value.IsArray())
      return std::string{"defaults: must be an array of {key, category, "
                         "value, description}"};
    size_t i = 0;
    for (auto& d : m.value.GetArray()) {
      auto at = "defaults[" + std::to_string(i++) + "]";
      if (!d.IsObject())
        return at + ": must be an object";
      setting_default s;
      auto str = [&](const char* k, std::string& out, bool required) {
        auto it = d.FindMember(k);
        if (it == d.MemberEnd())
          return !required;
        if (!it->value.IsString())
          return false;
        out = it->value.GetString();
        return true;
      };
      if (!str("key", s.key, true) || !valid_name(s.key, 128))
        return at + ".key: 1 to 128 characters of [A-Za-z0-9_.-]";
      if (!str("category", s.category, true) || !valid_name(s.category, 64))
        return at + ".category: 1 to 64 characters of [A-Za-z0-9_.-]";
      if (!str("description", s.description, false))
        return at + ".description: must be a string";
      auto v = d.FindMember("value");
      if (v == d.MemberEnd())
        return at + ".value: required";
      s.value_json = to_json(v->value);
      cfg->defaults.push_back(std::move(s));
    }
  }
  return std::shared_ptr<const void>{std::move(cfg)};
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

// The stored and pushed shape of a setting.
std::string setting_json(const std::string& key, const std::string& category,
                         const std::string& value_json,
                         const std::string& description,
                         const std::string& updated_by, int64_t updated_us) {
  return "{\"key\":" + json_string(key)
         + ",\"category\":" + json_string(category) + ",\"value\":" + value_json
         + ",\"description\":" + json_string(description)
         + ",\"updated_by\":" + json_string(updated_by)
         + ",\"updated_at\":" + json_string(iso8601(updated_us)) + "}";
}

struct settings_state {
  static inline const char* name = "herald.plugin.system_settings";
  std::optional<client_table> clients;
  std::map<uint64_t, std::set<std::string>> keys;       ///< subscriptions
  std::map<uint64_t, std::set<std::string>> categories; ///< subscriptions
};

using self_ptr = sdk::listening_channel_actor::stateful_pointer<settings_state>;

const sdk::store_actor& store(self_ptr self) {
  return self->state.clients->host().store;
}

// Answers a store failure as UNAVAILABLE (the store said why in the log).
std::string sorted_settings(std::vector<sdk::record>& rs) {
  std::sort(rs.begin(), rs.end(),
            [](auto& a, auto& b) { return a.key < b.key; });
  std::vector<std::string> items;
  for (auto& r : rs)
    items.push_back(r.value_json);
  return json_array(items);
}

// A required name field; refuses and returns none when bad.
std::optional<std::string> name_field(self_ptr self, const sdk::client& c,
                                      const request& req, const char* key,
                                      size_t max) {
  auto v = req.string_field(key);
  if (!v || !valid_name(*v, max)) {
    self->state.clients->refuse(self, c, "error", codes::invalid_message,
                                std::string{"`"} + key + "` must be 1 to "
                                    + std::to_string(max)
                                    + " characters of [A-Za-z0-9_.-]",
                                req.type, req.id);
    return std::nullopt;
  }
  return v;
}

void get_all(self_ptr self, const sdk::client& c, const request& req) {
  sdk::record_query q;
  q.limit = 1000;
  self->request(store(self), caf::infinite, sdk::list_atom::value,
                std::string{collection}, q)
      .then(
          [=, id = req.id](std::vector<sdk::record>& rs) {
            self->state.clients->answer(
                self, c, "all_settings",
                "{\"settings\":" + sorted_settings(rs) + "}", id);
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the settings store", req.type, req.id));
}

void get_one(self_ptr self, const sdk::client& c, const request& req) {
  auto key = name_field(self, c, req, "key", 128);
  if (!key)
    return;
  self->request(store(self), caf::infinite, sdk::get_atom::value,
                std::string{collection}, *key)
      .then(
          [=, id = req.id, type = req.type](std::vector<sdk::record>& rs) {
            if (rs.empty())
              return self->state.clients->refuse(
                  self, c, "error", codes::not_found,
                  "no setting '" + *key + "'", type, id);
            self->state.clients->answer(self, c, "setting", rs[0].value_json,
                                        id);
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the settings store", req.type, req.id));
}

void get_category(self_ptr self, const sdk::client& c, const request& req) {
  auto cat = name_field(self, c, req, "category", 64);
  if (!cat)
    return;
  sdk::record_query q;
  q.group = *cat;
  q.limit = 1000;
  self->request(store(self), caf::infinite, sdk::list_atom::value,
                std::string{collection}, q)
      .then(
          [=, id = req.id](std::vector<sdk::record>& rs) {
            self->state.clients->answer(self, c, "category_settings",
                                        "{\"category\":" + json_string(*cat)
                                            + ",\"settings\":"
                                            + sorted_settings(rs) + "}",
                                        id);
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the settings store", req.type, req.id));
}

void update(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  if (!c.who->has_role("admin"))
    return st.clients->refuse(self, c, "error", codes::permission_denied,
                              "update_setting needs the admin role", req.type,
                              req.id);
  auto key = name_field(self, c, req, "key", 128);
  if (!key)
    return;
  auto* value = req.field("value");
  if (value == nullptr)
    return st.clients->refuse(self, c, "error", codes::invalid_message,
                              "`value` is required (any JSON value)", req.type,
                              req.id);
  auto value_json = to_json(*value);
  if (value_json.size() > max_value_bytes)
    return st.clients->refuse(self, c, "error", codes::limit_exceeded,
                              "`value` is over 16 KiB of JSON", req.type,
                              req.id);
  std::optional<std::string> category;
  if (req.field("category")) {
    category = name_field(self, c, req, "category", 64);
    if (!category)
      return;
  }
  auto description = req.string_field("description");
  // Read first: the category and description stay unless given.
  self->request(store(self), caf::infinite, sdk::get_atom::value,
                std::string{collection}, *key)
      .then(
          [=, id = req.id, type = req.type](std::vector<sdk::record>& rs) {
            std::string cat = category.value_or("");
            std::string desc = description.value_or("");
            if (!rs.empty()) {
              rapidjson::Document old;
              old.Parse(rs[0].value_json.c_str());
              if (old.IsObject()) {
                if (cat.empty() && old.HasMember("category")
                    && old["category"].IsString())
                  cat = old["category"].GetString();
                if (!description && old.HasMember("description")
                    && old["description"].IsString())
                  desc = old["description"].GetString();
              }
            }
            if (cat.empty())
              cat = "general";
            sdk::record r;
            r.key = *key;
            r.group = cat;
            r.value_json =
                setting_json(*key, cat, value_json, desc, c.who->sub, now_us());
            self->request(store(self), caf::infinite, sdk::put_atom::value,
                          std::string{collection}, r)
                .then(
                    [=](sdk::record& stored) {
                      // Durable now: answer, then tell every node.
                      self->state.clients->answer(self, c, "setting",
                                                  stored.value_json, id);
                      caf::anon_send(
                          self->state.clients->host().node,
                          sdk::publish_atom::value, std::string{update_topic},
                          std::string{"setting.updated"}, stored.value_json);
                    },
                    answer_unavailable(self, *self->state.clients, c,
                                       "the settings store", type, id));
          },
          answer_unavailable(self, *self->state.clients, c,
                             "the settings store", req.type, req.id));
}

void on_frame(self_ptr self, const sdk::client& c, const std::string& text) {
  auto& st = self->state;
  std::string why;
  auto req = parse_request(text, why);
  if (!req)
    return st.clients->refuse(self, c, "error", codes::invalid_message, why, "",
                              {});
  auto& t = req->type;
  auto ack = [&](const char* type, const char* field, const std::string& v) {
    st.clients->answer(
        self, c, type,
        std::string{"{\""} + field + "\":" + json_string(v) + "}", req->id);
  };
  if (t == "get_all_settings")
    get_all(self, c, *req);
  else if (t == "get_setting")
    get_one(self, c, *req);
  else if (t == "get_category_settings")
    get_category(self, c, *req);
  else if (t == "update_setting")
    update(self, c, *req);
  else if (t == "subscribe_setting" || t == "unsubscribe_setting") {
    if (auto key = name_field(self, c, *req, "key", 128)) {
      if (t == "subscribe_setting")
        st.keys[c.id].insert(*key);
      else
        st.keys[c.id].erase(*key);
      ack(t == "subscribe_setting" ? "subscribed" : "unsubscribed", "key",
          *key);
    }
  } else if (t == "subscribe_category" || t == "unsubscribe_category") {
    if (auto cat = name_field(self, c, *req, "category", 64)) {
      if (t == "subscribe_category")
        st.categories[c.id].insert(*cat);
      else
        st.categories[c.id].erase(*cat);
      ack(t == "subscribe_category" ? "subscribed" : "unsubscribed", "category",
          *cat);
    }
  } else {
    st.clients->refuse(self, c, "error", codes::invalid_message,
                       "unknown message type '" + t + "'", t, req->id);
  }
}

// An update from any node: to each client subscribed to its key or
// category, once.
void on_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  rapidjson::Document doc;
  doc.Parse(ev.data_json.c_str());
  if (!doc.IsObject() || !doc.HasMember("key") || !doc["key"].IsString()
      || !doc.HasMember("category") || !doc["category"].IsString())
    return;
  std::string key = doc["key"].GetString();
  std::string cat = doc["category"].GetString();
  sdk::frame f;
  for (auto& [id, c] : st.clients->all()) {
    auto k = st.keys.find(id);
    auto g = st.categories.find(id);
    bool wants = (k != st.keys.end() && k->second.count(key))
                 || (g != st.categories.end() && g->second.count(cat));
    if (!wants)
      continue;
    if (!f)
      f = st.clients->host().make_frame("setting_update", ev.data_json,
                                        std::nullopt);
    st.clients->push(self, c, f);
  }
}

sdk::listening_channel_actor::behavior_type channel(self_ptr self,
                                                    sdk::host h) {
  auto& st = self->state;
  // Seed the defaults the store lacks (a no-op once they exist, on any
  // node sharing the store).
  if (h.config)
    for (auto& d :
         std::static_pointer_cast<const settings_config>(h.config)->defaults) {
      sdk::record r;
      r.key = d.key;
      r.group = d.category;
      r.value_json = setting_json(d.key, d.category, d.value_json,
                                  d.description, "config", now_us());
      caf::anon_send(h.store, sdk::add_atom::value, std::string{collection}, r);
    }
  self->send(h.node, sdk::subscribe_atom::value, std::string{update_topic},
             sdk::listener_actor{self});
  st.clients.emplace(std::move(h));
  return {
      [=](sdk::open_atom, sdk::client& c) {
        self->state.clients->add(std::move(c));
      },
      [=](sdk::frame_atom, uint64_t id, const std::string& text) {
        if (auto* c = self->state.clients->find(id))
          on_frame(self, *c, text);
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        st.keys.erase(id);
        st.categories.erase(id);
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "system-settings";
  d.endpoints = {{"system-settings", true}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::settings

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::settings::make_descriptor();
  return &d;
}
