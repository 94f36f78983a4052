// The publisher: HTTP/1.1 keep-alive connections to the publish API, each
// with up to `pipeline` requests in flight, at a fixed rate or as fast as
// the server answers, optionally held back by a window of deliveries owed.
#pragma once

#include "common.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace loadgen {

class publisher {
public:
  publisher(asio::io_context& ioc, const options& opts, stats& st);
  ~publisher();

  // Opens the connections; `ready` runs once all are open or failed.
  void connect(std::function<void()> ready);
  // Starts sending; `fanout` says how many deliveries each event owes.
  void begin(std::function<double()> fanout);
  // Stops sending; requests in flight still get their answers.
  void stop();
  // Sends what the rate, the pipeline and the window allow now.
  void pump();
  int64_t in_flight() const;
  int connected() const;
  void close_all();

private:
  struct conn;
  void open(conn& c);
  void on_readable(conn& c);
  std::size_t parse(conn& c, const char* p, std::size_t len);
  void on_response(conn& c, int status);
  void add_request(conn& c, int64_t now);
  void flush(conn& c);
  void lost(conn& c, const std::string& why);
  void tick();

  asio::io_context& ioc_;
  const options& opts_;
  stats& st_;
  tcp::endpoint server_;
  std::vector<std::unique_ptr<conn>> conns_;
  std::vector<char> buf_;
  asio::steady_timer timer_;
  std::function<void()> ready_;
  std::function<double()> fanout_;
  int pending_connects_ = 0;
  bool sending_ = false;
  bool pumping_ = false;
  int64_t started_ns_ = 0;
  std::size_t rr_ = 0;
  int64_t topic_rr_ = 0;
  std::string head_; // request line and headers up to Content-Length
  int reconnects_ = 0;
};

} // namespace loadgen
