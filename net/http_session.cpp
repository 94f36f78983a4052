// The request half of http_session: the TLS handshake, reading heads and
// bodies under the timeouts of docs/limits.md, routing, answering and
// closing. The upgrade half is http_upgrade.cpp.
#include "net/http_session.hpp"

#include "actors/channel.hpp"
#include "net/handlers.hpp"
#include "net/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr uint32_t header_limit = 16 * 1024;
// Lingering after a closing answer: at most this long and this much.
constexpr auto linger_time = std::chrono::milliseconds(1000);
constexpr std::size_t linger_bytes = 1 << 20;

std::chrono::milliseconds ms(uint32_t n) {
  return std::chrono::milliseconds{n};
}

} // namespace

namespace {

std::variant<beast::tcp_stream, tls_stream>
make_stream(asio::ip::tcp::socket&& socket,
            const std::shared_ptr<asio::ssl::context>& tls) {
  if (tls)
    return std::variant<beast::tcp_stream, tls_stream>{
        std::in_place_index<1>, beast::tcp_stream{std::move(socket)}, *tls};
  return std::variant<beast::tcp_stream, tls_stream>{std::in_place_index<0>,
                                                     std::move(socket)};
}

// What a plain HTTP request to the TLS port is told, in plain HTTP: the
// TLS library recognizes the request in the handshake and has sent nothing
// yet.
const std::string& plain_to_tls() {
  static const std::string answer = [] {
    std::string body =
        R"({"code":"INVALID_MESSAGE","message":"this port speaks TLS: )"
        R"(use https:// or wss://"})";
    return "HTTP/1.1 400 Bad Request\r\n"
           "Content-Type: application/json\r\n"
           "Content-Length: "
           + std::to_string(body.size())
           + "\r\nConnection: close\r\nServer: herald\r\n\r\n" + body;
  }();
  return answer;
}

} // namespace

http_session::http_session(asio::ip::tcp::socket&& socket, net_context_ptr ctx,
                           bool admin, std::shared_ptr<void> slot,
                           std::shared_ptr<asio::ssl::context> tls)
    : stream_(make_stream(std::move(socket), tls)), ctx_(std::move(ctx)),
      admin_(admin), slot_(std::move(slot)) {}

beast::tcp_stream& http_session::tcp() {
  if (auto* plain = std::get_if<beast::tcp_stream>(&stream_))
    return *plain;
  return std::get<tls_stream>(stream_).next_layer();
}

void http_session::run() {
  asio::dispatch(tcp().get_executor(), [self = shared_from_this()] {
    if (self->secure())
      self->do_handshake();
    else
      self->do_read();
  });
}

void http_session::do_handshake() {
  // The handshake counts as the start of the request head: a client that
  // connects and never handshakes is dropped like a slowloris.
  tcp().expires_after(ms(ctx_->node->settings.limits.header_timeout_ms));
  std::get<tls_stream>(stream_).async_handshake(
      asio::ssl::stream_base::server,
      beast::bind_front_handler(&http_session::on_handshake,
                                shared_from_this()));
}

void http_session::on_handshake(error_code ec) {
  if (ec == beast::error::timeout) {
    log_net()->debug("tls handshake: timeout (limits.header_timeout_ms)");
    return;
  }
  if (ec) {
    log_net()->debug("tls handshake failed: {}", ec.message());
    if (ec.category() == asio::error::get_ssl_category()
        && ERR_GET_REASON(static_cast<unsigned long>(ec.value()))
               == SSL_R_HTTP_REQUEST) {
      // Plain HTTP on the TLS port: said so in plain HTTP, then closed
      // after a moment of draining (docs/tls.md).
      asio::async_write(tcp().socket(), asio::buffer(plain_to_tls()),
                        [self = shared_from_this()](error_code e, std::size_t) {
                          error_code ignored;
                          self->tcp().socket().shutdown(
                              asio::ip::tcp::socket::shutdown_send, ignored);
                          if (!e) {
                            self->tcp().expires_after(linger_time);
                            self->do_drain();
                          }
                        });
      return;
    }
    error_code ignored;
    tcp().socket().close(ignored);
    return;
  }
  if (refusal_) {
    auto res = std::move(*refusal_);
    refusal_.reset();
    return send(std::move(res));
  }
  do_read();
}

