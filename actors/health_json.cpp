#include "actors/health_json.hpp"

#include <cctype>

#include "protocol/frames.hpp"
#include "protocol/json_util.hpp"

#include <map>

namespace herald::actors {

using protocol::json_writer;
using protocol::write_json_string;

namespace {

void write_time(json_writer& w, int64_t us) {
  if (us <= 0) {
    w.Null();
    return;
  }
  write_json_string(w, protocol::format_iso8601_us(us));
}

void write_service(json_writer& w, const service_status& s) {
  w.StartObject();
  w.Key("service");
  write_json_string(w, s.name);
  w.Key("layer");
  write_json_string(w, s.layer);
  w.Key("kind");
  write_json_string(w, s.kind);
  w.Key("state");
  w.String(protocol::to_string(s.state));
  w.Key("given_up");
  w.Bool(s.given_up);
  w.Key("reason");
  write_json_string(w, s.reason);
  w.Key("changed_at");
  write_time(w, s.changed_us);
  w.Key("last_probe");
  if (s.last) {
    w.StartObject();
    w.Key("ok");
    w.Bool(s.last->ok);
    w.Key("latency_ms");
    w.Uint(s.last->latency_ms);
    w.Key("detail");
    write_json_string(w, s.last->detail);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("probes");
  w.Uint64(s.probes);
  w.Key("failures");
  w.Uint64(s.failures);
  w.Key("times_opened");
  w.Uint64(s.times_opened);
  w.Key("next_attempt_at");
  write_time(w, s.next_attempt_ms > 0 ? s.next_attempt_ms * 1000 : 0);
  w.EndObject();
}

void write_layer(json_writer& w, const layer_summary& l) {
  w.StartObject();
  w.Key("layer");
  write_json_string(w, l.name);
  w.Key("status");
  write_json_string(w, l.status);
  if (!l.node.empty()) {
    w.Key("node");
    write_json_string(w, l.node);
  }
  w.Key("services");
  w.Uint(l.services);
  w.Key("closed");
  w.Uint(l.closed);
  w.Key("half_open");
  w.Uint(l.half_open);
  w.Key("open");
  w.Uint(l.open);
  w.EndObject();
}

void write_error(json_writer& w, const error_entry& e) {
  w.StartObject();
  w.Key("seq");
  w.Uint64(e.seq);
  w.Key("node");
  write_json_string(w, e.node);
  w.Key("at");
  write_time(w, e.at_us);
  w.Key("kind");
  write_json_string(w, e.kind);
  w.Key("source");
  write_json_string(w, e.source);
  w.Key("message");
  write_json_string(w, e.message);
  w.EndObject();
}

template <class Fill>
std::string encode(Fill&& fill) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  fill(w);
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

std::string encode_service(const service_status& s) {
  return encode([&](json_writer& w) { write_service(w, s); });
}

std::string encode_layer(const layer_summary& l) {
  return encode([&](json_writer& w) { write_layer(w, l); });
}

std::string encode_maintenance(const maintenance_state& m) {
  return encode([&](json_writer& w) {
    w.StartObject();
    w.Key("on");
    w.Bool(m.on);
    w.Key("message");
    write_json_string(w, m.message);
    w.Key("expected_end");
    if (m.expected_end.empty())
      w.Null();
    else
      write_json_string(w, m.expected_end);
    w.Key("set_by");
    write_json_string(w, m.set_by);
    w.Key("node");
    write_json_string(w, m.node);
    w.Key("since");
    write_time(w, m.since_us);
    w.EndObject();
  });
}

std::string encode_error_entry(const error_entry& e) {
  return encode([&](json_writer& w) { write_error(w, e); });
}

std::string encode_services_state(const std::vector<service_status>& services,
                                  const std::vector<layer_summary>& layers) {
  return encode([&](json_writer& w) {
    w.StartObject();
    w.Key("services");
    w.StartArray();
    for (auto& s : services)
      write_service(w, s);
    w.EndArray();
    w.Key("layers");
    w.StartArray();
    for (auto& l : layers)
      write_layer(w, l);
    w.EndArray();
    w.EndObject();
  });
}

std::string encode_error_list(const std::vector<error_entry>& errors) {
  return encode([&](json_writer& w) {
    w.StartArray();
    for (auto& e : errors)
      write_error(w, e);
    w.EndArray();
  });
}

std::vector<layer_summary>
summarize_layers(const std::vector<service_status>& services) {
  std::map<std::string, layer_summary> by_name;
  for (auto& s : services) {
    auto& l = by_name[s.layer];
    l.name = s.layer;
    ++l.services;
    switch (s.state) {
    case protocol::breaker_state::closed:
      ++l.closed;
      break;
    case protocol::breaker_state::half_open:
      ++l.half_open;
      break;
    case protocol::breaker_state::open:
      ++l.open;
      break;
    }
  }
  std::vector<layer_summary> out;
  for (auto& [name, l] : by_name) {
    l.status = l.closed == l.services ? "healthy"
               : l.closed == 0        ? "down"
                                      : "degraded";
    out.push_back(std::move(l));
  }
  return out;
}

bool iso8601_utc(const std::string& s) {
  const char* shape = "dddd-dd-ddTdd:dd:dd";
  size_t i = 0;
  for (; shape[i] != '\0'; ++i) {
    if (i >= s.size())
      return false;
    bool digit = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
    if (shape[i] == 'd' ? !digit : s[i] != shape[i])
      return false;
  }
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == start || i - start > 9)
      return false;
  }
  return i + 1 == s.size() && s[i] == 'Z';
}

} // namespace herald::actors
