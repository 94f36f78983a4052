#pragma once

// What a connection actor writes to. Implemented by the net layer's
// sessions; the actor never sees a socket.

#include <cstdint>
#include <memory>
#include <string>

namespace herald::actors {

using frame_ptr = std::shared_ptr<const std::string>;

class outbound_sink {
public:
  virtual ~outbound_sink() = default;

  /// Queues a text frame. Thread-safe and never blocks. Returns false when
  /// the frame was not queued: the session is closing, or its backlog bound
  /// was passed (the session then closes itself with 1013 and counts it).
  virtual bool send(frame_ptr frame) = 0;

  /// Sends what is queued, then closes with `code`. Thread-safe.
  virtual void close(uint16_t code, std::string reason) = 0;

  /// The connection is attached to its fan-out (the router answered its
  /// join): from now on nothing routed can miss it. An SSE stream only
  /// answers its request then, so a client that sees the stream open
  /// never loses an event published after that. Thread-safe.
  virtual void ready() {}

  /// The client's address as "ip:port" (the console's detail.remote);
  /// fixed at accept, so reading it needs no lock. Empty when unknown.
  virtual std::string peer_address() const { return {}; }
};

using sink_ptr = std::shared_ptr<outbound_sink>;

} // namespace herald::actors
