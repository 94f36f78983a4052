#pragma once

// What shutdown needs of every long-lived session (WebSocket or SSE).

#include <cstdint>
#include <string>

namespace herald::net {

class live_session {
public:
  virtual ~live_session() = default;
  /// Starts an orderly close (a WebSocket close frame with `code`, the end
  /// of an SSE stream).
  virtual void shutdown_close(uint16_t code, const std::string& reason) = 0;
  /// Drops the socket at once (end of the shutdown grace period).
  virtual void abort() = 0;
};

} // namespace herald::net
