#pragma once

// What the stock plugins share (docs/plugins.md): reading a client's frame,
// answering and refusing, and small JSON helpers. Built only on the SDK
// header and RapidJSON, as an out-of-tree plugin would be.

#include "herald/sdk.hpp"

#include <caf/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::plugins {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// A client frame, parsed: a JSON object with a string `type` and maybe a
/// string `id` (echoed in the answer).
struct request {
  std::string type;
  std::optional<std::string> id;
  rapidjson::Document doc;

  std::optional<std::string> string_field(const char* key) const {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString())
      return std::nullopt;
    return std::string{it->value.GetString(), it->value.GetStringLength()};
  }
  const rapidjson::Value* field(const char* key) const {
    auto it = doc.FindMember(key);
    return it == doc.MemberEnd() ? nullptr : &it->value;
  }
};

/// Parses a frame; on failure returns none and sets `why`.
inline std::optional<request> parse_request(const std::string& text,
                                            std::string& why) {
  request r;
  r.doc.Parse(text.data(), text.size());
  if (r.doc.HasParseError() || !r.doc.IsObject()) {
    why = "a frame is a JSON object with a string `type`";
    return std::nullopt;
  }
  auto t = r.doc.FindMember("type");
  if (t == r.doc.MemberEnd() || !t->value.IsString()
      || t->value.GetStringLength() == 0) {
    why = "missing string `type`";
    return std::nullopt;
  }
  r.type.assign(t->value.GetString(), t->value.GetStringLength());
  auto id = r.doc.FindMember("id");
  if (id != r.doc.MemberEnd() && id->value.IsString())
    r.id.emplace(id->value.GetString(), id->value.GetStringLength());
  return r;
}

/// `s` as a JSON string literal.
inline std::string json_string(std::string_view s) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {buf.GetString(), buf.GetSize()};
}

/// `v` as compact JSON.
inline std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

/// `[a,b,...]` from JSON texts.
inline std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    out += items[i];
  }
  return out + "]";
}

/// True for 1 to `max` characters of [A-Za-z0-9_.-].
inline bool valid_name(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max)
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
          || c == '.'))
      return false;
  return true;
}

/// The channel's clients and how to talk to them.
class client_table {
public:
  explicit client_table(const sdk::host& h) : host_(h) {}

  void add(sdk::client c) {
    auto id = c.id;
    clients_.emplace(id, std::move(c));
  }
  void erase(uint64_t id) { clients_.erase(id); }
  const sdk::client* find(uint64_t id) const {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : &it->second;
  }
  const std::map<uint64_t, sdk::client>& all() const { return clients_; }

  /// Sends a frame made once to one client.
  template <class Self>
  void push(Self* self, const sdk::client& to, const sdk::frame& f) const {
    self->send(to.handle, sdk::push_atom::value, f);
  }
  /// Answers `req` (its id echoed) with `type` and `data_json`.
  template <class Self>
  void answer(Self* self, const sdk::client& to, std::string_view type,
              std::string_view data_json,
              const std::optional<std::string>& id) const {
    push(self, to, host_.make_frame(type, data_json, id));
  }
  /// An error frame of `error_type` ("error", or the seed's own name).
  template <class Self>
  void refuse(Self* self, const sdk::client& to, std::string_view error_type,
              std::string_view code, std::string_view message,
              std::string_view request_type,
              const std::optional<std::string>& id) const {
    push(self, to,
         host_.make_error(error_type, code, message, request_type, id));
  }

  const sdk::host& host() const { return host_; }

private:
  sdk::host host_;
  std::map<uint64_t, sdk::client> clients_;
};

/// The codes of PROTOCOL §4 the stock plugins answer with.
namespace codes {
inline constexpr std::string_view invalid_message = "INVALID_MESSAGE";
inline constexpr std::string_view permission_denied = "PERMISSION_DENIED";
inline constexpr std::string_view limit_exceeded = "LIMIT_EXCEEDED";
inline constexpr std::string_view not_found = "NOT_FOUND";
inline constexpr std::string_view unavailable = "UNAVAILABLE";
} // namespace codes

/// A response handler's error branch: answers the request UNAVAILABLE,
/// naming `what` failed (the store logs why in full).
template <class Self>
auto answer_unavailable(Self* self, const client_table& table, sdk::client to,
                        std::string what, std::string type,
                        std::optional<std::string> id) {
  return [self, &table, to = std::move(to), what = std::move(what),
          type = std::move(type), id = std::move(id)](caf::error& err) {
    table.refuse(self, to, "error", codes::unavailable,
                 what + " failed: " + self->system().render(err), type, id);
  };
}

/// Reads an optional unsigned integer member within [lo, hi]; `def` when
/// absent. None when present but not such a number.
inline std::optional<uint64_t> uint_in(const request& req, const char* key,
                                       uint64_t def, uint64_t lo, uint64_t hi) {
  auto* v = req.field(key);
  if (v == nullptr)
    return def;
  if (!v->IsUint64() || v->GetUint64() < lo || v->GetUint64() > hi)
    return std::nullopt;
  return v->GetUint64();
}

/// ISO-8601 UTC with milliseconds, for timestamps inside payloads.
std::string iso8601(int64_t us);

} // namespace herald::plugins
