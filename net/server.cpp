#include "net/server.hpp"

#include "net/http_session.hpp"
#include "net/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

listener::listener(asio::io_context& ioc, net_context_ptr ctx, bool admin)
    : ioc_(ioc), acceptor_(asio::make_strand(ioc)), ctx_(std::move(ctx)),
      admin_(admin) {}

std::variant<tcp::endpoint, std::string>
listener::open(const std::string& address, uint16_t port) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec)
    return std::string{admin_ ? "admin" : "listen"} + ".address: '" + address
           + "' is not an IP address";
  tcp::endpoint endpoint{ip, port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return std::string{admin_ ? "admin.port: " : ""} + "cannot listen on "
           + address + ":" + std::to_string(port) + ": " + ec.message();
  return acceptor_.local_endpoint();
}

void listener::run() {
  do_accept();
}

void listener::stop() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void listener::do_accept() {
  // Each connection gets its own strand: its socket, timers and session
  // state are only ever touched there.
  acceptor_.async_accept(
      asio::make_strand(ioc_),
      beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    log_net()->warn("accept: {}", ec.message());
  } else {
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<http_session>(std::move(socket), ctx_, admin_)->run();
  }
  do_accept();
}

} // namespace herald::net
