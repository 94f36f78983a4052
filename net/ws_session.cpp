#include "net/ws_session.hpp"

#include "actors/connection.hpp"
#include "net/http_util.hpp"
#include "net/log.hpp"

#include <caf/all.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

namespace herald::net {

namespace asio = boost::asio;
namespace ws = protocol::ws;
using protocol::closed_atom;

namespace {

// One gather write carries at most this much: bounded iovec count and
// time on the strand, whatever the backlog.
constexpr std::size_t max_gather_frames = 256;
constexpr std::size_t max_gather_bytes = 256 * 1024;

const actors::frame_ptr& ping_frame() {
  static const auto frame = std::make_shared<const std::string>(
      ws::encode_frame(ws::opcode::ping, {}));
  return frame;
}

} // namespace

ws_session::ws_session(transport_ptr stream, net_context_ptr ctx,
                       protocol::identity who, actors::connection_kind kind)
    : stream_(std::move(stream)), ctx_(std::move(ctx)), who_(std::move(who)),
      kind_(kind), reader_(ctx_->node->settings.limits.max_frame_bytes),
      ping_timer_(stream_->get_executor()),
      close_timer_(stream_->get_executor()),
      max_backlog_(ctx_->node->settings.limits.max_backlog_bytes) {
  peer_ = peer_of(stream_->socket());
}

ws_session::ws_session(transport_ptr stream, net_context_ptr ctx,
                       protocol::identity who, spawner spawn)
    : ws_session(std::move(stream), std::move(ctx), std::move(who)) {
  spawn_ = std::move(spawn);
}

ws_session::~ws_session() = default;

void ws_session::start(std::string accept_key, std::string early) {
  handshake_ = "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: "
               + accept_key + "\r\nServer: herald\r\n\r\n";
  stream_->async_write(asio::buffer(handshake_),
                       [self = shared_from_this(),
                        early = std::move(early)](error_code ec, std::size_t) {
                         self->on_handshake_written(ec);
                         if (!ec && !early.empty())
                           self->consume(early.data(), early.size());
                       });
}

void ws_session::on_handshake_written(error_code ec) {
  std::string{}.swap(handshake_);
  if (ec) {
    log_net()->debug("ws handshake write failed: {}", ec.message());
    return;
  }
  last_heard_ = clock::now();
  // The identity moves to its actor: the session keeps no copy (only the
  // chat presence note, when chat events are on).
  auto user = who_.sub;
  protocol::identity presence_who;
  if (ctx_->chat_events && ctx_->node->settings.chat_events.connections)
    presence_who = who_;
  if (spawn_)
    actor_ = spawn_(shared_from_this(), std::move(who_));
  else
    actor_ =
        actors::spawn_connection(*ctx_->system, ctx_->node, std::move(who_),
                                 shared_from_this(), ctx_->router, kind_);
  ctx_->node->metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
  ctx_->sessions.add(shared_from_this());
  presence_ = chat_presence::open(*ctx_, presence_who, actor_.id());
  log_net()->debug("ws {} open for user {}", actor_.id(), user);
  arm_ping();
  do_read();
}

// -- reading -----------------------------------------------------------------

void ws_session::do_read() {
  stream_->read_loop([self = shared_from_this()](
                         error_code ec, const char* data, std::size_t size) {
    return self->on_data(ec, data, size);
  });
}

bool ws_session::on_data(error_code ec, const char* data, std::size_t size) {
  if (finished_)
    return false;
  if (ec) {
    finish(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
               ? "peer closed the connection"
               : ec.message().c_str());
    return false;
  }
  consume(data, size);
  return !finished_;
}

void ws_session::consume(const char* data, std::size_t size) {
  if (finished_)
    return;
  last_heard_ = clock::now();
  // After the peer's close frame, or once the stream failed, whatever the
  // peer sends is read only to be dropped (RFC 6455 §5.5.1, §7.1.7).
  if (peer_closed_ || reader_.failed())
    return;
  std::vector<ws::message> messages;
  reader_.feed(data, size, messages);
  for (auto& m : messages) {
    switch (m.what) {
    case ws::message::kind::text:
      caf::anon_send(actor_, protocol::frame_atom::value, std::move(m.payload));
      break;
    case ws::message::kind::binary:
      caf::anon_send(actor_, protocol::binary_atom::value);
      break;
    case ws::message::kind::ping:
      if (!close_queued_)
        enqueue_control(ws::encode_frame(ws::opcode::pong, m.payload));
      break;
    case ws::message::kind::pong:
      break; // last_heard_ is all a pong is for
    case ws::message::kind::close:
      peer_closed_ = true;
      if (close_sent_) {
        finish("close handshake complete");
        return;
      }
      {
        // Echo the peer's code (RFC 6455 §5.5.1), 1000 when it sent none.
        std::lock_guard<std::mutex> guard{mutex_};
        if (!closing_) {
          closing_ = true;
          close_code_ =
              m.close_code == 1005 ? ws::close_code::normal : m.close_code;
          close_reason_.clear();
        }
      }
      begin_closing();
      return;
    }
  }
  if (reader_.failed()) {
    log_net()->debug("ws {} protocol error: {}", actor_.id(),
                     reader_.error_reason());
    {
      std::lock_guard<std::mutex> guard{mutex_};
      closing_ = true;
      forced_ = true;
      close_code_ = reader_.error_code();
      close_reason_ = reader_.error_reason();
    }
    begin_closing();
  }
}

// -- writing -----------------------------------------------------------------

bool ws_session::send(actors::frame_ptr frame) {
  bool post_flush = false;
  std::size_t dropped = 0;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (closing_)
      return false;
    if (backlog_bytes_ + frame->size() > max_backlog_) {
      // A slow consumer: drop what has not started writing and close with
      // 1013. Nothing here waits for the socket, so nobody else slows down.
      closing_ = true;
      forced_ = true;
      close_code_ = ws::close_code::try_again_later;
      close_reason_ = "slow consumer: backlog bound exceeded";
      dropped = pending_.size() + 1;
      for (auto& f : pending_)
        backlog_bytes_ -= f->size();
      pending_.clear();
    } else {
      backlog_bytes_ += frame->size();
      pending_.push_back(std::move(frame));
      if (!flush_posted_)
        post_flush = flush_posted_ = true;
    }
  }
  if (dropped > 0) {
    auto& metrics = ctx_->node->metrics;
    metrics.slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
    metrics.drops.fetch_add(dropped, std::memory_order_relaxed);
    log_net()->info("ws {} closed as slow consumer", actor_.id());
    asio::post(stream_->get_executor(),
               [self = shared_from_this()] { self->begin_closing(); });
    return false;
  }
  if (post_flush)
    asio::post(stream_->get_executor(),
               [self = shared_from_this()] { self->do_flush(); });
  return true;
}

