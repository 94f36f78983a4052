#include "protocol/envelope.hpp"

#include "protocol/frames.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace herald::protocol {

std::string encode_envelope_event(const event& ev) {
  rapidjson::StringBuffer buf;
  // The payload dominates: reserve once instead of regrowing.
  buf.Reserve(ev.data_json.size() + ev.id.size() + ev.event_type.size()
              + ev.user_id.size() + 112);
  json_writer w{buf};
  w.StartObject();
  w.Key("event_type");
  write_json_string(w, ev.event_type);
  w.Key("event_id");
  write_json_string(w, ev.id);
  w.Key("timestamp");
  auto ts = format_iso8601_us(ev.timestamp_us);
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  if (!ev.user_id.empty()) {
    w.Key("user_id");
    write_json_string(w, ev.user_id);
  }
  w.Key("data");
  // data_json comes from our own Writer (publish): trusted compact JSON.
  if (ev.data_json.empty())
    w.RawValue("{}", 2, rapidjson::kObjectType);
  else
    w.RawValue(ev.data_json.data(), ev.data_json.size(),
               rapidjson::kObjectType);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace herald::protocol
