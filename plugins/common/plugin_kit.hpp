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
inline constexpr std::string_view rate_limited = "RATE_LIMITED";
inline constexpr std::string_view unauthorized = "UNAUTHORIZED";
} // namespace codes

/// At most `limit` actions per `window_ms` per key (a user): a sliding
/// window of the times of the last `limit` actions. Costs `limit` int64s
/// per active key; keys idle for a window are dropped on the next sweep.
class rate_window {
public:
  rate_window(uint32_t limit, uint32_t window_ms)
      : limit_(limit), window_us_(int64_t{window_ms} * 1000) {}

  /// Records an action at `now_us` when allowed; false when over.
  bool allow(const std::string& key, int64_t now_us) {
    auto& times = by_key_[key];
    while (!times.empty() && now_us - times.front() >= window_us_)
      times.erase(times.begin());
    if (times.size() >= limit_)
      return false;
    times.push_back(now_us);
    if (++since_sweep_ >= 1024)
      sweep(now_us);
    return true;
  }
  uint32_t limit() const { return limit_; }
  uint32_t window_ms() const {
    return static_cast<uint32_t>(window_us_ / 1000);
  }

private:
  void sweep(int64_t now_us) {
    since_sweep_ = 0;
    for (auto it = by_key_.begin(); it != by_key_.end();)
      if (it->second.empty() || now_us - it->second.back() >= window_us_)
        it = by_key_.erase(it);
      else
        ++it;
  }
  uint32_t limit_;
  int64_t window_us_;
  uint32_t since_sweep_ = 0;
  std::map<std::string, std::vector<int64_t>> by_key_;
};

/// A plugin's own timer message (its actor type extends the channel's with
/// `caf::reacts_to<tick_atom>`).
using tick_atom = caf::atom_constant<caf::atom("ptick")>;

/// The `client_id` claim of a client, else its `azp`, or empty.
inline std::string client_id_of(const sdk::client& c) {
  // As net/chat_presence.cpp: the OAuth client a token was issued to
  // (`azp`) stands in when there is no `client_id`.
  for (auto* name : {"client_id", "azp"}) {
    auto it = c.who->claims.find(name);
    if (it != c.who->claims.end() && !it->second.empty()
        && !it->second.front().empty())
      return it->second.front();
  }
  return {};
}

/// Now, in microseconds since the epoch.
int64_t now_us();

/// A fresh random id (a UUID v4) for messages a plugin makes.
std::string make_message_id();

/// Emits userChatRateLimited (docs/chat-events.md) for `c`.
template <class Self>
void emit_rate_limited(Self* self, const sdk::host& h, const sdk::client& c,
                       const rate_window& limit) {
  sdk::chat_event ev;
  ev.name = "userChatRateLimited";
  ev.user_id = c.who->sub;
  ev.session_id = c.session_id;
  ev.client_id = client_id_of(c);
  ev.payload_json =
      "{\"reason\":\"chat rate limit exceeded\",\"code\":429,"
      "\"forced\":false,\"endpoint\":"
      + json_string(h.endpoint) + ",\"limit\":" + std::to_string(limit.limit())
      + ",\"window_ms\":" + std::to_string(limit.window_ms()) + "}";
  self->send(h.node, sdk::chat_atom::value, std::move(ev));
}

/// Reads `{"key": unsigned, ...}` config members: fills `out[key]` for the
/// keys named in `bounds` (each [min, max]); refuses any other key.
/// Returns the problem, or empty.
std::string parse_uint_config(
    const std::string& json,
    const std::map<std::string, std::pair<uint64_t, uint64_t>>& bounds,
    std::map<std::string, uint64_t>& out);

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
