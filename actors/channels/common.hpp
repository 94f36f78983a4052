#pragma once

// What the built-in channels share (docs/channels.md): their handles, the
// client table, replies and the admin check.

#include "actors/channel.hpp"
#include "actors/health_types.hpp"
#include "actors/instrument.hpp"
#include "protocol/channel_frame.hpp"
#include "protocol/frames.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace herald::actors::channels {

/// A built-in channel that also listens to the health board.
using health_channel_actor = channel_actor::extend_with<health_listener_actor>;

/// The monitor channel: one with a timer too.
using ticking_channel_actor =
    health_channel_actor::extend<caf::reacts_to<protocol::tick_atom>>;

/// A channel that only speaks to its clients (the drill).
using plain_channel_actor = channel_actor;

inline bool is_admin(const protocol::identity& who) {
  return std::find(who.roles.begin(), who.roles.end(), "admin")
         != who.roles.end();
}

/// What an answer needs of its request, kept past the request itself (in
/// a response handler).
struct request_tag {
  std::string type;
  std::optional<std::string> id;
};

inline request_tag tag(const protocol::channel_request& req) {
  return {req.type, req.id};
}

/// Sends `frame` to one client.
template <class Self>
void reply(Self* self, const channel_client& to, frame_ptr frame) {
  self->send(to.handle, protocol::push_atom::value, std::move(frame));
}

/// Answers `req` with a frame of `type` carrying `data_json`.
template <class Self>
void answer(Self* self, const channel_client& to, std::string_view type,
            std::string_view data_json, const request_tag& req) {
  reply(self, to, channel_frame(type, data_json, req.id));
}

/// Answers a request with an error frame (and counts it).
template <class Self>
void refuse(Self* self, const context_ptr& ctx, const channel_client& to,
            std::string_view code, std::string_view message,
            const request_tag& req) {
  ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
  reply(self, to, channel_error(code, message, req.type, req.id));
}

/// Parses a client's frame; on failure answers INVALID_MESSAGE and returns
/// none.
template <class Self>
std::optional<protocol::channel_request>
read_request(Self* self, const context_ptr& ctx, const channel_client& from,
             std::string_view text) {
  auto parsed = protocol::parse_channel_request(text);
  if (auto* err = std::get_if<protocol::channel_request_error>(&parsed)) {
    ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
    reply(self, from,
          channel_error(protocol::codes::invalid_message, err->message,
                        err->type));
    return std::nullopt;
  }
  return std::move(std::get<protocol::channel_request>(parsed));
}

/// A string field the request must carry; refuses it when missing.
template <class Self>
std::optional<std::string>
required_string(Self* self, const context_ptr& ctx, const channel_client& to,
                const protocol::channel_request& req, const char* key) {
  auto v = req.string_field(key);
  if (!v || v->empty() || v->size() > 128)
    refuse(self, ctx, to, protocol::codes::invalid_message,
           std::string{"'"} + key + "' must be a string of 1 to 128 bytes",
           tag(req));
  else
    return v;
  return std::nullopt;
}

/// The answer to a board request that failed.
template <class Self>
void refuse_error(Self* self, const context_ptr& ctx, const channel_client& to,
                  const caf::error& err, const request_tag& req,
                  const std::string& service) {
  if (is(err, health_errc::unknown_service))
    refuse(self, ctx, to, protocol::channel_codes::not_found,
           "unknown service '" + service + "'", req);
  else
    refuse(self, ctx, to, protocol::channel_codes::unavailable,
           "not available now: " + self->system().render(err), req);
}

/// Forgets the client whose actor is `who` (it died without saying so);
/// `handle_of` reads a client's handle from a map value.
template <class Map, class HandleOf>
void erase_client(Map& clients, const caf::actor_addr& who,
                  HandleOf handle_of) {
  for (auto it = clients.begin(); it != clients.end(); ++it)
    if (handle_of(it->second).address() == who) {
      clients.erase(it);
      return;
    }
}

/// Spawn functions of the built-in channels, for the channels' supervisor.
caf::actor spawn_circuit_breaker_channel(caf::actor_system& sys,
                                         context_ptr ctx, health_actor health,
                                         uint64_t parent);
caf::actor spawn_monitor_channel(caf::actor_system& sys, context_ptr ctx,
                                 health_actor health, uint64_t parent);
caf::actor spawn_drill_channel(caf::actor_system& sys, context_ptr ctx,
                               uint64_t parent);

} // namespace herald::actors::channels
