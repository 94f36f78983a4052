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

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
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

/// Counts the public listener's connections, in all and per client
/// address (limits.max_connections, limits.max_connections_per_ip;
/// docs/limits.md), from accept until the socket closes, whichever session
/// holds it by then. Cost: one mutex and, with a per-address limit, one
/// hash lookup per accept and per close; nothing per request or message.
class connection_gate : public std::enable_shared_from_this<connection_gate> {
public:
  enum class verdict { admitted, node_full, address_full };

  /// 0 for either: no such limit.
  connection_gate(uint32_t max_total, uint32_t max_per_address);

  /// A slot for a connection from `peer`, held until the connection
  /// closes (its last holder drops it); null when a limit is reached, and
  /// `why` says which.
  std::shared_ptr<void> admit(const boost::asio::ip::address& peer,
                              verdict& why);

  std::size_t open() const;
  uint32_t max_total() const { return max_total_; }
  /// Refusals so far, by limit.
  uint64_t refused_node_full() const {
    return refused_total_.load(std::memory_order_relaxed);
  }
  uint64_t refused_address_full() const {
    return refused_address_.load(std::memory_order_relaxed);
  }

private:
  void release(const std::string& key);

  const uint32_t max_total_;
  const uint32_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t open_ = 0;
  /// Open connections by address (its bytes, v4-mapped v6 as v4); kept
  /// only with a per-address limit.
  std::unordered_map<std::string, uint32_t> per_address_;
  std::atomic<uint64_t> refused_total_{0};
  std::atomic<uint64_t> refused_address_{0};
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
  /// The public listener's connection limits; null: none.
  std::shared_ptr<connection_gate> gate;
};

using net_context_ptr = std::shared_ptr<net_context>;

} // namespace herald::net
