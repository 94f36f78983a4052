#include "config/schema_builders.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::config::detail {

namespace {

// plugins.load: [{"path": "...", "name": "...", "config": {...}}, ...]
std::string parse_plugin_list(const std::string& json, settings& cfg) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray())
    return "must be an array of {path, name, config}";
  std::vector<plugin_entry> out;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    auto at = "[" + std::to_string(i) + "]";
    auto& v = doc[i];
    if (!v.IsObject())
      return at + ": must be an object {path, name, config}";
    plugin_entry e;
    e.config_json = "{}";
    for (auto& m : v.GetObject()) {
      std::string key{m.name.GetString(), m.name.GetStringLength()};
      if (key == "path" || key == "name") {
        if (!m.value.IsString() || m.value.GetStringLength() == 0)
          return at + "." + key + ": must be a non-empty string";
        std::string s{m.value.GetString(), m.value.GetStringLength()};
        (key == "path" ? e.path : e.name) = std::move(s);
      } else if (key == "config") {
        if (!m.value.IsObject())
          return at + ".config: must be an object";
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w{buf};
        m.value.Accept(w);
        e.config_json.assign(buf.GetString(), buf.GetSize());
      } else {
        return at + "." + key + ": unknown key (path, name, config)";
      }
    }
    if (e.path.empty())
      return at + ".path: required";
    out.push_back(std::move(e));
  }
  cfg.plugins.load = std::move(out);
  return {};
}

} // namespace

void add_plugin_keys(std::vector<key_spec>& t) {
  t.push_back(str(
      "plugins.dir", [](settings& s) -> field { return &s.plugins.dir; },
      "Where a plugin path without a slash is looked for. Empty: "
      "<dir of heraldd>/plugins, then <dir of heraldd>/../lib/herald/plugins "
      "(docs/plugins.md)."));
  {
    key_spec k = str(
        "plugins.load", [](settings& s) -> field { return &s.plugins.load; },
        "Channel plugins to load at start, in order (docs/plugins.md): "
        "[{\"path\":\"libmy_channel.so\",\"name\":\"my-channel\","
        "\"config\":{...}}]. `name`, when given, must be the plugin's own; "
        "`config` is handed to the plugin's parser once. A plugin that does "
        "not load, speaks another ABI, repeats a name or an endpoint, or "
        "refuses its config stops the node at start. [] loads none.");
    k.type = kind::object;
    k.type_note = "array of {path, name, config}";
    k.default_note = "the stock plugins: market (market-data, token-data), "
                     "system-settings, notifications";
    k.parse_json = parse_plugin_list;
    t.push_back(std::move(k));
  }
  t.push_back(choice(
      "store.kind", [](settings& s) -> field { return &s.store.kind; },
      {"sqlite", "postgres"},
      "The store plugins keep state in (docs/stores.md): an embedded SQLite "
      "file, or PostgreSQL for a cluster whose nodes share it."));
  t.push_back(str(
      "store.sqlite.path",
      [](settings& s) -> field { return &s.store.sqlite_path; },
      "The SQLite database file (created when missing; WAL mode, synced on "
      "every commit). Relative to the working directory."));
  t.push_back(secret(
      str(
          "store.postgres.url",
          [](settings& s) -> field { return &s.store.postgres_url; },
          "libpq connection string for store.kind postgres, e.g. "
          "postgresql://herald:secret@db:5432/herald or \"host=/run/postgresql "
          "dbname=herald\"."),
      "\"\""));
  t.push_back(integer(
      "store.connect_timeout_ms",
      [](settings& s) -> field { return &s.store.connect_timeout_ms; }, 100,
      600000,
      "How long the node waits for its store at start (and for each "
      "reconnect) before it gives up."));
}

} // namespace herald::config::detail
