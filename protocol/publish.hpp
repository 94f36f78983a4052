#pragma once

#include "protocol/event.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::protocol {

/// Why a publish was refused: HTTP status and the JSON error body's fields.
struct publish_error {
  int status = 400; ///< 400 or 422
  std::string code; ///< INVALID_MESSAGE, INVALID_TOPIC, ...
  std::string message;
  /// SCHEMA_VIOLATION: JSON pointer of the failing value (`/data/title`);
  /// empty otherwise, and then left out of the body.
  std::string path{};
};

using publish_result = std::variant<event, publish_error>;

/// Parses one publish object (PROTOCOL §6):
/// - `topic`: concrete topic per §2 (422 INVALID_TOPIC when malformed);
///   required unless `broadcast` is true and the audience has a tenant;
/// - `event_type`: required, dotted name `[A-Za-z0-9_-]+(\.[...]+)*`;
/// - `data`: object, default `{}`; `id`: string, default a new UUIDv4;
/// - `audience`: optional object; when absent, read from the payload's
///   `tenantId`, `organizationId`/`organizationIds`, `recipientUserId(s)`,
///   `recipientRoleId(s)` and `user_id`; the event's `user_id` is then the
///   top-level `user_id`, else `data.user_id` (trimmed), else empty;
/// - `broadcast`: bool; `trace`: object passed through.
/// Wrong types or missing fields are 400 INVALID_MESSAGE.
/// `timestamp_us` becomes the event's timestamp.
publish_result parse_publish(std::string_view body, int64_t timestamp_us);

/// Same rules for one already-parsed element of a batch, given as JSON text.
/// (Implementations may share a RapidJSON-level helper instead.)
publish_result parse_publish_value(std::string_view json_object_text,
                                   int64_t timestamp_us);

/// Parses `{"events":[...]}`: a whole-body error (not JSON, no `events`
/// array, more than `max_events`) or one result per element, in order.
std::variant<std::vector<publish_result>, publish_error>
parse_publish_batch(std::string_view body, int64_t timestamp_us,
                    std::size_t max_events);

/// `{"id":"..","topic":".."}` for a 202.
std::string encode_publish_accepted(const event& ev);

/// `{"code":"..","message":".."}`
std::string encode_error_body(std::string_view code, std::string_view message);

/// `{"code":"..","message":"..","path":".."}`, `path` left out when empty.
std::string encode_error_body(const publish_error& err);

/// `{"results":[{"status":202,"id":..,"topic":..} | {"status":4xx,"code":..,
/// "message":..[,"path":..]}, ...]}` for the batch endpoint.
std::string encode_batch_results(const std::vector<publish_result>& results);

} // namespace herald::protocol
