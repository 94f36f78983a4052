#include "net/sse_session.hpp"

#include "net/http_util.hpp"
#include "net/log.hpp"
#include "protocol/sse.hpp"

#include <caf/all.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include <cstdio>

namespace herald::net {

namespace asio = boost::asio;
using protocol::closed_atom;

namespace {

constexpr std::size_t max_chunk_frames = 256;
constexpr std::size_t max_chunk_bytes = 256 * 1024;

const actors::frame_ptr& heartbeat_frame() {
  static const auto frame =
      std::make_shared<const std::string>(protocol::sse::heartbeat);
  return frame;
}

// The zero-length chunk that ends a chunked body.
const actors::frame_ptr& end_frame() {
  static const auto frame = std::make_shared<const std::string>("0\r\n\r\n");
  return frame;
}

constexpr std::string_view crlf = "\r\n";

} // namespace

sse_session::sse_session(transport_ptr stream, net_context_ptr ctx,
                         protocol::identity who, actors::sse_options opts)
    : stream_(std::move(stream)), ctx_(std::move(ctx)), who_(std::move(who)),
      opts_(std::move(opts)), heartbeat_timer_(stream_->get_executor()),
      close_timer_(stream_->get_executor()),
      max_backlog_(ctx_->node->settings.limits.max_backlog_bytes) {
  peer_ = peer_of(stream_->socket());
}

sse_session::sse_session(transport_ptr stream, net_context_ptr ctx,
                         spawner spawn)
    : stream_(std::move(stream)), ctx_(std::move(ctx)),
      spawn_(std::move(spawn)), heartbeat_timer_(stream_->get_executor()),
      close_timer_(stream_->get_executor()),
      max_backlog_(ctx_->node->settings.limits.max_backlog_bytes) {
  peer_ = peer_of(stream_->socket());
}

sse_session::~sse_session() = default;

void sse_session::start() {
  if (spawn_) {
    // An admin stream: no user of the node's, no chat events.
    actor_ = spawn_(shared_from_this());
    ctx_->sessions.add(shared_from_this());
    log_net()->debug("admin stream {} open", actor_.id());
    do_read();
    return;
  }
  auto user = who_.sub;
  protocol::identity presence_who;
  if (ctx_->chat_events && ctx_->node->settings.chat_events.connections)
    presence_who = who_;
  actor_ = actors::spawn_sse_connection(*ctx_->system, ctx_->node,
                                        std::move(who_), shared_from_this(),
                                        ctx_->router, std::move(opts_));
  ctx_->sessions.add(shared_from_this());
  presence_ = chat_presence::open(*ctx_, presence_who, actor_.id());
  log_net()->debug("sse {} open for user {}", actor_.id(), user);
  do_read();
}

void sse_session::ready() {
  asio::post(stream_->get_executor(), [self = shared_from_this()] {
    if (self->finished_ || self->head_written_ || !self->head_.empty())
      return;
    // PROTOCOL §5's four headers; chunked, since the stream has no length.
    // An admin stream is one the node ends itself (an actor's `gone`), and
    // the socket is closed with it: `Connection: close` keeps a keep-alive
    // client from sending its next request down a socket about to go.
    self->head_ = std::string{"HTTP/1.1 200 OK\r\n"
                              "Content-Type: text/event-stream\r\n"
                              "Cache-Control: no-cache, no-transform\r\n"}
                  + (self->spawn_ ? "Connection: close\r\n"
                                  : "Connection: keep-alive\r\n")
                  + "X-Accel-Buffering: no\r\n"
                    "Transfer-Encoding: chunked\r\n"
                    "Server: herald\r\n\r\n";
    self->write_in_flight_ = true;
    self->stream_->async_write(
        asio::buffer(self->head_),
        [self](error_code ec, std::size_t) { self->on_head_written(ec); });
  });
}

void sse_session::on_head_written(error_code ec) {
  std::string{}.swap(head_);
  write_in_flight_ = false;
  if (ec) {
    finish(ec.message().c_str());
    return;
  }
  head_written_ = true;
  arm_heartbeat();
  do_flush();
}

void sse_session::do_read() {
  stream_->read_loop(
      [self = shared_from_this()](error_code ec, const char*, std::size_t) {
        return self->on_data(ec);
      });
}

bool sse_session::on_data(error_code ec) {
  if (finished_)
    return false;
  // A client sends nothing after its request; bytes are discarded, and the
  // end of the stream means it left.
  if (ec) {
    finish(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
               ? "client left"
               : ec.message().c_str());
    return false;
  }
  return true;
}

bool sse_session::send(actors::frame_ptr frame) {
  bool post_flush = false;
  bool overflow = false;
  std::size_t dropped = 0;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (closing_)
      return false;
    if (backlog_bytes_ + frame->size() > max_backlog_) {
      // A slow consumer: what has not started writing is dropped and the
      // stream ends; its EventSource reconnects with Last-Event-ID.
      closing_ = overflow = true;
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
  if (overflow) {
    auto& metrics = ctx_->node->metrics;
    metrics.slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
    metrics.drops.fetch_add(dropped, std::memory_order_relaxed);
    log_net()->info("sse {} closed as slow consumer", actor_.id());
    close(1013, "slow consumer");
    return false;
  }
  if (post_flush)
    asio::post(stream_->get_executor(),
               [self = shared_from_this()] { self->do_flush(); });
  return true;
}

void sse_session::close(uint16_t code, std::string reason) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!closing_) {
      forced_ = true;
      close_code_ = code;
    }
    closing_ = true;
  }
  asio::post(stream_->get_executor(),
             [self = shared_from_this(), reason = std::move(reason)] {
               if (self->finished_ || self->end_sent_)
                 return;
               log_net()->debug("sse {} ending: {}", self->actor_.id(), reason);
               // Before ready() there is no stream to end. With the head on
               // its way, what follows is queued: on_head_written flushes it.
               if (!self->head_written_ && self->head_.empty()) {
                 self->finish("closed before the stream began");
                 return;
               }
               // Frames queued before the close still go first, then the last
               // chunk.
               {
                 std::lock_guard<std::mutex> guard{self->mutex_};
                 for (auto& f : self->pending_)
                   self->queue_.push_back(std::move(f));
                 self->pending_.clear();
               }
               self->queue_.push_back(end_frame());
               self->write_next();
               self->arm_close_deadline();
             });
}

