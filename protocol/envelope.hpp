#pragma once

// The envelope frame of seeds/websocket-event.schema.json (docs/schemas.md):
// what the envelope endpoint sends for events validated against an
// envelope-bound schema, and what such a schema is applied to at publish.

#include "protocol/event.hpp"

#include <string>

namespace herald::protocol {

/// `{"event_type":..,"event_id":<id>,"timestamp":"<ISO-8601 UTC with
/// microseconds, as on /ws>","user_id":..,"data":{..}}` and nothing else;
/// `user_id` only when the event targets one user (`ev.user_id`), `data`
/// embedded as it is (already compact JSON; `{}` when empty).
std::string encode_envelope_event(const event& ev);

} // namespace herald::protocol
