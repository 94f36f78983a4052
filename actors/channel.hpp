#pragma once

// Channel endpoints, `/api/v69/ws/<name>` (PROTOCOL §7, docs/channels.md).
//
// A channel actor owns one endpoint's vocabulary and state. Each WebSocket
// session on the endpoint has its own channel client actor (the
// connection of a channel session): it owns the identity and the rate
// budget, hands the channel the frames that pass, and writes what the
// channel pushes to its socket. A client watches its channel: when the
// channel dies, its sessions are closed with 1011 and reconnect to the
// restarted one (or find the endpoint answering 503 once it is tripped).
//
// The channels' supervisor keeps the directory (node_context.hpp) that the
// HTTP side reads at upgrade time.

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "protocol/identity.hpp"
#include "protocol/messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace herald::actors {

/// Spawns the actor of a channel session; it opens itself to `channel`.
channel_client_actor spawn_channel_client(caf::actor_system& sys,
                                          context_ptr ctx, std::string channel,
                                          channel_actor handle,
                                          protocol::identity who,
                                          sink_ptr sink);

/// A channel's reply or push (PROTOCOL §7) as a shared WebSocket text
/// frame, ready for a session's sink.
frame_ptr channel_frame(std::string_view type, std::string_view data_json,
                        const std::optional<std::string>& id = {});

/// An error frame (docs/channels.md).
frame_ptr channel_error(std::string_view code, std::string_view message,
                        std::string_view request_type,
                        const std::optional<std::string>& id = {},
                        std::string_view frame_type = "error");

} // namespace herald::actors
