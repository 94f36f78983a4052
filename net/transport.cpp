#include "net/transport.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// Reads per readiness wake-up before yielding to other sessions.
constexpr int max_reads_per_wake = 8;

class plain_transport final : public transport {
public:
  explicit plain_transport(tcp::socket&& socket) : socket_(std::move(socket)) {
    error_code ignored;
    socket_.non_blocking(true, ignored);
  }

  asio::any_io_executor get_executor() override {
    return socket_.get_executor();
  }

  tcp::socket& socket() override { return socket_; }

  void read_loop(read_handler on_data) override {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), this,
                                                on_data = std::move(on_data)](
                                                   error_code ec) mutable {
      if (ec) {
        on_data(ec, nullptr, 0);
        return;
      }
      // One buffer per I/O thread, shared by every session on it: an
      // idle session holds no read buffer at all.
      thread_local std::array<char, 64 * 1024> buf;
      for (int i = 0; i < max_reads_per_wake; ++i) {
        auto n = socket_.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again)
          break;
        if (ec) {
          on_data(ec, nullptr, 0);
          return;
        }
        if (!on_data({}, buf.data(), n))
          return;
      }
      read_loop(std::move(on_data));
    });
  }

  void async_write(const std::vector<asio::const_buffer>& buffers,
                   write_handler done) override {
    asio::async_write(socket_, buffers, std::move(done));
  }

  void async_write(asio::const_buffer buffer, write_handler done) override {
    asio::async_write(socket_, buffer, std::move(done));
  }

  void shutdown_send() override {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  void close(bool, std::chrono::milliseconds) override {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool secure() const override { return false; }

private:
  tcp::socket socket_;
};

class tls_transport final : public transport {
public:
  explicit tls_transport(tls_stream&& stream) : stream_(std::move(stream)) {}

  asio::any_io_executor get_executor() override {
    return stream_.get_executor();
  }

  tcp::socket& socket() override {
    return beast::get_lowest_layer(stream_).socket();
  }

  void read_loop(read_handler on_data) override {
    // The SSL object decrypts into buf_ (4 KiB, next to the ~34 KiB the
    // TLS stream holds for records anyway).
    stream_.async_read_some(
        asio::buffer(buf_),
        [self = shared_from_this(), this,
         on_data = std::move(on_data)](error_code ec, std::size_t n) mutable {
          if (ec) {
            on_data(ec, nullptr, 0);
            return;
          }
          if (n > 0 && !on_data({}, buf_.data(), n))
            return;
          read_loop(std::move(on_data));
        });
  }

  // The TLS stream coalesces a gather list into records of up to 16 KiB
  // (Beast's flat_stream): one copy per write, which encryption makes
  // anyway, instead of one record and one syscall per frame.
  void async_write(const std::vector<asio::const_buffer>& buffers,
                   write_handler done) override {
    asio::async_write(stream_, buffers, std::move(done));
  }

  void async_write(asio::const_buffer buffer, write_handler done) override {
    asio::async_write(stream_, buffer, std::move(done));
  }

  void shutdown_send() override {
    // A close_notify here would race the read loop, which keeps draining
    // the peer; after a failed stream's close frame TCP ends without it.
    send_shut_ = true;
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void close(bool clean, std::chrono::milliseconds bound) override {
    if (closing_)
      return;
    closing_ = true;
    error_code ignored;
    if (!clean || send_shut_ || !socket().is_open()) {
      socket().close(ignored);
      return;
    }
    // The read loop's pending read ends first (aborted), then close_notify
    // goes out; the peer's answer is waited for at most `bound` (the
    // stream's deadline closes the socket).
    socket().cancel(ignored);
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), this, bound] {
                 beast::get_lowest_layer(stream_).expires_after(bound);
                 stream_.async_shutdown([self](error_code) {
                   error_code ignored;
                   auto& tls = static_cast<tls_transport&>(*self);
                   beast::get_lowest_layer(tls.stream_).expires_never();
                   tls.socket().close(ignored);
                 });
               });
  }

  bool secure() const override { return true; }

private:
  tls_stream stream_;
  std::array<char, 4096> buf_;
  bool send_shut_ = false;
  bool closing_ = false;
};

} // namespace

transport_ptr make_transport(tcp::socket&& socket) {
  return std::make_shared<plain_transport>(std::move(socket));
}

transport_ptr make_transport(tls_stream&& stream) {
  return std::make_shared<tls_transport>(std::move(stream));
}

} // namespace herald::net
