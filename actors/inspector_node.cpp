// The node-wide answers of one node's inspector (docs/console.md): its
// services and health layers, and maintenance mode. The actor views
// (summary, pages, detail, tree, stop) are inspector_local.cpp.
#include "actors/inspector_local.hpp"

#include "actors/health_json.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/document.h>

namespace herald::actors::inspect {

using protocol::json_writer;
using protocol::write_json_string;

std::string services(const node_context& ctx,
                     const std::vector<service_status>& all) {
  auto layers = summarize_layers(all);
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("items");
    w.StartArray();
    for (auto& s : all) {
      auto text = encode_service(s);
      rapidjson::Document doc;
      doc.Parse(text.data(), text.size());
      w.StartObject();
      w.Key("node");
      write_json_string(w, ctx.settings.node_name);
      w.Key("name");
      write_json_string(w, s.name);
      for (auto& m : doc.GetObject()) {
        w.Key(m.name.GetString(), m.name.GetStringLength());
        m.value.Accept(w);
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("layers");
    w.StartArray();
    for (auto& l : layers) {
      auto text = encode_layer(l);
      rapidjson::Document doc;
      doc.Parse(text.data(), text.size());
      w.StartObject();
      w.Key("node");
      write_json_string(w, ctx.settings.node_name);
      for (auto& m : doc.GetObject()) {
        if (std::string_view{m.name.GetString()} == "node")
          continue;
        w.Key(m.name.GetString(), m.name.GetStringLength());
        m.value.Accept(w);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::string maintenance(const node_context& ctx, const maintenance_state& m) {
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("on");
    w.Bool(m.on);
    w.Key("enabled");
    w.Bool(m.on);
    w.Key("message");
    write_json_string(w, m.message);
    w.Key("expected_end");
    write_json_string(w, m.expected_end);
    w.Key("set_by");
    write_json_string(w, m.set_by);
    w.Key("since_ms");
    w.Int64(m.since_us / 1000);
    w.EndObject();
  });
}

std::variant<maintenance_state, std::string>
parse_maintenance(const std::string& body, const std::string& who) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::string{"the body must be a JSON object such as "
                       "{\"on\":true,\"message\":\"upgrading\"}"};
  maintenance_state m;
  m.set_by = who;
  auto on = doc.FindMember("on");
  if (on == doc.MemberEnd())
    on = doc.FindMember("enabled");
  if (on == doc.MemberEnd() || !on->value.IsBool())
    return std::string{"'on' must be true or false"};
  m.on = on->value.GetBool();
  if (auto it = doc.FindMember("message"); it != doc.MemberEnd()) {
    if (!it->value.IsString() || it->value.GetStringLength() > 500
        || !protocol::valid_utf8(
            {it->value.GetString(), it->value.GetStringLength()}))
      return std::string{"'message' must be a string of at most 500 bytes"};
    m.message = it->value.GetString();
  }
  if (auto it = doc.FindMember("expected_end");
      it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString() || !iso8601_utc(it->value.GetString()))
      return std::string{"'expected_end' must be an ISO-8601 UTC time such "
                         "as 2026-11-23T18:00:00Z"};
    m.expected_end = it->value.GetString();
  }
  return m;
}

} // namespace herald::actors::inspect
