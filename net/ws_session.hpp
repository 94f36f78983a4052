#pragma once

// A WebSocket session on `/ws`: the connection actor's outbound_sink. The
// session owns its RFC 6455 framing (protocol/ws_codec) instead of using
// Beast's stream, for two reasons that matter at scale:
// - frames arrive already encoded (an event's wire frame is built once by
//   the router and shared by every receiver), and everything queued since
//   the last write goes out in one gather write;
// - an idle session holds no read buffer: it waits for readability and
//   reads into a per-thread buffer, keeping only an incomplete frame (over
//   TLS the transport holds a small one; net/transport.hpp).
// Plain TCP or TLS, through a transport. Everything touching it runs on
// the session's strand.

#include "actors/connection.hpp"
#include "actors/outbound_sink.hpp"
#include "net/chat_presence.hpp"
#include "net/live_session.hpp"
#include "net/net_context.hpp"
#include "net/transport.hpp"
#include "protocol/identity.hpp"
#include "protocol/ws_codec.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::net {

class ws_session : public actors::outbound_sink,
                   public live_session,
                   public std::enable_shared_from_this<ws_session> {
public:
  /// `kind`: the frames the connection takes (`/ws` or `/ws/events`).
  ws_session(transport_ptr stream, net_context_ptr ctx, protocol::identity who,
             actors::connection_kind kind = actors::connection_kind::ws);

  /// Spawns the session's actor once the handshake is out.
  using spawner = std::function<actors::session_actor(actors::sink_ptr,
                                                      protocol::identity)>;

  /// A channel endpoint's session (`/api/v69/ws/<name>`): `spawn` makes
  /// its actor.
  ws_session(transport_ptr stream, net_context_ptr ctx, protocol::identity who,
             spawner spawn);
  ~ws_session() override;

  /// Writes the 101 answer (with `accept_key`), then spawns the connection
  /// actor and starts reading. `early` holds bytes the client sent after
  /// its upgrade request, already read by the HTTP session.
  void start(std::string accept_key, std::string early);

  bool send(actors::frame_ptr frame) override;
  void close(uint16_t code, std::string reason) override;

  void shutdown_close(uint16_t code, const std::string& reason) override {
    close(code, reason);
  }

  /// Drops the socket without a close handshake (end of shutdown).
  void abort() override;
  std::string peer_address() const override { return peer_; }

private:
  using error_code = boost::beast::error_code;
  using clock = std::chrono::steady_clock;

  void on_handshake_written(error_code ec);
  void do_read();
  /// The read loop's handler; false: stop reading.
  bool on_data(error_code ec, const char* data, std::size_t size);
  void consume(const char* data, std::size_t size);
  void enqueue_control(std::string frame);
  void do_flush();
  void write_next();
  void on_write(error_code ec, std::size_t bytes);
  void begin_closing();
  void arm_ping();
  void on_ping_timer(error_code ec);
  void finish(const char* why);

  transport_ptr stream_;
  net_context_ptr ctx_;
  std::string peer_; ///< "ip:port", read at accept
  protocol::identity who_;
  actors::connection_kind kind_;
  spawner spawn_; ///< empty: a `/ws` connection actor of kind_
  actors::session_actor actor_;
  protocol::ws::reader reader_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer close_timer_;
  uint64_t max_backlog_;
  std::string handshake_;

  // Shared with the actor's thread, guarded by mutex_.
  std::mutex mutex_;
  std::vector<actors::frame_ptr> pending_;
  uint64_t backlog_bytes_ = 0; ///< data frames queued, not yet written
  bool flush_posted_ = false;
  bool closing_ = false; ///< no more data frames accepted
  uint16_t close_code_ = protocol::ws::close_code::normal;
  std::string close_reason_;
  bool forced_ = false; ///< the node, not the peer, began the close

  // Strand only.
  struct queued {
    actors::frame_ptr frame;
    enum class kind : uint8_t { data, control, close } what;
  };
  // A vector, not a deque: libstdc++'s deque allocates ~600 bytes when
  // constructed, for every idle connection.
  std::vector<queued> queue_;                      ///< to write, in order
  std::vector<queued> in_flight_;                  ///< the write under way
  std::vector<boost::asio::const_buffer> buffers_; ///< its gather list
  bool write_in_flight_ = false;
  bool close_queued_ = false; ///< our close frame is in queue_
  bool close_sent_ = false;   ///< our close frame has been written
  bool peer_closed_ = false;  ///< the peer's close frame arrived
  bool close_timer_armed_ = false;
  bool finished_ = false;
  clock::time_point last_heard_;
  std::unique_ptr<chat_presence> presence_; ///< null: no chat events
};

} // namespace herald::net
