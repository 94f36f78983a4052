#include "config/describe.hpp"

#include "config/schema.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::config {

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_str(writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_services(writer& w, const std::vector<protocol::service_spec>& v) {
  w.StartArray();
  for (auto& s : v) {
    w.StartObject();
    w.Key("name");
    write_str(w, s.name);
    w.Key("layer");
    write_str(w, s.layer);
    w.Key("probe");
    bool http = s.probe.how == protocol::probe_spec::kind::http;
    write_str(w, (http ? "http://" : "tcp://") + s.probe.host + ":"
                     + std::to_string(s.probe.port)
                     + (http ? s.probe.path : std::string{}));
    w.Key("interval_ms");
    w.Uint(s.interval_ms);
    w.EndObject();
  }
  w.EndArray();
}

void write_permissions(writer& w, const protocol::permission_rules& p) {
  w.StartObject();
  w.Key("resource_types");
  w.StartArray();
  for (auto& t : p.resource_types)
    write_str(w, t);
  w.EndArray();
  w.Key("scopes");
  w.StartArray();
  for (auto& r : p.rules)
    write_str(w, r.scope);
  w.EndArray();
  w.EndObject();
}

void write_value(writer& w, const detail::field& f) {
  std::visit(
      [&w](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          write_str(w, *p);
        } else if constexpr (std::is_same_v<T, bool>) {
          w.Bool(*p);
        } else if constexpr (std::is_same_v<T, double>) {
          w.Double(*p);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.Int64(*p);
        } else if constexpr (std::is_integral_v<T>) {
          w.Uint64(*p);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          w.StartArray();
          for (auto& s : *p)
            write_str(w, s);
          w.EndArray();
        } else if constexpr (std::is_same_v<T, protocol::permission_rules>) {
          write_permissions(w, *p);
        } else if constexpr (std::is_same_v<
                                 T, std::vector<protocol::service_spec>>) {
          write_services(w, *p);
        } else if constexpr (std::is_same_v<T, std::vector<plugin_entry>>) {
          // Paths and names only: a plugin's section may hold secrets.
          w.StartArray();
          for (auto& e : *p)
            write_str(w, e.name.empty() ? e.path : e.name + "@" + e.path);
          w.EndArray();
        } else if constexpr (std::is_same_v<
                                 T, std::vector<protocol::history_rule>>) {
          w.StartArray();
          for (auto& r : *p)
            write_str(w, r.pattern);
          w.EndArray();
        } else {
          // Schema bindings: the pattern each binds.
          w.StartArray();
          for (auto& b : *p)
            write_str(w, b.topic.empty() ? b.event_type : b.topic);
          w.EndArray();
        }
      },
      f);
}

} // namespace

std::string describe_settings(const settings& cfg) {
  // locate() takes a mutable settings; a copy keeps `cfg` const.
  settings copy = cfg;
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  for (auto& k : detail::keys()) {
    if (k.secret)
      continue;
    w.Key(k.name.data(), static_cast<rapidjson::SizeType>(k.name.size()));
    write_value(w, k.locate(copy));
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace herald::config
