#pragma once

#include "config/settings.hpp"
#include "protocol/event.hpp"
#include "protocol/metrics.hpp"

namespace herald::actors {

/// Encodes each frame format of an event for its `pos`: the `/ws` frame,
/// the envelope frame when it is one, the SSE frame when the bridge
/// carries it (counting truncations and skips). Once per event and node,
/// and again only for the rare copy whose position must change.
void encode_event_frames(const config::settings& settings,
                         protocol::node_metrics& metrics, protocol::event& ev);

} // namespace herald::actors
