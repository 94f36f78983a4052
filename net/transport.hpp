#pragma once

// The byte stream under a WebSocket or SSE session: plain TCP or TLS
// (docs/tls.md). The sessions keep one logic and talk to this interface;
// its cost over using the socket directly is one indirect call per read
// and per write, plus the std::function each carries: the read loop's is
// made once per session and moved along; a write's is made per write (a
// heap allocation, since it holds a shared_ptr: once per batch of frames,
// never per frame or per subscriber). The plain transport
// reads as the sessions always did: it waits for readability and reads
// into a per-thread buffer, so an idle plain session holds no read buffer;
// the TLS one reads into a small buffer of its own (the SSL object may
// hold decrypted bytes the socket no longer shows as readable, so waiting
// for readability would miss them). Everything runs on the session's
// strand, the executor the socket was accepted on.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace herald::net {

/// A TLS connection as the HTTP session reads it and hands it on.
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class transport : public std::enable_shared_from_this<transport> {
public:
  using error_code = boost::beast::error_code;
  /// Gets each piece of bytes read (`size` > 0), or the error that ends
  /// the loop (then `data` is null); returns false to stop reading.
  using read_handler =
      std::function<bool(error_code ec, const char* data, std::size_t size)>;
  using write_handler = std::function<void(error_code ec, std::size_t bytes)>;

  virtual ~transport() = default;

  /// The session's strand.
  virtual boost::asio::any_io_executor get_executor() = 0;

  /// The TCP socket underneath (peer address, options).
  virtual boost::asio::ip::tcp::socket& socket() = 0;

  /// Reads until `on_data` returns false or an error has been passed to
  /// it. One loop at a time.
  virtual void read_loop(read_handler on_data) = 0;

  /// Writes every byte of `buffers` (which must outlive the write), then
  /// calls `done`. One write at a time.
  virtual void
  async_write(const std::vector<boost::asio::const_buffer>& buffers,
              write_handler done) = 0;
  virtual void async_write(boost::asio::const_buffer buffer,
                           write_handler done) = 0;

  /// Ends the sending side (TCP FIN); the peer can still be read.
  virtual void shutdown_send() = 0;

  /// Closes the connection. `clean`: an orderly end, for which TLS first
  /// sends its close_notify, waiting at most `bound` for it to go out
  /// (and the peer's); plain TCP closes at once either way.
  virtual void close(bool clean, std::chrono::milliseconds bound) = 0;

  /// Whether this is TLS.
  virtual bool secure() const = 0;
};

using transport_ptr = std::shared_ptr<transport>;

/// Plain TCP: the socket as the sessions used it before TLS.
transport_ptr make_transport(boost::asio::ip::tcp::socket&& socket);

/// TLS, after its handshake.
transport_ptr make_transport(tls_stream&& stream);

} // namespace herald::net
