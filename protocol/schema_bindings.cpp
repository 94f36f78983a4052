#include "protocol/schema_bindings.hpp"

#include "protocol/envelope.hpp"
#include "protocol/frames.hpp"
#include "protocol/sse.hpp"
#include "protocol/topic.hpp"

#include <rapidjson/document.h>

#include <filesystem>

namespace herald::protocol {

bool schema_binding::applies_to(const event& ev) const {
  if (!event_type.empty())
    return sse::event_type_matches(event_type, ev.event_type);
  // Parsing both costs a scan of two short strings, no allocation.
  return !ev.topic.empty() && pattern_matches(topic, ev.topic);
}

std::string parse_schema_bindings(std::string_view json,
                                  std::vector<schema_binding>& out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray())
    return "must be an array of {\"event_type\" or \"topic\", \"file\", "
           "\"validates\"} objects";
  std::vector<schema_binding> bindings;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    auto at = "[" + std::to_string(i) + "]";
    auto& item = doc[i];
    if (!item.IsObject())
      return at + ": must be an object";
    schema_binding b;
    bool has_event_type = false;
    bool has_topic = false;
    for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) {
      std::string_view name{m->name.GetString(), m->name.GetStringLength()};
      auto& v = m->value;
      auto where = at + "." + std::string{name};
      if (name != "event_type" && name != "topic" && name != "file"
          && name != "validates")
        return at + ": unknown member \"" + std::string{name}
               + "\" (event_type, topic, file, validates)";
      if (!v.IsString())
        return where + ": must be a string";
      std::string s{v.GetString(), v.GetStringLength()};
      if (name == "event_type") {
        if (!sse::valid_event_type_pattern(s))
          return where
                 + ": must be 1 to 128 bytes of dot-separated parts of "
                   "[A-Za-z0-9_-], each possibly a whole `*`";
        b.event_type = std::move(s);
        has_event_type = true;
      } else if (name == "topic") {
        topic_segments segments;
        std::string why;
        if (!parse_pattern(s, segments, &why))
          return where + ": " + (why.empty() ? "not a topic pattern" : why);
        b.topic = std::move(s);
        has_topic = true;
      } else if (name == "file") {
        if (s.empty())
          return where + ": must name a schema file";
        b.file = std::move(s);
      } else if (s == "data" || s == "envelope") {
        b.validates = s == "data" ? schema_binding::target::data
                                  : schema_binding::target::envelope;
      } else {
        return where + ": must be \"data\" or \"envelope\"";
      }
    }
    if (has_event_type == has_topic)
      return at + ": needs exactly one of \"event_type\" and \"topic\"";
    if (b.file.empty())
      return at + ".file: is required";
    bindings.push_back(std::move(b));
  }
  out = std::move(bindings);
  return {};
}

std::string load_schema_bindings(std::vector<schema_binding>& bindings,
                                 const std::string& base_dir) {
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    auto& b = bindings[i];
    std::filesystem::path file{b.file};
    if (file.is_relative() && !base_dir.empty())
      file = std::filesystem::path{base_dir} / file;
    auto loaded = load_schema(file.string());
    if (auto err = std::get_if<std::string>(&loaded))
      return "[" + std::to_string(i) + "].file: " + *err;
    b.schema = std::get<schema_ptr>(std::move(loaded));
  }
  return {};
}

schema_check check_schemas(const std::vector<schema_binding>& bindings,
                           const event& ev) {
  schema_check out;
  std::string envelope; // encoded once, on first need
  for (auto& b : bindings) {
    if (!b.schema || !b.applies_to(ev))
      continue;
    if (b.validates == schema_binding::target::data) {
      out.violation = b.schema->validate_json(
          ev.data_json.empty() ? std::string_view{"{}"} : ev.data_json,
          "/data");
    } else {
      if (envelope.empty())
        envelope = encode_envelope_event(ev);
      out.violation = b.schema->validate_json(envelope);
      out.envelope = true;
    }
    if (out.violation) {
      out.envelope = false;
      return out;
    }
  }
  return out;
}

publish_error schema_refusal(const schema_violation& v) {
  publish_error err;
  err.status = 422;
  err.code = std::string{codes::schema_violation};
  err.message = v.message;
  err.path = v.path;
  return err;
}

} // namespace herald::protocol
