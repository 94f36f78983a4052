#include "net/ws_session.hpp"

#include "actors/connection.hpp"
#include "net/log.hpp"

#include <caf/all.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::closed_atom;

namespace {

constexpr uint16_t close_going_away = 1001;
constexpr uint16_t close_try_again_later = 1013;

} // namespace

ws_session::ws_session(asio::ip::tcp::socket&& socket, net_context_ptr ctx,
                       protocol::identity who)
    : ws_(std::move(socket)), ctx_(std::move(ctx)), who_(std::move(who)),
      ping_timer_(ws_.get_executor()), close_timer_(ws_.get_executor()),
      max_backlog_(ctx_->node->settings.limits.max_backlog_bytes) {}

ws_session::~ws_session() = default;

void ws_session::run(request req) {
  // Beast's own timeouts cover the handshake and the close; keep-alive
  // pings are ours (interval and timeout are configured separately).
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::server, "herald");
      }));
  ws_.read_message_max(ctx_->node->settings.limits.max_frame_bytes);
  ws_.control_callback([this](websocket::frame_type, beast::string_view) {
    last_heard_ = clock::now(); // any ping, pong or close shows life
  });
  beast::get_lowest_layer(ws_).expires_never();
  ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept,
                                                  shared_from_this()));
}

void ws_session::on_accept(error_code ec) {
  if (ec) {
    log_net()->debug("ws accept failed: {}", ec.message());
    return;
  }
  ws_.text(true);
  last_heard_ = clock::now();
  actor_ = actors::spawn_connection(*ctx_->system, ctx_->node, who_,
                                    shared_from_this(), ctx_->router);
  ctx_->node->metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
  ctx_->sessions.add(shared_from_this());
  log_net()->debug("ws {} open for user {}", actor_.id(), who_.sub);
  arm_ping();
  do_read();
}

// -- reading -----------------------------------------------------------------

void ws_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read,
                                                    shared_from_this()));
}

void ws_session::on_read(error_code ec, std::size_t) {
  if (ec) {
    // Includes a frame over read_message_max: Beast has already answered
    // it with close code 1009.
    finish(ec == websocket::error::closed ? "closed by peer"
                                          : ec.message().c_str());
    return;
  }
  last_heard_ = clock::now();
  if (ws_.got_text())
    caf::anon_send(actor_, protocol::frame_atom::value,
                   beast::buffers_to_string(buffer_.data()));
  else
    caf::anon_send(actor_, protocol::binary_atom::value);
  buffer_.consume(buffer_.size());
  do_read();
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
      close_code_ = close_try_again_later;
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
    asio::post(ws_.get_executor(),
               [self = shared_from_this()] { self->begin_closing(); });
    return false;
  }
  if (post_flush)
    asio::post(ws_.get_executor(),
               [self = shared_from_this()] { self->do_flush(); });
  return true;
}

void ws_session::close(uint16_t code, std::string reason) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (closing_)
      return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
  }
  asio::post(ws_.get_executor(),
             [self = shared_from_this()] { self->begin_closing(); });
}

void ws_session::abort() {
  asio::post(ws_.get_executor(),
             [self = shared_from_this()] { self->finish("node shutdown"); });
}

void ws_session::do_flush() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    flush_posted_ = false;
    for (auto& f : pending_)
      writing_.push_back(std::move(f));
    pending_.clear();
  }
  if (!write_in_flight_)
    write_next();
}

void ws_session::write_next() {
  if (finished_ || close_started_)
    return;
  if (ping_due_) {
    ping_due_ = false;
    write_in_flight_ = true;
    ws_.async_ping({}, [self = shared_from_this()](error_code ec) {
      self->on_write(ec, 0);
    });
    return;
  }
  if (writing_.empty()) {
    bool closing;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      for (auto& f : pending_)
        writing_.push_back(std::move(f));
      pending_.clear();
      closing = closing_;
    }
    if (writing_.empty()) {
      if (closing)
        start_close();
      return;
    }
  }
  write_in_flight_ = true;
  ws_.async_write(
      asio::buffer(*writing_.front()),
      beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
}

void ws_session::on_write(error_code ec, std::size_t bytes) {
  write_in_flight_ = false;
  if (ec) {
    finish(ec.message().c_str());
    return;
  }
  if (bytes > 0 && !writing_.empty()) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      backlog_bytes_ -= writing_.front()->size();
    }
    writing_.pop_front();
  }
  write_next();
}

// -- closing -----------------------------------------------------------------

void ws_session::begin_closing() {
  if (finished_)
    return;
  {
    // A slow consumer gets no more of its backlog: only the write already
    // in flight finishes, then the close frame.
    std::lock_guard<std::mutex> guard{mutex_};
    if (close_code_ == close_try_again_later) {
      std::size_t keep = write_in_flight_ && !writing_.empty() ? 1 : 0;
      while (writing_.size() > keep) {
        backlog_bytes_ -= writing_.back()->size();
        writing_.pop_back();
      }
    }
  }
  if (!close_timer_armed_) {
    // A peer that stopped reading may never let the close frame out:
    // bound the wait, then drop the TCP connection.
    close_timer_armed_ = true;
    close_timer_.expires_after(
        std::chrono::milliseconds(ctx_->node->settings.ws.close_timeout_ms));
    close_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->finished_)
        return;
      error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }
  if (!write_in_flight_)
    write_next();
}

void ws_session::start_close() {
  close_started_ = true;
  write_in_flight_ = true;
  websocket::close_reason reason;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    reason.code = close_code_;
    reason.reason = close_reason_;
  }
  ws_.async_close(reason, beast::bind_front_handler(&ws_session::on_close,
                                                    shared_from_this()));
}

void ws_session::on_close(error_code ec) {
  write_in_flight_ = false;
  finish(ec ? ec.message().c_str() : "closed by node");
}

void ws_session::finish(const char* why) {
  if (finished_)
    return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    closing_ = true;
    for (auto& f : pending_)
      backlog_bytes_ -= f->size();
    pending_.clear();
  }
  error_code ignored;
  ping_timer_.cancel();
  close_timer_.cancel();
  beast::get_lowest_layer(ws_).socket().close(ignored);
  log_net()->debug("ws {} finished: {}", actor_.id(), why);
  if (actor_)
    caf::anon_send(actor_, closed_atom::value);
  ctx_->sessions.remove(this);
}

// -- keep-alive --------------------------------------------------------------

void ws_session::arm_ping() {
  ping_timer_.expires_after(
      std::chrono::milliseconds(ctx_->node->settings.ws.ping_interval_ms));
  ping_timer_.async_wait(beast::bind_front_handler(&ws_session::on_ping_timer,
                                                   shared_from_this()));
}

void ws_session::on_ping_timer(error_code ec) {
  if (ec || finished_)
    return;
  auto silent = clock::now() - last_heard_;
  if (silent
      > std::chrono::milliseconds(ctx_->node->settings.ws.pong_timeout_ms)) {
    log_net()->debug("ws {} did not answer pings", actor_.id());
    close(close_going_away, "ping timeout");
    return;
  }
  ping_due_ = true;
  if (!write_in_flight_)
    write_next();
  arm_ping();
}

} // namespace herald::net
