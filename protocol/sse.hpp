#pragma once

// The server-sent events bridge's side of the protocol (PROTOCOL §5): which
// events it carries and how one is framed. Frames are encoded once per
// event by the router and shared by every SSE connection.

#include "protocol/event.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol::sse {

/// The largest `data:` JSON sent whole; larger ones are truncated, and
/// skipped when even truncated they are larger (the seed's
/// MAX_PAYLOAD_BYTES, measured in UTF-8 bytes as the seed measures).
inline constexpr std::size_t max_data_bytes = 4096;

/// `sales.*` against `sales.order`: `*` is exactly one dot-separated part,
/// `*` alone matches everything (the seed's matchEventPattern).
bool event_type_matches(std::string_view pattern, std::string_view type);

/// Dot-separated parts of `[A-Za-z0-9_-]`, each possibly a whole `*`;
/// 1 to 128 bytes.
bool valid_event_type_pattern(std::string_view pattern);

/// True when any pattern matches; an empty list matches everything.
bool any_matches(const std::vector<std::string>& patterns,
                 std::string_view type);

/// Whether the bridge carries the event: broadcast (flag or declared
/// event_type) and with a tenant.
bool carries(const event& ev, const std::vector<std::string>& declared);

/// The `data:` JSON: `{"id":<event_type>,"payload":<data>,"timestamp":<ms>,
/// "organizationId":<first org or "">}` plus `"trace"` when the event has
/// one; `truncated` replaces the payload by `{"truncated":true}` with the
/// payload's string `id`, `entityId` and `entityType` (trimmed, when not
/// empty).
std::string encode_data(const event& ev, bool truncated);

struct encoded {
  std::string frame;
  bool truncated = false;
};

/// The whole frame, `id: <pos>\ndata: <json>\n\n`, truncated when needed;
/// nullopt when even the truncated form passes max_data_bytes.
std::optional<encoded> encode_frame(const event& ev);

/// A named event carrying JSON: `event: <name>\ndata: <json>\n\n`.
std::string encode_named(std::string_view name, std::string_view json);

/// `:heartbeat\n\n`
inline constexpr std::string_view heartbeat = ":heartbeat\n\n";

} // namespace herald::protocol::sse
