#pragma once

// userConnected and userDisconnected (docs/chat-events.md) for one
// WebSocket or SSE session. A session holds one only while
// chat_events.connections is on: off, it costs the session one null
// pointer.

#include "net/net_context.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace herald::net {

class chat_presence {
public:
  /// Emits userConnected and returns the note userDisconnected needs;
  /// null when the node emits no connection events.
  static std::unique_ptr<chat_presence>
  open(net_context& ctx, const protocol::identity& who, uint64_t actor_id);

  /// Emits userDisconnected: `forced` when the node ended the session
  /// (a limit, a slow consumer, a missed ping, shutdown), `code` its close
  /// code (1006 when the connection just dropped).
  void closed(net_context& ctx, std::string reason, int code, bool forced);

private:
  std::string user_id_;
  std::string client_id_;
  std::string session_id_;
  std::string trace_id_; ///< one trace for both events of a session
};

} // namespace herald::net
