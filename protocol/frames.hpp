#pragma once

#include "protocol/event.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::protocol {

/// Error codes of PROTOCOL §4.
namespace codes {
inline constexpr std::string_view invalid_message = "INVALID_MESSAGE";
inline constexpr std::string_view invalid_topic = "INVALID_TOPIC";
inline constexpr std::string_view permission_denied = "PERMISSION_DENIED";
inline constexpr std::string_view rate_limited = "RATE_LIMITED";
inline constexpr std::string_view limit_exceeded = "LIMIT_EXCEEDED";
inline constexpr std::string_view schema_violation = "SCHEMA_VIOLATION";
} // namespace codes

/// A frame a client sends on `/ws`.
struct client_frame {
  enum class kind { subscribe, unsubscribe, ping };
  kind type = kind::ping;
  std::vector<std::string> topics;
  std::optional<std::string> id;    ///< echoed back in ack/error
  std::optional<std::string> since; ///< last `pos` received (subscribe)
};

/// Why a client frame was refused: always INVALID_MESSAGE.
struct client_frame_error {
  std::string action; ///< the frame's `type` when it had a string one
  std::optional<std::string> id;
  std::string message;
};

/// Parses a client text frame (PROTOCOL §4). Not JSON, not an object, an
/// unknown or missing `type`, `topics` missing or not an array of strings
/// (for subscribe/unsubscribe), or a non-string `id`/`since` give an error.
std::variant<client_frame, client_frame_error>
parse_client_frame(std::string_view text);

/// `{"type":"ack","action":..,"topics":[..],"status":"success","id":..,
/// "recovered":..}`; `id` is omitted when absent, `recovered` unless the
/// subscribe carried `since`.
std::string encode_ack(std::string_view action,
                       const std::vector<std::string>& topics,
                       const std::optional<std::string>& id,
                       std::optional<bool> recovered = std::nullopt);

/// `{"type":"error","action":..,"topics":[..],"code":..,"message":..,
/// "id":..}`; `action` omitted when empty, `topics` omitted when empty,
/// `id` omitted when absent.
std::string encode_error(std::string_view action,
                         const std::vector<std::string>& topics,
                         std::string_view code, std::string_view message,
                         const std::optional<std::string>& id);

/// `{"type":"pong"}`, with `"id"` when the ping had one (PROTOCOL §4:
/// ids are echoed back).
std::string encode_pong(const std::optional<std::string>& id = std::nullopt);

/// The `/ws` event frame: `{"id":..,"event_type":..,"timestamp":"ISO-8601
/// UTC with microseconds","topic":..,"data":{..},"pos":..}` plus `"trace"`
/// when the event has one. `data_json` and `trace_json` are embedded as
/// they are (already compact JSON).
std::string encode_ws_event(const event& ev);

/// `2024-01-15T10:30:05.000000Z`
std::string format_iso8601_us(int64_t timestamp_us);

} // namespace herald::protocol
