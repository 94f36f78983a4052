#pragma once

// A server-sent events stream on `/api/events/stream` (PROTOCOL §5): the
// SSE connection actor's outbound_sink. The response is chunked HTTP/1.1;
// each write is one chunk holding every frame queued since the last one
// (frames are encoded once per event by the router and shared). The
// client sends nothing after its request: reading only tells us it left.
// Plain TCP or TLS, through a transport (net/transport.hpp). Everything
// touching it runs on the session's strand.

#include "actors/connection.hpp"
#include "actors/outbound_sink.hpp"
#include "net/chat_presence.hpp"
#include "net/live_session.hpp"
#include "net/net_context.hpp"
#include "net/transport.hpp"
#include "protocol/identity.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::net {

class sse_session : public actors::outbound_sink,
                    public live_session,
                    public std::enable_shared_from_this<sse_session> {
public:
  sse_session(transport_ptr stream, net_context_ptr ctx, protocol::identity who,
              actors::sse_options opts);

  /// Makes the actor that writes to a stream of another kind (the admin
  /// API's streams, docs/console.md): it calls ready() to open it.
  using spawner = std::function<actors::connection_actor(actors::sink_ptr)>;
  sse_session(transport_ptr stream, net_context_ptr ctx, spawner spawn);
  ~sse_session() override;

  /// Spawns the connection actor; the response head goes out once it is
  /// attached to its tenant's fan-out (ready()).
  void start();

  void ready() override;

  bool send(actors::frame_ptr frame) override;
  /// Ends the stream (the code and reason have no SSE form; logged).
  void close(uint16_t code, std::string reason) override;

  void shutdown_close(uint16_t code, const std::string& reason) override {
    close(code, reason);
  }
  void abort() override;
  std::string peer_address() const override { return peer_; }

private:
  using error_code = boost::beast::error_code;

  void on_head_written(error_code ec);
  void do_read();
  bool on_data(error_code ec);
  void do_flush();
  void write_next();
  void on_write(error_code ec);
  void arm_heartbeat();
  void arm_close_deadline();
  void finish(const char* why);

  transport_ptr stream_;
  net_context_ptr ctx_;
  std::string peer_; ///< "ip:port", read at accept
  protocol::identity who_;
  actors::sse_options opts_;
  spawner spawn_;
  actors::connection_actor actor_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer close_timer_; ///< bounds the end's write
  uint64_t max_backlog_;
  std::string head_;

  // Shared with the actor's thread, guarded by mutex_.
  std::mutex mutex_;
  std::vector<actors::frame_ptr> pending_;
  uint64_t backlog_bytes_ = 0;
  bool flush_posted_ = false;
  bool closing_ = false;
  bool forced_ = false; ///< the node ended the stream (guarded by mutex_)
  uint16_t close_code_ = 1000;

  // Strand only.
  std::vector<actors::frame_ptr> queue_;
  std::vector<actors::frame_ptr> in_flight_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::string chunk_head_; ///< the hex size line of the chunk in flight
  uint64_t in_flight_data_ = 0;
  bool head_written_ = false; ///< nothing else is written before it
  bool write_in_flight_ = false;
  bool end_sent_ = false;
  bool finished_ = false;
  std::unique_ptr<chat_presence> presence_; ///< null: no chat events
};

} // namespace herald::net
