#include "config/schema.hpp"
#include "config/schema_builders.hpp"

#include "protocol/sse.hpp"

#include "config/loader.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace herald::config::detail {

namespace {

std::vector<key_spec> make_table() {
  std::vector<key_spec> t;
  t.push_back(str(
      "node.name", [](settings& s) -> field { return &s.node_name; },
      "Name of this node in logs, positions and the cluster.",
      check_node_name));
  t.push_back(str(
      "listen.address", [](settings& s) -> field { return &s.listen.address; },
      "Address the HTTP/WebSocket listener binds to (IP address or host name).",
      check_address));
  t.push_back(integer(
      "listen.port", [](settings& s) -> field { return &s.listen.port; }, 0,
      65535, "TCP port of the listener; 0 picks any free port."));
  {
    key_spec k = str(
        "listen.allowed_origins",
        [](settings& s) -> field { return &s.listen.allowed_origins; },
        "Origins (`https://app.example.com`) whose browser pages may open "
        "the WebSocket endpoints and the SSE stream; another Origin is "
        "refused with 403 before any token is looked at. A request without "
        "an Origin header (a backend, a script) is let through. Empty: any "
        "origin (docs/limits.md).",
        check_origin);
    k.type = kind::string_list;
    t.push_back(std::move(k));
  }
  add_tls_keys(t);
  t.push_back(integer(
      "threads.io", [](settings& s) -> field { return &s.threads.io; }, 1, 64,
      "Threads running the sockets (Asio io_context)."));
  t.push_back(integer(
      "threads.actors", [](settings& s) -> field { return &s.threads.actors; },
      1, 64, "CAF scheduler worker threads running the actors."));
  t.push_back(choice(
      "threads.scheduler",
      [](settings& s) -> field { return &s.threads.scheduler; },
      {"sharing", "stealing"},
      "CAF scheduler policy. sharing: one queue, idle workers wake as soon "
      "as work arrives; stealing: per-worker queues, idle workers poll and "
      "back off into sleeps of up to 10 ms (CAF 0.17), which adds latency "
      "at every hand-off between actors and sockets."));
  t.push_back(secret(
      str(
          "auth.jwt.hs256_secret",
          [](settings& s) -> field { return &s.auth.jwt.hs256_secret; },
          "Shared secret for HS256 tokens; empty disables HS256. With a "
          "configuration file, this or auth.jwt.rs256_public_key_file is "
          "required."),
      std::string_view{"\"\" (development: \"herald-dev-secret-change-me\")"}));
  t.push_back(str(
      "auth.jwt.rs256_public_key_file",
      [](settings& s) -> field { return &s.auth.rs256_public_key_file; },
      "PEM file holding the RSA public key for RS256 tokens, read at start "
      "(a relative path is taken from the working directory); empty disables "
      "RS256."));
  t.push_back(str(
      "auth.jwt.issuer",
      [](settings& s) -> field { return &s.auth.jwt.issuer; },
      "Required `iss` claim of tokens; empty: not checked."));
  t.push_back(str(
      "auth.jwt.audience",
      [](settings& s) -> field { return &s.auth.jwt.audience; },
      "Required `aud` claim of tokens; empty: not checked."));
  t.push_back(integer(
      "auth.jwt.leeway_seconds",
      [](settings& s) -> field { return &s.auth.jwt.leeway_seconds; }, 0, 3600,
      "Clock leeway, in seconds, applied to the `exp` and `nbf` claims."));
  {
    key_spec k = secret(
        str(
            "auth.api_keys",
            [](settings& s) -> field { return &s.auth.api_keys; },
            "API keys accepted by the publish API (`Authorization: Bearer "
            "<key>`). With a configuration file, at least one is required.",
            check_token),
        "[] (development: [\"dev-api-key\"])");
    k.type = kind::string_list;
    t.push_back(std::move(k));
  }
  {
    key_spec k = str(
        "permissions", [](settings& s) -> field { return &s.permissions; },
        "Topic permission rules checked at subscribe time: "
        "{\"resource_types\":[...],\"rules\":[{\"scope\":...,\"all_of\":[...]}]"
        "}"
        ". Each of resource_types and rules, when given, replaces its default "
        "as a whole.");
    k.type = kind::object;
    k.default_note = "the rules of PROTOCOL section 3, written out in "
                     "config/herald.example.jsonc";
    t.push_back(std::move(k));
  }
  add_limit_keys(t);
  t.push_back(integer(
      "ws.ping_interval_ms",
      [](settings& s) -> field { return &s.ws.ping_interval_ms; }, 1, u32_max,
      "Milliseconds between server pings; must be less than "
      "ws.pong_timeout_ms."));
  t.push_back(integer(
      "ws.pong_timeout_ms",
      [](settings& s) -> field { return &s.ws.pong_timeout_ms; }, 1, u32_max,
      "A connection that has not answered a ping within this many "
      "milliseconds is closed."));
  t.push_back(integer(
      "ws.close_timeout_ms",
      [](settings& s) -> field { return &s.ws.close_timeout_ms; }, 1, u32_max,
      "Milliseconds a closing handshake may take before the socket is "
      "dropped."));
  t.push_back(integer(
      "dedup.window_seconds",
      [](settings& s) -> field { return &s.dedup.window_seconds; }, 1, u32_max,
      "Seconds a publish id is remembered, so a retry is not delivered "
      "twice."));
  t.push_back(integer(
      "dedup.max_entries",
      [](settings& s) -> field { return &s.dedup.max_entries; }, 1, u32_max,
      "Most publish ids remembered at once."));
  t.push_back(boolean(
      "metrics.actor_counters",
      [](settings& s) -> field { return &s.actor_counters; },
      "Keep per-actor counters (messages handled, deliveries, sampled "
      "mailbox depth) for the control console; costs a few percent of "
      "fan-out throughput (see bench/)."));
  t.push_back(integer(
      "history.max_events",
      [](settings& s) -> field { return &s.history.max_events; }, 1, u32_max,
      "Events kept for replay (`since`, Last-Event-ID) of topics no "
      "history.rules pattern matches, and of broadcast-only events."));
  t.push_back(integer(
      "history.max_age_seconds",
      [](settings& s) -> field { return &s.history.max_age_seconds; }, 1,
      u32_max, "Seconds such an event is kept for replay."));
  t.push_back(integer(
      "history.max_bytes",
      [](settings& s) -> field { return &s.history.max_bytes; }, 1,
      uint64_t{1} << 40,
      "Bytes all kept events may take together; past it the oldest go "
      "first, whatever their rule."));
  t.push_back(integer(
      "history.max_replay_events",
      [](settings& s) -> field { return &s.history.max_replay_events; }, 1,
      u32_max,
      "Most events one replay sends; a longer gap is answered "
      "\"recovered\":false."));
  {
    key_spec k = str(
        "history.rules", [](settings& s) -> field { return &s.history.rules; },
        "Retention per topic pattern, first match wins: "
        "[{\"pattern\":\"customer_id:*:call:>\",\"max_events\":50000,"
        "\"max_age_seconds\":600}]. Other topics use history.max_events "
        "and history.max_age_seconds.");
    k.type = kind::object;
    k.type_note = "array of {pattern, max_events, max_age_seconds}";
    k.default_note = "[]";
    k.parse_json = [](const std::string& json, settings& cfg) {
      return protocol::parse_history_rules(json, cfg.history.rules);
    };
    t.push_back(std::move(k));
  }
  t.push_back(integer(
      "sse.heartbeat_ms",
      [](settings& s) -> field { return &s.sse.heartbeat_ms; }, 1, u32_max,
      "Milliseconds between `:heartbeat` comments on SSE streams."));
  {
    key_spec k = str(
        "sse.broadcast_event_types",
        [](settings& s) -> field { return &s.sse.broadcast_event_types; },
        "event_type patterns (`sales.*`, `*` one dot-separated part) "
        "whose events go to the SSE bridge even when published without "
        "`broadcast: true`.",
        check_event_type_pattern);
    k.type = kind::string_list;
    t.push_back(std::move(k));
  }
  {
    key_spec k = str(
        "schemas.bindings",
        [](settings& s) -> field { return &s.schemas.bindings; },
        "JSON Schema files that publishes must satisfy (docs/schemas.md): "
        "[{\"topic\":\"customer_id:*:notification:>\",\"file\":"
        "\"schemas/websocket-event.schema.json\",\"validates\":"
        "\"envelope\"}]. Each binding names an event_type pattern (`*` one "
        "dot-separated part) or a topic pattern, not both; `validates` is "
        "\"data\" (the event's data, the default) or \"envelope\" (the "
        "envelope frame). A relative file is taken from the configuration "
        "file's directory (the working directory without one). Every file "
        "is read and compiled at start; a publish breaking a schema that "
        "applies to it is refused with 422 SCHEMA_VIOLATION.");
    k.type = kind::object;
    k.type_note = "array of {event_type | topic, file, validates}";
    k.default_note = "[]";
    k.parse_json = [](const std::string& json, settings& cfg) {
      return protocol::parse_schema_bindings(json, cfg.schemas.bindings);
    };
    t.push_back(std::move(k));
  }
  add_cluster_keys(t);
  add_service_keys(t);
  add_supervision_keys(t);
  add_plugin_keys(t);
  add_chat_event_keys(t);
  add_admin_keys(t);
  t.push_back(choice(
      "log.level", [](settings& s) -> field { return &s.log.level; },
      {"trace", "debug", "info", "warn", "error", "off"},
      "Lowest level logged."));
  t.push_back(choice(
      "log.format", [](settings& s) -> field { return &s.log.format; },
      {"text", "json"},
      "text: one readable line per entry; json: one JSON object per line."));
  t.push_back(integer(
      "shutdown.grace_ms",
      [](settings& s) -> field { return &s.shutdown_grace_ms; }, 0, u32_max,
      "On SIGTERM or SIGINT, milliseconds connections get to close before the "
      "node exits."));
  return t;
}

std::string format_real(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", x);
  return buf;
}

std::string join(const std::vector<std::string_view>& xs) {
  std::string out;
  for (auto x : xs) {
    if (!out.empty())
      out += '|';
    out += x;
  }
  return out;
}

std::string json_string(const std::string& s) {
  rapidjson::Value v(rapidjson::StringRef(s.data(), s.size()));
  return render(v, std::string::npos);
}

// Turns `rules[1].all_of[0]: problem` into
// `permissions.rules[1].all_of[0]: problem`; a message without a path goes
// after `permissions: `.
std::string permissions_error(const std::string& err) {
  auto colon = err.find(": ");
  if (colon != std::string::npos && colon > 0 && err.find(' ') == colon + 1) {
    auto path = err.substr(0, colon);
    auto sep = path.front() == '[' ? "" : ".";
    return "permissions" + std::string(sep) + path + err.substr(colon);
  }
  return "permissions: " + err;
}

} // namespace

