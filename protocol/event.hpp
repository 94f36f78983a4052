#pragma once

#include "protocol/audience.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace herald::protocol {

/// One published event (PROTOCOL §1), immutable once the router has stamped
/// it. Travels between actors as `event_ptr`: never copied per subscriber.
struct event {
  std::string id;           ///< publisher's id, or a UUIDv4 made by the node
  std::string topic;        ///< concrete topic; may be empty for broadcast-only
  std::string event_type;   ///< dotted name, e.g. `call.status`
  int64_t timestamp_us = 0; ///< when the node accepted it, µs since epoch
  std::string data_json;    ///< the payload object, as compact JSON text
  audience aud;             ///< explicit, or read from the payload
  bool broadcast = false;   ///< also offered to the SSE bridge
  std::string trace_json;   ///< the `trace` object as compact JSON, or empty
  uint64_t seq = 0;         ///< the owner's sequence, set by the owner's router
  std::string owner;        ///< the owner's epoch (docs/cluster.md)
  std::string pos;          ///< position string carried by every frame
  /// The `/ws` frame as wire bytes (RFC 6455 header and JSON text),
  /// encoded once by the router and shared by every receiver.
  std::shared_ptr<const std::string> ws_frame;
  /// The SSE frame (`id:` and `data:` lines) for events the SSE bridge
  /// carries; null when it carries none of this event (not broadcast, no
  /// tenant, or too large even truncated).
  std::shared_ptr<const std::string> sse_frame;
  /// The envelope endpoint's wire frame (docs/schemas.md); null when the
  /// event is not one of that endpoint's.
  std::shared_ptr<const std::string> envelope_frame;
  /// The target user a publish named (top-level user_id or data.user_id),
  /// or empty.
  std::string user_id;
  /// Validated against an envelope-bound schema: the envelope endpoint
  /// carries it.
  bool envelope = false;
};

using event_ptr = std::shared_ptr<const event>;

} // namespace herald::protocol
