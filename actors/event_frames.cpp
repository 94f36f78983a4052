#include "actors/event_frames.hpp"

#include "protocol/envelope.hpp"
#include "protocol/frames.hpp"
#include "protocol/sse.hpp"
#include "protocol/ws_codec.hpp"

namespace herald::actors {

using namespace protocol;

void encode_event_frames(const config::settings& settings,
                         node_metrics& metrics, event& ev) {
  ev.ws_frame = std::make_shared<const std::string>(
      ws::encode_frame(ws::opcode::text, encode_ws_event(ev)));
  ev.envelope_frame = nullptr;
  if (ev.envelope)
    ev.envelope_frame = std::make_shared<const std::string>(
        ws::encode_frame(ws::opcode::text, encode_envelope_event(ev)));
  ev.sse_frame = nullptr;
  if (sse::carries(ev, settings.sse.broadcast_event_types)) {
    if (auto encoded = sse::encode_frame(ev)) {
      ev.sse_frame =
          std::make_shared<const std::string>(std::move(encoded->frame));
      if (encoded->truncated)
        metrics.sse_truncated.fetch_add(1, std::memory_order_relaxed);
    } else {
      metrics.sse_skipped.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

} // namespace herald::actors
