#include "net/server.hpp"

#include "net/http_session.hpp"
#include "net/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include <cerrno>
#include <chrono>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

connection_gate::connection_gate(uint32_t max_total, uint32_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address) {}

std::shared_ptr<void> connection_gate::admit(const asio::ip::address& peer,
                                             verdict& why) {
  std::string key;
  if (max_per_address_ > 0) {
    // The address's bytes: an IPv4 client seen on a dual-stack socket
    // (::ffff:a.b.c.d) is the same client as a.b.c.d.
    auto ip = peer;
    if (ip.is_v6() && ip.to_v6().is_v4_mapped())
      ip = ip.to_v6().to_v4();
    if (ip.is_v4()) {
      auto b = ip.to_v4().to_bytes();
      key.assign(b.begin(), b.end());
    } else {
      auto b = ip.to_v6().to_bytes();
      key.assign(b.begin(), b.end());
    }
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (max_per_address_ > 0) {
      auto it = per_address_.find(key);
      if (it != per_address_.end() && it->second >= max_per_address_) {
        refused_address_.fetch_add(1, std::memory_order_relaxed);
        why = verdict::address_full;
        return nullptr;
      }
    }
    if (max_total_ > 0 && open_ >= max_total_) {
      refused_total_.fetch_add(1, std::memory_order_relaxed);
      why = verdict::node_full;
      return nullptr;
    }
    ++open_;
    if (max_per_address_ > 0)
      ++per_address_[key];
  }
  why = verdict::admitted;
  // Any pointer would do: the slot is its deleter.
  return std::shared_ptr<void>(
      this, [self = shared_from_this(), key = std::move(key)](void*) {
        self->release(key);
      });
}

void connection_gate::release(const std::string& key) {
  std::lock_guard<std::mutex> guard{mutex_};
  --open_;
  if (max_per_address_ == 0)
    return;
  auto it = per_address_.find(key);
  if (it != per_address_.end() && --it->second == 0)
    per_address_.erase(it);
}

std::size_t connection_gate::open() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return open_;
}

listener::listener(asio::io_context& ioc, net_context_ptr ctx, bool admin,
                   std::shared_ptr<asio::ssl::context> tls)
    : ioc_(ioc), acceptor_(asio::make_strand(ioc)),
      pause_(acceptor_.get_executor()), ctx_(std::move(ctx)), admin_(admin),
      tls_(std::move(tls)) {}

std::variant<tcp::endpoint, std::string>
listener::open(const std::string& address, uint16_t port) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  std::string prefix = admin_ ? "admin" : tls_ ? "listen.tls" : "listen";
  if (ec)
    return prefix + ".address: '" + address + "' is not an IP address";
  tcp::endpoint endpoint{ip, port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return (admin_ || tls_ ? prefix + ".port: " : std::string{})
           + "cannot listen on " + address + ":" + std::to_string(port) + ": "
           + ec.message();
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
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space
      || ec == asio::error::no_memory || ec.value() == ENFILE) {
    // Accepting again at once would spin (the pending connection stays
    // queued); wait for descriptors to come back, and say so once.
    if (!starved_)
      log_net()->warn("accept: {}; retrying every 100 ms (the open-files "
                      "limit is below limits.max_connections?)",
                      ec.message());
    starved_ = true;
    pause_.expires_after(std::chrono::milliseconds(100));
    pause_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e)
        self->do_accept();
    });
    return;
  }
  if (ec) {
    log_net()->warn("accept: {}", ec.message());
    return do_accept();
  }
  starved_ = false;
  socket.set_option(tcp::no_delay(true), ec);
  std::shared_ptr<void> slot;
  // The admin listener is left out: an operator gets in when the public
  // one is full.
  if (!admin_ && ctx_->gate) {
    auto peer = socket.remote_endpoint(ec);
    if (ec)
      return do_accept(); // gone already
    connection_gate::verdict why;
    slot = ctx_->gate->admit(peer.address(), why);
    if (!slot) {
      // Over TLS the refusal is told after the handshake.
      auto refusal = std::make_shared<http_session>(std::move(socket), ctx_,
                                                    false, nullptr, tls_);
      if (why == connection_gate::verdict::address_full) {
        log_net()->debug("connection refused: limits.max_connections_per_ip");
        refusal->refuse(beast::http::status::too_many_requests,
                        "LIMIT_EXCEEDED",
                        "too many connections from this address "
                        "(limits.max_connections_per_ip)");
      } else {
        log_net()->debug("connection refused: limits.max_connections");
        refusal->refuse(beast::http::status::service_unavailable, "OVERLOADED",
                        "the node holds as many connections as it may "
                        "(limits.max_connections); retry later");
      }
      return do_accept();
    }
  }
  std::make_shared<http_session>(std::move(socket), ctx_, admin_,
                                 std::move(slot), tls_)
      ->run();
  do_accept();
}

} // namespace herald::net
