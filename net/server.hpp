#pragma once

// The public listener: accepts TCP connections, each on its own strand,
// and starts an http_session for it, or refuses it at once when the
// connection limits (net_context::gate, docs/limits.md) say so. A TLS
// listener (docs/tls.md) does the same; its sessions handshake first.

#include "net/net_context.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <memory>
#include <string>
#include <variant>

namespace herald::net {

class listener : public std::enable_shared_from_this<listener> {
public:
  /// `admin`: the admin listener (docs/console.md). `tls`: a TLS
  /// listener's context (net/tls_context.hpp); its connections count under
  /// the same limits as the plain listener's.
  listener(boost::asio::io_context& ioc, net_context_ptr ctx,
           bool admin = false,
           std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  /// Binds and listens; the bound endpoint (port 0 picks one), or why not.
  std::variant<boost::asio::ip::tcp::endpoint, std::string>
  open(const std::string& address, uint16_t port);

  /// Starts accepting.
  void run();

  /// Stops accepting new connections; open ones are left alone.
  void stop();

private:
  void do_accept();
  void on_accept(boost::beast::error_code ec,
                 boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  /// Waits before accepting again when the process is out of descriptors.
  boost::asio::steady_timer pause_;
  net_context_ptr ctx_;
  bool admin_ = false;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  bool starved_ = false; ///< out of descriptors, said once
};

} // namespace herald::net
