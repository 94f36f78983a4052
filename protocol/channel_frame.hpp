#pragma once

// The frames of the channel endpoints, `/api/v69/ws/<name>` (PROTOCOL §7,
// docs/channels.md): a client sends a JSON object whose `type` is the
// seed's message name; the node answers and pushes
// `{"type":..,"data":..,"timestamp":..}`. An error is a frame of type
// `error` whose data names the code, a message and the request's type.

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace herald::protocol {

/// Codes of channel error frames beyond PROTOCOL §4's.
namespace channel_codes {
inline constexpr std::string_view not_found = "NOT_FOUND";
inline constexpr std::string_view unavailable = "UNAVAILABLE";
} // namespace channel_codes

/// A client frame of a channel endpoint, parsed. The document is the whole
/// object, for the channel to read its own fields from.
struct channel_request {
  std::string type;
  std::optional<std::string> id; ///< echoed in the answer when present
  rapidjson::Document doc;

  /// A string member, or none when absent or not a string.
  std::optional<std::string> string_field(const char* key) const;
  /// An unsigned integer member, or none when absent or not one.
  std::optional<uint64_t> uint_field(const char* key) const;
  /// A boolean member, or none when absent or not one.
  std::optional<bool> bool_field(const char* key) const;
};

/// Why a client frame could not be read: INVALID_MESSAGE with this text.
struct channel_request_error {
  std::string type; ///< the frame's `type` when it had a string one
  std::string message;
};

/// Parses a client text frame: a JSON object with a string `type` (and an
/// optional string `id`).
std::variant<channel_request, channel_request_error>
parse_channel_request(std::string_view text);

/// `{"type":..,"data":<data_json>,"timestamp":"<ISO-8601 UTC>","id":..}`;
/// `data_json` must be a JSON value (the caller encoded it); `id` is
/// omitted when absent.
std::string encode_channel_frame(std::string_view type,
                                 std::string_view data_json,
                                 int64_t timestamp_us,
                                 const std::optional<std::string>& id = {});

/// `{"type":"error","data":{"code":..,"message":..,"request":..},
/// "timestamp":..,"id":..}`; `request` (the refused frame's type) is
/// omitted when empty. An endpoint whose seed names its errors otherwise
/// (market-data's `ERROR`) passes that `frame_type`.
std::string encode_channel_error(std::string_view code,
                                 std::string_view message,
                                 std::string_view request_type,
                                 int64_t timestamp_us,
                                 const std::optional<std::string>& id = {},
                                 std::string_view frame_type = "error");

} // namespace herald::protocol
