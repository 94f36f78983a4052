// The WebSocket subscribers: a lean hand-rolled client (HTTP upgrade, then
// RFC 6455 frames parsed in place from one shared read buffer), so that a
// connection costs a socket and a few dozen bytes, and one thread reads
// hundreds of thousands of frames per second. The sockets live in their own
// level-triggered epoll set, itself watched by the io_context: one
// epoll_wait reports up to 1,024 readable sockets, and reading one costs one
// recv (Asio's per-operation epoll_ctl would double the system calls).
#pragma once

#include "common.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace loadgen {

class subscribers {
public:
  subscribers(asio::io_context& ioc, const options& opts, stats& st);
  ~subscribers();

  // Connects and subscribes every client, `connect_concurrency` at a time;
  // `done` runs once when each has subscribed or failed.
  void start(std::function<void()> done);
  // Stops waiting for the rest: `done` runs now if it has not.
  void give_up();
  // Called after each batch of frames read (the publisher's window).
  void on_frames(std::function<void()> f) { on_frames_ = std::move(f); }
  // Subscribers each topic has: connections * topics_per_conn / topics.
  double fanout() const;
  void close_all();

private:
  struct conn;
  void open_next();
  void open(std::size_t i);
  void watch();
  void on_events();
  void on_connected(conn& c);
  void send(conn& c, const char* data, std::size_t len);
  void flush(conn& c);
  void set_events(conn& c, uint32_t events);
  void on_readable(conn& c);
  std::size_t parse(conn& c, const char* p, std::size_t len);
  bool on_handshake(conn& c, const char* p, std::size_t len, std::size_t& used);
  void on_frame(conn& c, int opcode, const char* p, std::size_t len);
  void send_frame(conn& c, int opcode, const std::string& payload);
  void setup_finished(conn& c, bool ok);
  void fail(conn& c, const std::string& why);

  asio::io_context& ioc_;
  const options& opts_;
  stats& st_;
  int epfd_ = -1;
  asio::posix::stream_descriptor epoll_; // epfd_, watched by the io_context
  bool watching_ = false;
  asio::steady_timer pause_;
  uint32_t server_ip_ = 0; // host order
  std::size_t live_fds_ = 0;
  std::vector<std::unique_ptr<conn>> conns_;
  std::vector<char> buf_;
  std::size_t next_ = 0;
  std::size_t in_setup_ = 0;
  std::size_t settled_ = 0;
  bool done_called_ = false;
  std::function<void()> done_;
  std::function<void()> on_frames_;
  uint32_t mask_seed_ = 0x9e3779b9;
};

} // namespace loadgen
