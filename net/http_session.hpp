#pragma once

// An HTTP/1.1 connection, in the style of Beast's advanced server: reads
// requests one at a time (head and body bounded in size and time, see
// docs/limits.md), answers them, or hands the socket to a ws_session when
// a `/ws` upgrade carries a valid token. Over plain TCP or TLS (the TLS
// listener's connections handshake first, within limits.header_timeout_ms;
// docs/tls.md): one logic, each stream operation visiting the variant.

#include "net/http_util.hpp"
#include "net/net_context.hpp"
#include "net/transport.hpp"

#include <boost/asio/ssl/context.hpp>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

#include "actors/connection.hpp"
#include "protocol/identity.hpp"

#include <variant>

namespace herald::net {

class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `admin`: a session of the admin listener (docs/console.md), which
  /// serves the admin API and the console page and nothing else.
  /// `slot`: the connection's place under the listener's limits
  /// (connection_gate), handed on with the socket and released when the
  /// socket closes.
  /// `tls`: the TLS listener's context; the connection handshakes before
  /// its first request.
  http_session(boost::asio::ip::tcp::socket&& socket, net_context_ptr ctx,
               bool admin = false, std::shared_ptr<void> slot = nullptr,
               std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  void run();

  /// Answers `status` with the error body {code, message} at once, without
  /// reading a request, and closes: a connection over the listener's
  /// limits.
  void refuse(boost::beast::http::status status, std::string code,
              std::string message);

private:
  using error_code = boost::beast::error_code;

  /// The TLS handshake, within limits.header_timeout_ms.
  void do_handshake();
  void on_handshake(error_code ec);
  /// The TCP stream (under TLS, the layer below it).
  boost::beast::tcp_stream& tcp();
  bool secure() const { return stream_.index() == 1; }
  /// The socket, or the TLS stream, as a transport for a WebSocket or SSE
  /// session.
  transport_ptr release_transport();
  void do_read();
  /// Keep-alive: waits (limits.idle_timeout_ms) for a next request's
  /// first byte.
  void on_idle_read(error_code ec, std::size_t bytes);
  /// Reads a request head within limits.header_timeout_ms.
  void read_head();
  void on_header(error_code ec, std::size_t bytes);
  void on_read(error_code ec, std::size_t bytes);
  /// 403 and true when listen.allowed_origins does not list the request's
  /// Origin (a browser endpoint; docs/limits.md).
  bool refuse_origin(request& req);
  /// Checks an upgrade's handshake and token; answers 400 or 401 and
  /// returns none when one fails. With `identity_optional` (a public
  /// channel endpoint) a request without a token is anonymous.
  std::optional<protocol::identity>
  admit_upgrade(request& req, const char* what, bool identity_optional = false);
  /// Answers 101 and hands the socket to a ws_session whose actor `how`
  /// names (a connection kind, or a spawner).
  template <class Spawn>
  void switch_to_ws(const request& req, protocol::identity who, Spawn&& how);
  void upgrade(request req, actors::connection_kind kind);
  /// `/api/v69/ws/<name>` (docs/channels.md): 401, then 503 while the
  /// channel restarts or after its supervisor gave up on it.
  void upgrade_channel(request req, const std::string& name);
  void stream_events(request req);
  /// The admin listener's routes (net/admin_session.cpp).
  void route_admin(request req);
  void admin_stream(request req, std::string what);
  /// The identity of a request's token (header or `?token=`), or why
  /// there is none; counts and logs a refusal.
  std::variant<protocol::identity, std::string> authenticate(const request& req,
                                                             const char* what);
  void refuse_unauthorized(request req, const std::string& why);
  void send(response res);
  void on_write(bool keep_alive, error_code ec, std::size_t bytes);
  void do_close();
  /// After an answer that closes: stops sending, then reads and drops what
  /// the client still sends, for a moment, before closing; closing with
  /// unread bytes would reset the connection and could destroy the answer
  /// before the client reads it.
  void linger_close();
  void do_drain();
  /// Hands the socket to a `T` made of `args`, with this connection's slot.
  template <class T, class... Args>
  std::shared_ptr<T> hand_over(Args&&... args);

  std::variant<boost::beast::tcp_stream, tls_stream> stream_;
  boost::beast::flat_buffer buffer_;
  net_context_ptr ctx_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body>>
      parser_;
  std::shared_ptr<response> res_;
  bool admin_ = false;
  std::shared_ptr<void> slot_;
  unsigned requests_ = 0;   ///< requests read on this connection
  std::size_t drained_ = 0; ///< bytes dropped while lingering
  bool refusing_ = false;   ///< answering refuse()
  /// refuse()'s answer, held until the TLS handshake is done.
  std::optional<response> refusal_;
};

} // namespace herald::net