void ws_session::close(uint16_t code, std::string reason) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (closing_)
      return;
    closing_ = true;
    forced_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
  }
  asio::post(stream_->get_executor(),
             [self = shared_from_this()] { self->begin_closing(); });
}

void ws_session::abort() {
  asio::post(stream_->get_executor(),
             [self = shared_from_this()] { self->finish("node shutdown"); });
}

void ws_session::enqueue_control(std::string frame) {
  queue_.push_back({std::make_shared<const std::string>(std::move(frame)),
                    queued::kind::control});
  write_next();
}

void ws_session::do_flush() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    flush_posted_ = false;
  }
  write_next();
}

void ws_session::write_next() {
  if (write_in_flight_ || finished_ || close_sent_)
    return;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& f : pending_)
      queue_.push_back({std::move(f), queued::kind::data});
    pending_.clear();
  }
  if (queue_.empty())
    return;
  // Everything queued since the last write, in one gather write.
  std::size_t bytes = 0;
  std::size_t taken = 0;
  buffers_.clear();
  while (taken < queue_.size() && taken < max_gather_frames
         && (bytes == 0
             || bytes + queue_[taken].frame->size() <= max_gather_bytes)) {
    auto& item = queue_[taken++];
    bytes += item.frame->size();
    buffers_.emplace_back(item.frame->data(), item.frame->size());
    bool is_close = item.what == queued::kind::close;
    in_flight_.push_back(std::move(item));
    if (is_close) {
      taken = queue_.size(); // nothing follows a close frame
      break;
    }
  }
  queue_.erase(queue_.begin(),
               queue_.begin() + static_cast<std::ptrdiff_t>(taken));
  write_in_flight_ = true;
  stream_->async_write(
      buffers_, [self = shared_from_this()](error_code ec, std::size_t n) {
        self->on_write(ec, n);
      });
}