transport_ptr http_session::release_transport() {
  tcp().expires_never();
  if (secure())
    return make_transport(std::move(std::get<tls_stream>(stream_)));
  return make_transport(tcp().release_socket());
}

void http_session::refuse(http::status status, std::string code,
                          std::string message) {
  asio::dispatch(tcp().get_executor(),
                 [self = shared_from_this(), status, code = std::move(code),
                  message = std::move(message)] {
                   request head{http::verb::get, "/", 11};
                   head.keep_alive(false);
                   auto res = make_error(head, status, code, message);
                   if (status == http::status::service_unavailable)
                     res.set(http::field::retry_after, "1");
                   self->refusing_ = true;
                   if (self->secure()) {
                     // Told over TLS, once the handshake is done.
                     self->refusal_ = std::move(res);
                     return self->do_handshake();
                   }
                   self->send(std::move(res));
                 });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_->node->settings.limits.max_body_bytes);
  parser_->header_limit(header_limit);
  if (requests_ > 0 && buffer_.size() == 0) {
    // Keep-alive: the head's deadline starts with the next request's first
    // byte; until then the connection is idle.
    tcp().expires_after(ms(ctx_->node->settings.limits.idle_timeout_ms));
    std::visit(
        [&](auto& stream) {
          stream.async_read_some(
              buffer_.prepare(4096),
              beast::bind_front_handler(&http_session::on_idle_read,
                                        shared_from_this()));
        },
        stream_);
    return;
  }
  read_head();
}

void http_session::on_idle_read(error_code ec, std::size_t bytes) {
  buffer_.commit(bytes);
  if (ec) {
    // A timeout has closed the socket already; the peer's EOF needs only
    // our side closed.
    log_net()->debug("http idle connection ends: {}", ec.message());
    if (ec != beast::error::timeout)
      do_close();
    return;
  }
  read_head();
}

void http_session::read_head() {
  // One deadline for the whole head, not one per read: a client trickling
  // its head byte by byte (slowloris) is dropped on time.
  tcp().expires_after(ms(ctx_->node->settings.limits.header_timeout_ms));
  std::visit(
      [&](auto& stream) {
        http::async_read_header(
            stream, buffer_, *parser_,
            beast::bind_front_handler(&http_session::on_header,
                                      shared_from_this()));
      },
      stream_);
}

void http_session::on_header(error_code ec, std::size_t bytes) {
  ++requests_;
  if (ec || parser_->is_done())
    return on_read(ec, bytes);
  // A Content-Length over limits.max_body_bytes failed above, before any
  // byte of the body; a chunked body fails when it grows past it.
  tcp().expires_after(ms(ctx_->node->settings.limits.body_timeout_ms));
  std::visit(
      [&](auto& stream) {
        http::async_read(stream, buffer_, *parser_,
                         beast::bind_front_handler(&http_session::on_read,
                                                   shared_from_this()));
      },
      stream_);
}

