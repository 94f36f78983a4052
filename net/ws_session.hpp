#pragma once

// A WebSocket session on `/ws`, in the style of Beast's examples: one
// strand, do_x/on_x, one write in flight. It is its connection actor's
// outbound_sink: the actor queues frames from any thread; the strand writes
// whatever has queued since its last write.

#include "actors/outbound_sink.hpp"
#include "net/net_context.hpp"
#include "protocol/identity.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace herald::net {

class ws_session : public actors::outbound_sink,
                   public std::enable_shared_from_this<ws_session> {
public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;

  ws_session(boost::asio::ip::tcp::socket&& socket, net_context_ptr ctx,
             protocol::identity who);
  ~ws_session() override;

  /// Accepts the upgrade `req`, then spawns the connection actor.
  void run(request req);

  bool send(actors::frame_ptr frame) override;
  void close(uint16_t code, std::string reason) override;

  /// Drops the socket without a close handshake (end of shutdown).
  void abort();

private:
  using error_code = boost::beast::error_code;
  using clock = std::chrono::steady_clock;

  void on_accept(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t bytes);
  void do_flush();
  void write_next();
  void on_write(error_code ec, std::size_t bytes);
  void begin_closing();
  void start_close();
  void on_close(error_code ec);
  void arm_ping();
  void on_ping_timer(error_code ec);
  void finish(const char* why);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  net_context_ptr ctx_;
  protocol::identity who_;
  actors::connection_actor actor_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer close_timer_;
  uint64_t max_backlog_;

  // Shared with the actor's thread, guarded by mutex_.
  std::mutex mutex_;
  std::vector<actors::frame_ptr> pending_;
  uint64_t backlog_bytes_ = 0; ///< pending_ plus writing_, not yet written
  bool flush_posted_ = false;
  bool closing_ = false; ///< no more frames accepted
  uint16_t close_code_ = 1000;
  std::string close_reason_;

  // Strand only.
  std::deque<actors::frame_ptr> writing_;
  bool write_in_flight_ = false;
  bool ping_due_ = false;
  bool close_started_ = false;
  bool close_timer_armed_ = false;
  bool finished_ = false;
  clock::time_point last_heard_;
};

} // namespace herald::net