void ws_session::on_write(error_code ec, std::size_t) {
  write_in_flight_ = false;
  if (ec) {
    finish(ec.message().c_str());
    return;
  }
  uint64_t data_bytes = 0;
  bool wrote_close = false;
  for (auto& item : in_flight_) {
    if (item.what == queued::kind::data)
      data_bytes += item.frame->size();
    wrote_close |= item.what == queued::kind::close;
  }
  in_flight_.clear();
  if (data_bytes > 0) {
    std::lock_guard<std::mutex> guard{mutex_};
    backlog_bytes_ -= data_bytes;
  }
  if (wrote_close) {
    close_sent_ = true;
    if (peer_closed_) {
      finish("close handshake complete");
    } else if (reader_.failed()) {
      // A failed connection waits for no close frame (the reader is done):
      // end our side now, so the peer sees TCP end at once, and drain what
      // it still sends until it ends its side or the timer fires. Closing
      // with unread bytes would reset the connection instead.
      stream_->shutdown_send();
    }
    // Otherwise keep reading until the peer's close frame or the timer.
    return;
  }
  write_next();
}

// -- closing -----------------------------------------------------------------

void ws_session::begin_closing() {
  if (finished_ || close_queued_)
    return;
  uint16_t code;
  std::string reason;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    code = close_code_;
    reason = close_reason_;
  }
  if (code == ws::close_code::try_again_later) {
    // A slow consumer gets no more of its backlog: only the write already
    // in flight finishes, then the close frame.
    uint64_t dropped = 0;
    std::vector<queued> kept;
    for (auto& item : queue_)
      if (item.what == queued::kind::data)
        dropped += item.frame->size();
      else
        kept.push_back(std::move(item));
    queue_.swap(kept);
    std::lock_guard<std::mutex> guard{mutex_};
    backlog_bytes_ -= dropped;
  }
  // A peer that stopped reading may never let the close frame out: bound
  // the wait, then drop the TCP connection.
  if (!close_timer_armed_) {
    close_timer_armed_ = true;
    close_timer_.expires_after(
        std::chrono::milliseconds(ctx_->node->settings.ws.close_timeout_ms));
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec)
        self->finish("close timed out");
    });
  }
  close_queued_ = true;
  // Frames the actor queued before closing still go first.
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& f : pending_)
      queue_.push_back({std::move(f), queued::kind::data});
    pending_.clear();
  }
  queue_.push_back(
      {std::make_shared<const std::string>(ws::encode_close(code, reason)),
       queued::kind::close});
  write_next();
}

void ws_session::finish(const char* why) {
  if (finished_)
    return;
  finished_ = true;
  bool was_closing, forced;
  uint16_t code;
  std::string reason;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    was_closing = closing_;
    forced = forced_;
    code = close_code_;
    reason = close_reason_;
    closing_ = true;
    pending_.clear();
    backlog_bytes_ = 0;
  }
  queue_.clear();
  ping_timer_.cancel();
  close_timer_.cancel();
  // After a complete close handshake TLS also says close_notify, within
  // ws.close_timeout_ms; otherwise the connection just closes.
  stream_->close(
      std::string_view{why} == "close handshake complete",
      std::chrono::milliseconds(ctx_->node->settings.ws.close_timeout_ms));
  log_net()->debug("ws {} finished: {}", actor_.id(), why);
  if (presence_) {
    if (!was_closing) // dropped without a close handshake
      presence_->closed(*ctx_, why,
                        std::string_view{why} == "node shutdown"
                            ? ws::close_code::going_away
                            : 1006,
                        std::string_view{why} == "node shutdown");
    else
      presence_->closed(*ctx_,
                        !reason.empty() ? reason
                        : forced        ? why
                                        : "client closed",
                        code, forced);
    presence_.reset();
  }
  if (actor_)
    caf::anon_send(actor_, closed_atom::value);
  ctx_->sessions.remove(this);
}

// -- keep-alive --------------------------------------------------------------

void ws_session::arm_ping() {
  ping_timer_.expires_after(
      std::chrono::milliseconds(ctx_->node->settings.ws.ping_interval_ms));
  ping_timer_.async_wait(
      [self = shared_from_this()](error_code ec) { self->on_ping_timer(ec); });
}

void ws_session::on_ping_timer(error_code ec) {
  if (ec || finished_)
    return;
  auto silent = clock::now() - last_heard_;
  if (silent
      > std::chrono::milliseconds(ctx_->node->settings.ws.pong_timeout_ms)) {
    log_net()->debug("ws {} did not answer pings", actor_.id());
    close(ws::close_code::going_away, "ping timeout");
    return;
  }
  if (!close_queued_) {
    queue_.push_back({ping_frame(), queued::kind::control});
    write_next();
  }
  arm_ping();
}

} // namespace herald::net
