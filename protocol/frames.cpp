#include "protocol/frames.hpp"

#include "protocol/json_util.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

namespace herald::protocol {

namespace {

using writer_t = json_writer;

void write_key(writer_t& w, const char* key) {
  w.Key(key);
}

void write_topics(writer_t& w, const std::vector<std::string>& topics) {
  write_key(w, "topics");
  w.StartArray();
  for (auto& t : topics)
    write_json_string(w, t);
  w.EndArray();
}

std::string take(rapidjson::StringBuffer& buf) {
  return {buf.GetString(), buf.GetSize()};
}

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no libc
// time zone state, valid for any int64 day count we can meet.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

} // namespace

std::variant<client_frame, client_frame_error>
parse_client_frame(std::string_view text) {
  client_frame_error err;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    err.message = "frame is not valid JSON";
    return err;
  }
  if (!doc.IsObject()) {
    err.message = "frame must be a JSON object";
    return err;
  }
  // Gather what the error reply may echo before judging anything else.
  auto type_it = doc.FindMember("type");
  bool has_type = type_it != doc.MemberEnd() && type_it->value.IsString();
  if (has_type)
    err.action = std::string{view(type_it->value)};
  auto id_it = doc.FindMember("id");
  if (id_it != doc.MemberEnd()) {
    if (!id_it->value.IsString()) {
      err.message = "id must be a string";
      return err;
    }
    err.id = std::string{view(id_it->value)};
  }
  if (!has_type) {
    err.message =
        type_it == doc.MemberEnd() ? "missing type" : "type must be a string";
    return err;
  }
  client_frame frame;
  frame.id = err.id;
  if (err.action == "subscribe") {
    frame.type = client_frame::kind::subscribe;
  } else if (err.action == "unsubscribe") {
    frame.type = client_frame::kind::unsubscribe;
  } else if (err.action == "ping") {
    frame.type = client_frame::kind::ping;
  } else {
    err.message = "unknown type";
    return err;
  }
  // `since` is only meaningful on subscribe but is type-checked everywhere,
  // so a client bug shows up the same way whatever frame carries it.
  auto since_it = doc.FindMember("since");
  if (since_it != doc.MemberEnd()) {
    if (!since_it->value.IsString()) {
      err.message = "since must be a string";
      return err;
    }
    frame.since = std::string{view(since_it->value)};
  }
  if (frame.type == client_frame::kind::ping)
    return frame;
  auto topics_it = doc.FindMember("topics");
  if (topics_it == doc.MemberEnd()) {
    err.message = "missing topics";
    return err;
  }
  if (!topics_it->value.IsArray()) {
    err.message = "topics must be an array of strings";
    return err;
  }
  auto topics = topics_it->value.GetArray();
  frame.topics.reserve(topics.Size());
  for (auto& t : topics) {
    if (!t.IsString()) {
      err.message = "topics must be an array of strings";
      return err;
    }
    frame.topics.emplace_back(view(t));
  }
  // Unknown members are ignored, so clients may add fields of their own.
  return frame;
}

std::string encode_ack(std::string_view action,
                       const std::vector<std::string>& topics,
                       const std::optional<std::string>& id,
                       std::optional<bool> recovered) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_key(w, "type");
  w.String("ack");
  write_key(w, "action");
  write_json_string(w, action);
  write_topics(w, topics);
  write_key(w, "status");
  w.String("success");
  if (id) {
    write_key(w, "id");
    write_json_string(w, *id);
  }
  if (recovered) {
    write_key(w, "recovered");
    w.Bool(*recovered);
  }
  w.EndObject();
  return take(buf);
}

std::string encode_error(std::string_view action,
                         const std::vector<std::string>& topics,
                         std::string_view code, std::string_view message,
                         const std::optional<std::string>& id) {
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_key(w, "type");
  w.String("error");
  if (!action.empty()) {
    write_key(w, "action");
    write_json_string(w, action);
  }
  if (!topics.empty())
    write_topics(w, topics);
  write_key(w, "code");
  write_json_string(w, code);
  write_key(w, "message");
  write_json_string(w, message);
  if (id) {
    write_key(w, "id");
    write_json_string(w, *id);
  }
  w.EndObject();
  return take(buf);
}

std::string encode_pong(const std::optional<std::string>& id) {
  if (!id)
    return R"({"type":"pong"})";
  rapidjson::StringBuffer buf;
  writer_t w{buf};
  w.StartObject();
  write_key(w, "type");
  w.String("pong");
  write_key(w, "id");
  write_json_string(w, *id);
  w.EndObject();
  return take(buf);
}

std::string encode_ws_event(const event& ev) {
  rapidjson::StringBuffer buf;
  // Payload dominates the size; reserve once instead of regrowing.
  buf.Reserve(ev.data_json.size() + ev.trace_json.size() + ev.id.size()
              + ev.topic.size() + ev.event_type.size() + ev.pos.size() + 128);
  writer_t w{buf};
  w.StartObject();
  write_key(w, "id");
  write_json_string(w, ev.id);
  write_key(w, "event_type");
  write_json_string(w, ev.event_type);
  write_key(w, "timestamp");
  auto ts = format_iso8601_us(ev.timestamp_us);
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  write_key(w, "topic");
  write_json_string(w, ev.topic);
  write_key(w, "data");
  // data_json and trace_json were produced by our own Writer (publish), so
  // they are trusted compact JSON and embedded without re-parsing.
  if (ev.data_json.empty())
    w.RawValue("{}", 2, rapidjson::kObjectType);
  else
    w.RawValue(ev.data_json.data(), ev.data_json.size(),
               rapidjson::kObjectType);
  write_key(w, "pos");
  write_json_string(w, ev.pos);
  if (!ev.trace_json.empty()) {
    write_key(w, "trace");
    w.RawValue(ev.trace_json.data(), ev.trace_json.size(),
               rapidjson::kObjectType);
  }
  w.EndObject();
  return take(buf);
}

std::string format_iso8601_us(int64_t timestamp_us) {
  constexpr int64_t us_per_day = 86400LL * 1000000LL;
  int64_t days = timestamp_us / us_per_day;
  int64_t rem = timestamp_us % us_per_day;
  if (rem < 0) {
    rem += us_per_day;
    --days;
  }
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civil_from_days(days, year, month, day);
  auto secs = rem / 1000000;
  auto frac = rem % 1000000;
  char out[64];
  auto n = std::snprintf(
      out, sizeof(out), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
      static_cast<long long>(year), month, day,
      static_cast<long long>(secs / 3600),
      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
      static_cast<long long>(frac));
  return {out, static_cast<std::size_t>(n)};
}

} // namespace herald::protocol
