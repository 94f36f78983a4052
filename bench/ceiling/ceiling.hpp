#pragma once

// herald-ceiling: the smallest WebSocket topic broadcaster this machine can
// run, the upper bound Herald is measured against (issue 3). One thread, one
// io_context, an exact-topic hash map, frames encoded once per publish and
// shared by reference count, writes coalesced into one gathered sendmsg per
// connection per batch.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ceiling {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// The io_context's own executor keeps the socket 8 bytes of executor instead
// of any_io_executor's dozens.
using socket_t =
    asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

/// Bytes queued for one connection beyond which it is dropped.
inline constexpr std::size_t max_backlog = 64u << 20;
/// Largest client WebSocket frame / HTTP head / HTTP body accepted.
inline constexpr std::size_t max_ws_frame = 64u << 10;
inline constexpr std::size_t max_http_head = 64u << 10;
inline constexpr std::size_t max_http_body = 64u << 20;

/// A ref-counted byte buffer: a shared event frame, or a connection's
/// private run of responses. Allocated with malloc, header then bytes.
struct frame {
  std::uint32_t refs;
  std::uint32_t len;
  std::uint32_t cap;
  std::uint32_t pad_;

  char* data() { return reinterpret_cast<char*>(this + 1); }
  static frame* make(std::size_t cap);
  static frame* grow(frame* f, std::size_t cap);
  static void release(frame* f);
};

struct topic_entry;
struct conn;

struct subscription {
  topic_entry* topic;
  std::uint32_t index; // position of the connection in topic->subs
};

struct topic_entry {
  std::string name; // the map's key views into it
  std::vector<conn*> subs;
};

struct conn {
  explicit conn(socket_t s) : sock(std::move(s)) {}

  socket_t sock;
  std::string in;          // unparsed input; empty (no heap) when idle
  std::vector<frame*> out; // queued frames; out[head] written from off
  std::vector<subscription> topics;
  frame* tail = nullptr;     // private frame at out.back(), still growing
  std::size_t out_bytes = 0; // unsent bytes
  std::uint32_t head = 0;
  std::uint32_t off = 0;
  std::uint8_t pending = 0; // outstanding async_waits
  bool ws = false;          // upgraded
  bool dirty = false;       // in the server's dirty list
  bool writing = false;     // waiting for writability
  bool dead = false;        // in the graveyard or gone
  bool reaped = false;      // closed; delete when pending reaches 0
  bool close_after = false; // close once the output drains
};

class server {
public:
  server(asio::io_context& io, std::uint16_t port);

  std::uint16_t port() const { return port_; }

  // ---- used by the protocol code (proto.cpp)
  /// Appends `bytes` to the connection's private output run.
  void send(conn* c, std::string_view bytes);
  void send_ws_text(conn* c, std::string_view payload);
  void send_ws(conn* c, unsigned char opcode, std::string_view payload);
  /// Queues one shared frame to every subscriber of `t`.
  void fan_out(topic_entry* t, frame* f);
  topic_entry* find_topic(std::string_view name);
  void subscribe(conn* c, std::string_view topic);
  void unsubscribe(conn* c, std::string_view topic);
  void kill(conn* c);
  std::uint64_t next_id() { return ++published_; }

private:
  void accept();
  void arm_read(conn* c);
  void arm_write(conn* c);
  void on_readable(conn* c);
  void consume(conn* c, char* p, std::size_t n);
  void mark_dirty(conn* c);
  void flush(conn* c);
  void advance(conn* c, std::size_t n);
  void settle(); // end of every handler: flush the dirty, close the dead
  void drop_topic(conn* c, std::size_t i);

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::unordered_map<std::string_view, std::unique_ptr<topic_entry>> topics_;
  std::vector<conn*> dirty_;
  std::vector<conn*> graveyard_;
  std::uint64_t published_ = 0;
  std::unique_ptr<char[]> scratch_;
};

/// Parses and answers as much of `p[0..n)` as is complete; returns the bytes
/// consumed. May upgrade the connection, queue output, or kill it.
std::size_t process(server& s, conn* c, char* p, std::size_t n);

} // namespace ceiling
