#include "protocol/sse.hpp"

#include "protocol/json_util.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::protocol::sse {

namespace {

using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

void key(writer_t& w, const char* k) {
  w.Key(k, static_cast<rapidjson::SizeType>(std::char_traits<char>::length(k)));
}

// The payload's reference fields, for the truncated form.
void write_entity_ref(writer_t& w, const std::string& data_json) {
  w.StartObject();
  key(w, "truncated");
  w.Bool(true);
  rapidjson::Document doc;
  doc.Parse(data_json.data(), data_json.size());
  if (!doc.HasParseError() && doc.IsObject())
    for (const char* name : {"id", "entityId", "entityType"}) {
      auto it = doc.FindMember(name);
      if (it == doc.MemberEnd() || !it->value.IsString())
        continue;
      auto v = trim({it->value.GetString(), it->value.GetStringLength()});
      if (v.empty())
        continue;
      key(w, name);
      write_json_string(w, v);
    }
  w.EndObject();
}

} // namespace

bool event_type_matches(std::string_view pattern, std::string_view type) {
  if (pattern == "*" || pattern == type)
    return true;
  while (true) {
    auto pd = pattern.find('.');
    auto td = type.find('.');
    auto p = pattern.substr(0, pd);
    auto t = type.substr(0, td);
    if (t.empty() || (p != "*" && p != t))
      return false;
    if (pd == std::string_view::npos || td == std::string_view::npos)
      return pd == td;
    pattern.remove_prefix(pd + 1);
    type.remove_prefix(td + 1);
  }
}

bool valid_event_type_pattern(std::string_view s) {
  if (s.empty() || s.size() > 128)
    return false;
  while (true) {
    auto dot = s.find('.');
    auto part = s.substr(0, dot);
    if (part.empty())
      return false;
    if (part != "*")
      for (char c : part)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
          return false;
    if (dot == std::string_view::npos)
      return true;
    s.remove_prefix(dot + 1);
  }
}

bool any_matches(const std::vector<std::string>& patterns,
                 std::string_view type) {
  if (patterns.empty())
    return true;
  for (auto& p : patterns)
    if (event_type_matches(p, type))
      return true;
  return false;
}

bool carries(const event& ev, const std::vector<std::string>& declared) {
  if (ev.aud.tenant_id.empty())
    return false;
  if (ev.broadcast)
    return true;
  for (auto& p : declared)
    if (event_type_matches(p, ev.event_type))
      return true;
  return false;
}

std::string encode_data(const event& ev, bool truncated) {
  rapidjson::StringBuffer buf;
  buf.Reserve((truncated ? 0 : ev.data_json.size()) + ev.trace_json.size()
              + ev.event_type.size() + 96);
  writer_t w{buf};
  w.StartObject();
  key(w, "id");
  write_json_string(w, ev.event_type);
  key(w, "payload");
  if (truncated)
    write_entity_ref(w, ev.data_json);
  else if (ev.data_json.empty())
    w.RawValue("{}", 2, rapidjson::kObjectType);
  else
    w.RawValue(ev.data_json.data(), ev.data_json.size(),
               rapidjson::kObjectType);
  key(w, "timestamp");
  w.Int64(ev.timestamp_us / 1000);
  key(w, "organizationId");
  write_json_string(w, ev.aud.org_ids.empty() ? std::string_view{}
                                              : ev.aud.org_ids.front());
  if (!ev.trace_json.empty()) {
    key(w, "trace");
    w.RawValue(ev.trace_json.data(), ev.trace_json.size(),
               rapidjson::kObjectType);
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::optional<encoded> encode_frame(const event& ev) {
  encoded result;
  auto data = encode_data(ev, false);
  if (data.size() > max_data_bytes) {
    data = encode_data(ev, true);
    if (data.size() > max_data_bytes)
      return std::nullopt;
    result.truncated = true;
  }
  auto& out = result.frame;
  out.reserve(data.size() + ev.pos.size() + 16);
  out += "id: ";
  out += ev.pos;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return result;
}

std::string encode_named(std::string_view name, std::string_view json) {
  std::string out;
  out.reserve(name.size() + json.size() + 16);
  out += "event: ";
  out += name;
  out += "\ndata: ";
  out += json;
  out += "\n\n";
  return out;
}

} // namespace herald::protocol::sse