const std::vector<key_spec>& keys() {
  static const std::vector<key_spec> table = make_table();
  return table;
}

const key_spec* find_key(std::string_view name) {
  for (auto& k : keys())
    if (k.name == name)
      return &k;
  return nullptr;
}

bool is_key_prefix(std::string_view prefix) {
  for (auto& k : keys())
    if (k.name.size() > prefix.size()
        && k.name.substr(0, prefix.size()) == prefix
        && k.name[prefix.size()] == '.')
      return true;
  return false;
}

std::string env_name(std::string_view key) {
  std::string out = "HERALD_";
  for (char c : key)
    out += c == '.'
               ? '_'
               : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string type_name(const key_spec& spec) {
  if (!spec.type_note.empty())
    return std::string(spec.type_note);
  switch (spec.type) {
  case kind::string:
    return "string";
  case kind::choice:
    return "one of " + join(spec.choices);
  case kind::integer:
    return "integer " + std::to_string(spec.min) + ".."
           + std::to_string(spec.max);
  case kind::real:
    return std::string("number ") + (spec.real_min_exclusive ? "> " : ">= ")
           + format_real(spec.real_min) + ", <= " + format_real(spec.real_max);
  case kind::boolean:
    return "true or false";
  case kind::string_list:
    return "array of strings";
  case kind::object:
    return "object";
  }
  return {};
}

std::string default_text(const key_spec& spec) {
  if (!spec.default_note.empty())
    return std::string(spec.default_note);
  settings defaults;
  auto f = spec.locate(defaults);
  if (auto s = std::get_if<std::string*>(&f))
    return json_string(**s);
  if (auto d = std::get_if<double*>(&f))
    return format_real(**d);
  if (auto b = std::get_if<bool*>(&f))
    return **b ? "true" : "false";
  if (auto v = std::get_if<std::vector<std::string>*>(&f)) {
    std::string out = "[";
    for (auto& x : **v)
      out += (out.size() > 1 ? "," : "") + json_string(x);
    return out + "]";
  }
  std::string out;
  std::visit(
      [&out](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_integral_v<T>)
          out = std::to_string(*p);
      },
      f);
  return out;
}

