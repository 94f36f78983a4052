#include "protocol/publish.hpp"

#include "protocol/json_util.hpp"

#include "protocol/frames.hpp"
#include "protocol/topic.hpp"
#include "protocol/uuid.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

// Decisions beyond PROTOCOL §6, as a publisher would expect them:
// - unknown top-level members are ignored, so backends may send envelopes
//   that carry more than Herald reads (and newer fields to older nodes);
// - `null` counts as absent for every optional member (`id`, `topic`,
//   `data`, `audience` and its members, `broadcast`, `trace`), since many
//   serializers emit nulls for unset fields;
// - without an `audience` object, a top-level string `user_id` (the target
//   user of seeds/websocket-event.schema.json, a sibling of `data` there)
//   restricts the audience just like `data.user_id`: ignoring it would
//   deliver a targeted event to everyone on the topic.

namespace herald::protocol {

namespace {

using value_t = rapidjson::Value;
using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::size_t max_event_type_bytes = 128;
constexpr std::size_t max_id_bytes = 128;

// Full precision keeps doubles as the publisher wrote them when `data` is
// re-serialized; encoding is validated so every string we re-emit is UTF-8.
constexpr unsigned parse_flags =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;

publish_error invalid(std::string message) {
  return {400, std::string{codes::invalid_message}, std::move(message)};
}

std::string_view view(const value_t& v) {
  return {v.GetString(), v.GetStringLength()};
}

/// The member `name`, or nullptr when absent or null.
const value_t* member(const value_t& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull())
    return nullptr;
  return &it->value;
}

/// `[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*`
bool valid_event_type(std::string_view s) {
  if (s.empty() || s.size() > max_event_type_bytes)
    return false;
  bool segment_empty = true;
  for (char c : s) {
    if (c == '.') {
      if (segment_empty)
        return false;
      segment_empty = true;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok)
      return false;
    segment_empty = false;
  }
  return !segment_empty;
}

std::string compact(const value_t& v) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

// As the seed's normalizeAudience: trimmed, non-empty, each value once.
// Lists are short, so a linear duplicate check beats a set.
void add_scope(std::vector<std::string>& out, std::string_view raw) {
  auto s = trim(raw);
  if (s.empty())
    return;
  for (auto& x : out)
    if (x == s)
      return;
  out.emplace_back(s);
}

/// The payload's `<single>` (string) and `<plural>` (array; non-strings
/// skipped) members, as the seed's collectStringValues reads them.
void payload_scopes(const value_t& data, const char* single, const char* plural,
                    std::vector<std::string>& out) {
  if (auto v = member(data, single); v && v->IsString())
    add_scope(out, view(*v));
  if (plural == nullptr)
    return;
  if (auto v = member(data, plural); v && v->IsArray())
    for (auto& x : v->GetArray())
      if (x.IsString())
        add_scope(out, view(x));
}

/// The string member `name` trimmed, or empty.
std::string trimmed_member(const value_t& obj, const char* name) {
  if (auto v = member(obj, name); v && v->IsString())
    return std::string{trim(view(*v))};
  return {};
}

/// PROTOCOL §1: the audience implied by an event without an `audience`.
/// The payload is opaque, so fields of unexpected types are skipped, not
/// refused. `user_id` becomes the event's target user: the top-level one
/// (the envelope's field), else the payload's.
audience audience_from_payload(const value_t& root, const value_t* data,
                               std::string& user_id) {
  audience aud;
  user_id = trimmed_member(root, "user_id");
  if (user_id.empty() && data != nullptr)
    user_id = trimmed_member(*data, "user_id");
  if (data != nullptr) {
    // The seed takes `tenantId` as is (no trimming): keep that, so the
    // tenant matches the connection's claim byte for byte.
    if (auto v = member(*data, "tenantId"); v && v->IsString())
      aud.tenant_id = std::string{view(*v)};
    payload_scopes(*data, "organizationId", "organizationIds", aud.org_ids);
    payload_scopes(*data, "recipientUserId", "recipientUserIds", aud.user_ids);
    payload_scopes(*data, "recipientRoleId", "recipientRoleIds", aud.role_ids);
    payload_scopes(*data, "user_id", nullptr, aud.user_ids);
  }
  payload_scopes(root, "user_id", nullptr, aud.user_ids);
  return aud;
}

std::optional<publish_error> read_string_list(const value_t& obj,
                                              const char* name,
                                              std::vector<std::string>& out) {
  auto v = member(obj, name);
  if (v == nullptr)
    return std::nullopt;
  auto fail = [&] {
    return invalid(std::string{"audience."} + name
                   + " must be an array of strings");
  };
  if (!v->IsArray())
    return fail();
  for (auto& x : v->GetArray()) {
    if (!x.IsString())
      return fail();
    out.emplace_back(view(x));
  }
  return std::nullopt;
}

/// An explicit `audience` object, taken as given (no trimming): the
/// publisher said exactly whom it means.
std::optional<publish_error> read_audience(const value_t& v, audience& aud) {
  if (!v.IsObject())
    return invalid("audience must be an object");
  if (auto t = member(v, "tenant_id")) {
    if (!t->IsString())
      return invalid("audience.tenant_id must be a string");
    aud.tenant_id = std::string{view(*t)};
  }
  for (auto [name, list] : {std::pair{"org_ids", &aud.org_ids},
                            std::pair{"user_ids", &aud.user_ids},
                            std::pair{"role_ids", &aud.role_ids}})
    if (auto err = read_string_list(v, name, *list))
      return err;
  return std::nullopt;
}

/// The rules of parse_publish on one parsed element.
publish_result parse_object(const value_t& obj, int64_t timestamp_us) {
  if (!obj.IsObject())
    return invalid("publish must be a JSON object");
  event ev;
  ev.timestamp_us = timestamp_us;
  auto et = obj.FindMember("event_type");
  if (et == obj.MemberEnd() || et->value.IsNull())
    return invalid("event_type is required");
  if (!et->value.IsString())
    return invalid("event_type must be a string");
  if (et->value.GetStringLength() > max_event_type_bytes)
    return invalid("event_type is longer than 128 bytes");
  if (!valid_event_type(view(et->value)))
    return invalid("event_type must be dot-separated names of "
                   "[A-Za-z0-9_-]");
  ev.event_type = std::string{view(et->value)};
  if (auto id = member(obj, "id")) {
    if (!id->IsString() || id->GetStringLength() == 0
        || id->GetStringLength() > max_id_bytes)
      return invalid("id must be a non-empty string of at most 128 bytes");
    ev.id = std::string{view(*id)};
  } else {
    ev.id = make_uuid_v4();
  }
  auto data = member(obj, "data");
  if (data != nullptr) {
    if (!data->IsObject())
      return invalid("data must be an object");
    ev.data_json = compact(*data);
  } else {
    ev.data_json = "{}";
  }
  if (auto b = member(obj, "broadcast")) {
    if (!b->IsBool())
      return invalid("broadcast must be a boolean");
    ev.broadcast = b->GetBool();
  }
  if (auto t = member(obj, "trace")) {
    if (!t->IsObject())
      return invalid("trace must be an object");
    ev.trace_json = compact(*t);
  }
  if (auto a = member(obj, "audience")) {
    if (auto err = read_audience(*a, ev.aud))
      return *err;
  } else {
    ev.aud = audience_from_payload(obj, data, ev.user_id);
  }
  if (auto t = member(obj, "topic")) {
    if (!t->IsString())
      return invalid("topic must be a string");
    topic_segments segs;
    std::string why;
    if (!parse_topic(view(*t), segs, &why))
      return publish_error{
          422, std::string{codes::invalid_topic},
          "invalid topic: " + (why.empty() ? std::string{"malformed"} : why)};
    ev.topic = std::string{view(*t)};
  } else if (!(ev.broadcast && !ev.aud.tenant_id.empty())) {
    return invalid("topic is required unless broadcast with a tenant");
  }
  return ev;
}

std::optional<publish_error> parse_body(std::string_view body,
                                        rapidjson::Document& doc) {
  auto fixed = guard_full_precision(body);
  if (fixed)
    body = *fixed;
  doc.Parse<parse_flags>(body.data(), body.size());
  if (doc.HasParseError())
    return invalid("body is not valid JSON");
  return std::nullopt;
}

void write_accepted(writer_t& w, const event& ev) {
  w.Key("id");
  write_json_string(w, ev.id);
  w.Key("topic");
  write_json_string(w, ev.topic);
}

void write_error(writer_t& w, std::string_view code, std::string_view msg,
                 std::string_view path = {}) {
  w.Key("code");
  write_json_string(w, code);
  w.Key("message");
  write_json_string(w, msg);
  if (!path.empty()) {
    w.Key("path");
    write_json_string(w, path);
  }
}

} // namespace

