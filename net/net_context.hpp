#pragma once

// What every listener and session of a node shares: the node context, the
// router's handle, the token verifier, readiness, and the live sessions.

#include "actors/chat_events.hpp"
#include "actors/handles.hpp"
#include "actors/inspector.hpp"
#include "actors/node_context.hpp"
#include "net/live_session.hpp"
#include "protocol/jwt.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace herald::net {

/// The live WebSocket and SSE sessions, so that shutdown can close them.
class session_registry {
public:
  void add(const std::shared_ptr<live_session>& session);
  void remove(const live_session* session);
  std::size_t size() const;
  /// Starts a close handshake with `code` on every live session.
  void close_all(uint16_t code, const std::string& reason);
  /// Drops every live session's socket at once (shutdown, after the grace
  /// period): each tells its connection actor it is gone.
  void abort_all();

private:
  mutable std::mutex mutex_;
  std::unordered_map<const live_session*, std::weak_ptr<live_session>>
      sessions_;
};

struct net_context {
  actors::context_ptr node;
  actors::router_actor router;
  caf::actor_system* system = nullptr;
  protocol::jwt_verifier verifier;
  std::atomic<bool> ready{false};
  session_registry sessions;
  /// userConnected / userDisconnected go here (null: none are emitted).
  actors::chat_events_actor chat_events;
  /// The admin API's answers (docs/console.md).
  actors::inspector_actor inspector;
};

using net_context_ptr = std::shared_ptr<net_context>;

} // namespace herald::net
