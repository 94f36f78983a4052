#include "protocol/channel_frame.hpp"

#include "protocol/frames.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/error/en.h>

namespace herald::protocol {

std::optional<std::string>
channel_request::string_field(const char* key) const {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString())
    return std::nullopt;
  return std::string{it->value.GetString(), it->value.GetStringLength()};
}

std::optional<uint64_t> channel_request::uint_field(const char* key) const {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsUint64())
    return std::nullopt;
  return it->value.GetUint64();
}

std::optional<bool> channel_request::bool_field(const char* key) const {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsBool())
    return std::nullopt;
  return it->value.GetBool();
}

std::variant<channel_request, channel_request_error>
parse_channel_request(std::string_view text) {
  channel_request out;
  out.doc.Parse(text.data(), text.size());
  if (out.doc.HasParseError())
    return channel_request_error{
        {},
        std::string{"not JSON: "}
            + rapidjson::GetParseError_En(out.doc.GetParseError())};
  if (!out.doc.IsObject())
    return channel_request_error{{}, "expected a JSON object"};
  auto type = out.string_field("type");
  if (!type)
    return channel_request_error{{}, "missing or non-string 'type'"};
  out.type = std::move(*type);
  auto id = out.doc.FindMember("id");
  if (id != out.doc.MemberEnd()) {
    if (!id->value.IsString())
      return channel_request_error{out.type, "'id' must be a string"};
    out.id.emplace(id->value.GetString(), id->value.GetStringLength());
  }
  return out;
}

std::string encode_channel_frame(std::string_view type,
                                 std::string_view data_json,
                                 int64_t timestamp_us,
                                 const std::optional<std::string>& id) {
  std::string out;
  out.reserve(data_json.size() + type.size() + 80);
  rapidjson::StringBuffer head;
  {
    json_writer w{head};
    w.StartObject();
    w.Key("type");
    write_json_string(w, type);
    w.Key("data");
    // Spliced in below: the data was encoded once by its producer.
    w.Null();
    w.EndObject();
  }
  // head is {"type":"...","data":null}: replace the null by the data.
  std::string_view h{head.GetString(), head.GetSize()};
  out.append(h.substr(0, h.size() - 5));
  out.append(data_json.empty() ? std::string_view{"null"} : data_json);
  out.append(",\"timestamp\":\"");
  out.append(format_iso8601_us(timestamp_us));
  out.push_back('"');
  if (id) {
    rapidjson::StringBuffer idbuf;
    json_writer w{idbuf};
    write_json_string(w, *id);
    out.append(",\"id\":");
    out.append(idbuf.GetString(), idbuf.GetSize());
  }
  out.push_back('}');
  return out;
}

std::string encode_channel_error(std::string_view code,
                                 std::string_view message,
                                 std::string_view request_type,
                                 int64_t timestamp_us,
                                 const std::optional<std::string>& id,
                                 std::string_view frame_type) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("code");
  write_json_string(w, code);
  w.Key("message");
  write_json_string(w, message);
  if (!request_type.empty()) {
    w.Key("request");
    write_json_string(w, request_type);
  }
  w.EndObject();
  return encode_channel_frame(frame_type, {buf.GetString(), buf.GetSize()},
                              timestamp_us, id);
}

} // namespace herald::protocol