publish_result parse_publish(std::string_view body, int64_t timestamp_us) {
  rapidjson::Document doc;
  if (auto err = parse_body(body, doc))
    return *err;
  return parse_object(doc, timestamp_us);
}

publish_result parse_publish_value(std::string_view json_object_text,
                                   int64_t timestamp_us) {
  return parse_publish(json_object_text, timestamp_us);
}

std::variant<std::vector<publish_result>, publish_error>
parse_publish_batch(std::string_view body, int64_t timestamp_us,
                    std::size_t max_events) {
  rapidjson::Document doc;
  if (auto err = parse_body(body, doc))
    return *err;
  if (!doc.IsObject())
    return invalid("batch must be a JSON object with an events array");
  auto events = member(doc, "events");
  if (events == nullptr || !events->IsArray())
    return invalid("batch must be a JSON object with an events array");
  auto arr = events->GetArray();
  if (arr.Size() > max_events)
    return invalid("too many events in batch: " + std::to_string(arr.Size())
                   + " (limit " + std::to_string(max_events) + ")");
  std::vector<publish_result> results;
  results.reserve(arr.Size());
  for (auto& element : arr)
    results.push_back(parse_object(element, timestamp_us));
  return results;
}

std::string encode_publish_accepted(const event& ev) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_accepted(w, ev);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string encode_error_body(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_error(w, code, message);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string encode_error_body(const publish_error& err) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_error(w, err.code, err.message, err.path);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string encode_batch_results(const std::vector<publish_result>& results) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  w.Key("results");
  w.StartArray();
  for (auto& r : results) {
    w.StartObject();
    w.Key("status");
    if (auto ev = std::get_if<event>(&r)) {
      w.Int(202);
      write_accepted(w, *ev);
    } else {
      auto& err = std::get<publish_error>(r);
      w.Int(err.status);
      write_error(w, err.code, err.message, err.path);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace herald::protocol