std::string render(const rapidjson::Value& value, size_t max_len) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  value.Accept(w);
  std::string out(buf.GetString(), buf.GetSize());
  if (out.size() > max_len) {
    size_t cut = max_len;
    // Never split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
      --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string apply(const key_spec& spec, const rapidjson::Value& value,
                  settings& cfg) {
  const std::string name(spec.name);
  auto got = [&](const rapidjson::Value& v) {
    return spec.secret ? std::string{} : ", got " + render(v);
  };
  auto fail = [&](const std::string& problem) { return name + ": " + problem; };
  auto target = spec.locate(cfg);
  switch (spec.type) {
  case kind::string:
  case kind::choice: {
    if (!value.IsString())
      return fail("must be a string" + got(value));
    std::string s(value.GetString(), value.GetStringLength());
    if (spec.type == kind::choice) {
      bool found = false;
      for (auto c : spec.choices)
        found = found || c == s;
      if (!found)
        return fail("must be one of " + join(spec.choices) + got(value));
    }
    if (spec.check)
      if (auto problem = spec.check(s); !problem.empty())
        return fail(problem + got(value));
    *std::get<std::string*>(target) = std::move(s);
    return {};
  }
  case kind::integer: {
    if (!value.IsUint64() || value.GetUint64() < spec.min
        || value.GetUint64() > spec.max)
      return fail("must be an integer in " + std::to_string(spec.min) + ".."
                  + std::to_string(spec.max) + got(value));
    auto n = value.GetUint64();
    std::visit(
        [n](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
            *p = static_cast<T>(n);
        },
        target);
    return {};
  }
  case kind::real: {
    bool ok = value.IsNumber();
    double x = ok ? value.GetDouble() : 0;
    ok = ok && x <= spec.real_max
         && (spec.real_min_exclusive ? x > spec.real_min : x >= spec.real_min);
    if (!ok)
      return fail("must be a " + type_name(spec) + got(value));
    *std::get<double*>(target) = x;
    return {};
  }
  case kind::boolean: {
    if (!value.IsBool())
      return fail("must be true or false" + got(value));
    *std::get<bool*>(target) = value.GetBool();
    return {};
  }
  case kind::string_list: {
    if (!value.IsArray())
      return fail("must be an array of strings" + got(value));
    std::vector<std::string> out;
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      auto& item = value[i];
      auto at = name + "[" + std::to_string(i) + "]: ";
      if (!item.IsString())
        return at + "must be a string" + got(item);
      std::string s(item.GetString(), item.GetStringLength());
      if (spec.check)
        if (auto problem = spec.check(s); !problem.empty())
          return at + problem + got(item);
      out.push_back(std::move(s));
    }
    *std::get<std::vector<std::string>*>(target) = std::move(out);
    return {};
  }
  case kind::object: {
    if (spec.parse_json != nullptr) {
      auto problem = spec.parse_json(render(value, std::string::npos), cfg);
      if (problem.empty())
        return {};
      return name + (problem.front() == '[' ? "" : ": ") + problem;
    }
    if (!value.IsObject())
      return fail("must be an object" + got(value));
    auto parsed =
        protocol::permission_rules::from_json(render(value, std::string::npos));
    if (auto err = std::get_if<std::string>(&parsed))
      return permissions_error(*err);
    *std::get<protocol::permission_rules*>(target) =
        std::move(std::get<protocol::permission_rules>(parsed));
    return {};
  }
  }
  return fail("unsupported key type");
}

} // namespace herald::config::detail