void http_session::on_read(error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream)
    return do_close();
  if (ec == http::error::body_limit) {
    // The rest of the body is unread: answer and close the connection.
    request head = parser_->get();
    head.keep_alive(false);
    ctx_->node->metrics.publish_rejected.fetch_add(1,
                                                   std::memory_order_relaxed);
    return send(make_error(
        head, http::status::payload_too_large, "PAYLOAD_TOO_LARGE",
        "body over "
            + std::to_string(ctx_->node->settings.limits.max_body_bytes)
            + " bytes (limits.max_body_bytes)"));
  }
  if (ec == beast::error::timeout) {
    // The stream closed the socket when the deadline passed.
    log_net()->debug("http read: timeout (limits.header_timeout_ms or "
                     "limits.body_timeout_ms)");
    return;
  }
  if (ec
      && ec.category()
             == http::make_error_code(http::error::bad_method).category()
      && ec != http::error::partial_message) {
    // A malformed request: said so, then closed (the parser cannot find
    // where the next request would start).
    log_net()->debug("http read: {}", ec.message());
    request head{http::verb::get, "/", 11};
    head.keep_alive(false);
    bool big = ec == http::error::header_limit;
    return send(make_error(head,
                           big ? http::status::request_header_fields_too_large
                               : http::status::bad_request,
                           "INVALID_MESSAGE",
                           big ? "request head over "
                                     + std::to_string(header_limit) + " bytes"
                               : "malformed HTTP request: " + ec.message()));
  }
  if (ec) {
    log_net()->debug("http read: {}", ec.message());
    return do_close();
  }
  auto req = parser_->release();
  if (admin_)
    return route_admin(std::move(req));
  auto path = target_path({req.target().data(), req.target().size()});
  if (beast::websocket::is_upgrade(req)) {
    if (path == "/ws")
      return upgrade(std::move(req), actors::connection_kind::ws);
    if (path == "/ws/events")
      return upgrade(std::move(req), actors::connection_kind::envelope);
  }
  constexpr std::string_view channel_prefix = "/api/v69/ws/";
  if (path.substr(0, channel_prefix.size()) == channel_prefix) {
    std::string name{path.substr(channel_prefix.size())};
    if (ctx_->node->channels.find(name)) {
      if (beast::websocket::is_upgrade(req))
        return upgrade_channel(std::move(req), name);
      req.keep_alive(false);
      return send(make_error(req, http::status::upgrade_required,
                             "UPGRADE_REQUIRED",
                             "this endpoint takes WebSocket upgrades"));
    }
  }
  if (path == "/api/events/stream" && req.method() == http::verb::get)
    return stream_events(std::move(req));
  if (path == "/api/v1/presence") {
    // Answered later, from an actor: back onto this session's executor.
    auto self = shared_from_this();
    return handle_presence(*ctx_, req, [self](response res) {
      boost::asio::post(self->tcp().get_executor(),
                        [self, res = std::move(res)]() mutable {
                          self->send(std::move(res));
                        });
    });
  }
  send(route(*ctx_, req));
}

void http_session::send(response res) {
  res_ = std::make_shared<response>(std::move(res));
  bool keep_alive = res_->keep_alive();
  std::visit(
      [&](auto& stream) {
        http::async_write(stream, *res_,
                          beast::bind_front_handler(&http_session::on_write,
                                                    shared_from_this(),
                                                    keep_alive));
      },
      stream_);
}

void http_session::on_write(bool keep_alive, error_code ec, std::size_t) {
  res_.reset();
  if (ec)
    return do_close();
  if (!keep_alive)
    return linger_close();
  do_read();
}

void http_session::do_close() {
  if (secure()) {
    // close_notify, and the peer's, within the linger time; then the
    // socket closes (or the deadline closes it).
    if (!tcp().socket().is_open())
      return;
    tcp().expires_after(linger_time);
    std::get<tls_stream>(stream_).async_shutdown(
        [self = shared_from_this()](error_code) {
          error_code ignored;
          self->tcp().expires_never();
          self->tcp().socket().close(ignored);
        });
    return;
  }
  error_code ignored;
  tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void http_session::linger_close() {
  // Under TLS the shutdown's wait for the peer's close_notify is the
  // linger: what the client still sends is read and dropped meanwhile.
  if (secure())
    return do_close();
  do_close();
  // A refused connection (over the limits) lingers no longer than a
  // client gets for its head.
  auto limit = linger_time;
  if (refusing_)
    limit = std::min(limit, ms(ctx_->node->settings.limits.header_timeout_ms));
  tcp().expires_after(limit);
  buffer_.consume(buffer_.size());
  do_drain();
}

void http_session::do_drain() {
  // Plain bytes only (a plain connection, or plain HTTP on the TLS port).
  tcp().async_read_some(
      buffer_.prepare(16 * 1024),
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->drained_ += bytes;
        // Until the client closes (or the deadline closes the socket).
        if (ec || self->drained_ > linger_bytes)
          return;
        self->do_drain();
      });
}

} // namespace herald::net