void sse_session::arm_close_deadline() {
  // A client that stopped reading (a slow consumer) never lets the end
  // out: after ws.close_timeout_ms the socket goes anyway, as a WebSocket's
  // does, so a stalled stream pins no descriptor, actor or connection place.
  close_timer_.expires_after(
      std::chrono::milliseconds(ctx_->node->settings.ws.close_timeout_ms));
  close_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && !self->finished_)
      self->finish("the client did not take the end of the stream in time");
  });
}

void sse_session::abort() {
  asio::post(stream_->get_executor(),
             [self = shared_from_this()] { self->finish("node shutdown"); });
}

void sse_session::do_flush() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    flush_posted_ = false;
    for (auto& f : pending_)
      queue_.push_back(std::move(f));
    pending_.clear();
  }
  write_next();
}

void sse_session::write_next() {
  if (!head_written_ || write_in_flight_ || finished_ || end_sent_
      || queue_.empty())
    return;
  // One chunk with everything queued since the last write; the end marker
  // goes alone, after it.
  std::size_t taken = 0;
  uint64_t bytes = 0;
  bool ending = queue_.front() == end_frame();
  buffers_.clear();
  if (ending) {
    in_flight_.push_back(queue_.front());
    buffers_.emplace_back(end_frame()->data(), end_frame()->size());
    taken = 1;
  } else {
    buffers_.emplace_back(); // the chunk size line, set below
    while (
        taken < queue_.size() && taken < max_chunk_frames
        && queue_[taken] != end_frame()
        && (bytes == 0 || bytes + queue_[taken]->size() <= max_chunk_bytes)) {
      auto& f = queue_[taken++];
      bytes += f->size();
      buffers_.emplace_back(f->data(), f->size());
      in_flight_.push_back(std::move(f));
    }
    char line[24];
    auto n = std::snprintf(line, sizeof(line), "%llx\r\n",
                           static_cast<unsigned long long>(bytes));
    chunk_head_.assign(line, static_cast<std::size_t>(n));
    buffers_.front() = asio::buffer(chunk_head_);
    buffers_.emplace_back(crlf.data(), crlf.size());
  }
  queue_.erase(queue_.begin(),
               queue_.begin() + static_cast<std::ptrdiff_t>(taken));
  in_flight_data_ = 0;
  for (auto& f : in_flight_)
    if (f != heartbeat_frame() && f != end_frame())
      in_flight_data_ += f->size();
  write_in_flight_ = true;
  end_sent_ = ending;
  stream_->async_write(buffers_,
                       [self = shared_from_this()](error_code ec, std::size_t) {
                         self->on_write(ec);
                       });
}

void sse_session::on_write(error_code ec) {
  write_in_flight_ = false;
  in_flight_.clear();
  if (in_flight_data_ > 0) {
    std::lock_guard<std::mutex> guard{mutex_};
    backlog_bytes_ -= in_flight_data_;
  }
  if (ec) {
    finish(ec.message().c_str());
    return;
  }
  if (end_sent_) {
    finish("stream ended");
    return;
  }
  write_next();
}

void sse_session::arm_heartbeat() {
  heartbeat_timer_.expires_after(
      std::chrono::milliseconds(ctx_->node->settings.sse.heartbeat_ms));
  heartbeat_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->finished_ || self->end_sent_)
      return;
    self->queue_.push_back(heartbeat_frame());
    self->write_next();
    self->arm_heartbeat();
  });
}

void sse_session::finish(const char* why) {
  if (finished_)
    return;
  finished_ = true;
  bool forced;
  uint16_t code;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    forced = forced_;
    code = close_code_;
    closing_ = true;
    pending_.clear();
    backlog_bytes_ = 0;
  }
  queue_.clear();
  heartbeat_timer_.cancel();
  close_timer_.cancel();
  // A stream the node ended: TLS says close_notify too, within
  // ws.close_timeout_ms.
  stream_->close(
      std::string_view{why} == "stream ended",
      std::chrono::milliseconds(ctx_->node->settings.ws.close_timeout_ms));
  log_net()->debug("sse {} finished: {}", actor_.id(), why);
  if (presence_) {
    // SSE has no close codes: 1000 when the client left, 1001 at shutdown,
    // else the code the node closed with (1013 slow consumer, ...).
    bool shutdown = std::string_view{why} == "node shutdown";
    presence_->closed(*ctx_, why,
                      shutdown ? 1001
                      : forced ? code
                               : 1000,
                      forced || shutdown);
    presence_.reset();
  }
  if (actor_)
    caf::anon_send(actor_, closed_atom::value);
  ctx_->sessions.remove(this);
}

} // namespace herald::net
