#include "subscribers.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace loadgen {

namespace {

constexpr std::size_t read_buffer_bytes = 256 * 1024;
constexpr std::size_t max_handshake_bytes = 16 * 1024;
constexpr uint64_t max_frame_bytes = 16 * 1024 * 1024;
constexpr int max_events = 1024;

bool contains(const char* p, std::size_t len, const char* needle) {
  return memmem(p, len, needle, std::strlen(needle)) != nullptr;
}

} // namespace

struct subscribers::conn {
  enum class phase : uint8_t {
    connecting,
    handshaking,
    subscribing,
    live,
    dead
  };
  int fd = -1;
  uint32_t index = 0;
  uint32_t events = 0; // registered in the epoll set
  uint16_t acks = 0;
  phase state = phase::connecting;
  bool in_setup = true;
  std::string in;  // bytes of an incomplete handshake or frame
  std::string out; // bytes the socket has not taken yet
};

subscribers::subscribers(asio::io_context& ioc, const options& opts, stats& st)
    : ioc_(ioc), opts_(opts), st_(st), epfd_(epoll_create1(EPOLL_CLOEXEC)),
      epoll_(ioc), pause_(ioc), buf_(read_buffer_bytes) {
  server_ip_ = asio::ip::make_address_v4(opts.host).to_uint();
  if (epfd_ >= 0)
    epoll_.assign(epfd_);
}

subscribers::~subscribers() {
  close_all();
}

double subscribers::fanout() const {
  if (opts_.topics <= 0)
    return 0;
  return static_cast<double>(st_.subscribed) * opts_.topics_per_conn
         / opts_.topics;
}

void subscribers::start(std::function<void()> done) {
  done_ = std::move(done);
  conns_.reserve(static_cast<std::size_t>(opts_.connections));
  for (int i = 0; i < opts_.connections; ++i) {
    conns_.push_back(std::make_unique<conn>());
    conns_.back()->index = static_cast<uint32_t>(i);
  }
  if (conns_.empty() || epfd_ < 0) {
    st_.note_error(epfd_ < 0 ? "epoll_create1 failed" : "");
    give_up();
    return;
  }
  watch();
  open_next();
}

void subscribers::give_up() {
  if (done_called_)
    return;
  done_called_ = true;
  if (done_)
    done_();
}

void subscribers::open_next() {
  auto limit = static_cast<std::size_t>(std::max(1, opts_.connect_concurrency));
  while (in_setup_ < limit && next_ < conns_.size()) {
    ++in_setup_;
    auto i = next_++;
    asio::post(ioc_, [this, i] { open(i); });
  }
}

void subscribers::open(std::size_t i) {
  auto& c = *conns_[i];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    ++st_.connect_errors;
    return fail(c, std::string("socket: ") + std::strerror(errno));
  }
  ++live_fds_;
  // The port is picked at connect time, per destination, so that each
  // source address offers the whole ephemeral range.
  int one = 1;
  setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int sources =
      opts_.sources > 0 ? opts_.sources : opts_.connections / 10000 + 1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr =
      htonl(0x7f000000u
            + static_cast<uint32_t>(opts_.source_base
                                    + static_cast<int>(i % sources)));
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = htonl(server_ip_);
  dst.sin_port = htons(opts_.port);
  if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0
      || (connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0
          && errno != EINPROGRESS)) {
    ++st_.connect_errors;
    return fail(c, std::string("bind/connect: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.ptr = &c;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
    ++st_.connect_errors;
    return fail(c, std::string("epoll_ctl: ") + std::strerror(errno));
  }
  c.events = EPOLLOUT;
}

void subscribers::watch() {
  if (watching_)
    return;
  watching_ = true;
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      watching_ = false;
                      if (!ec)
                        on_events();
                    });
}

void subscribers::on_events() {
  epoll_event events[max_events];
  int n = epoll_wait(epfd_, events, max_events, 0);
  for (int k = 0; k < n; ++k) {
    auto& c = *static_cast<conn*>(events[k].data.ptr);
    auto e = events[k].events;
    if (c.state == conn::phase::dead)
      continue;
    if (c.state == conn::phase::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (e & (EPOLLERR | EPOLLHUP))) {
        ++st_.connect_errors;
        fail(c, std::string("connect: ") + std::strerror(err ? err : EIO));
      } else {
        on_connected(c);
      }
      continue;
    }
    if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
      on_readable(c);
    if ((e & EPOLLOUT) && c.state != conn::phase::dead)
      flush(c);
  }
  if (on_frames_ && n > 0)
    on_frames_();
  if (n == max_events) { // more may be ready: let timers and others run first
    asio::post(ioc_, [this] { on_events(); });
  } else if (opts_.coalesce_us > 0 && n > 0) {
    // Let frames gather, so that one recv takes several: fewer system
    // calls per delivery under load, at most coalesce_us more latency.
    pause_.expires_after(std::chrono::microseconds(opts_.coalesce_us));
    pause_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        on_events();
    });
  } else {
    watch();
  }
}

void subscribers::set_events(conn& c, uint32_t events) {
  if (c.events == events)
    return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.events = events;
}

void subscribers::on_connected(conn& c) {
  ++st_.opened;
  c.state = conn::phase::handshaking;
  set_events(c, EPOLLIN);
  auto token = mint_token(opts_.secret, "bench-" + std::to_string(c.index),
                          opts_.customer);
  std::string req = "GET /ws?token=" + token + " HTTP/1.1\r\nHost: "
                    + opts_.host + ":" + std::to_string(opts_.port)
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
  send(c, req.data(), req.size());
}

void subscribers::send(conn& c, const char* data, std::size_t len) {
  if (!c.out.empty()) {
    c.out.append(data, len);
    return;
  }
  auto n = ::send(c.fd, data, len, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    ++st_.io_errors;
    return fail(c, std::string("send: ") + std::strerror(errno));
  }
  auto sent = static_cast<std::size_t>(std::max<ssize_t>(n, 0));
  if (sent < len) {
    c.out.assign(data + sent, len - sent);
    set_events(c, EPOLLIN | EPOLLOUT);
  }
}

void subscribers::flush(conn& c) {
  if (c.out.empty())
    return set_events(c, EPOLLIN);
  auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    ++st_.io_errors;
    return fail(c, std::string("send: ") + std::strerror(errno));
  }
  c.out.erase(0, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  if (c.out.empty())
    set_events(c, EPOLLIN);
}

// One recv per readiness: the set is level-triggered, so what is left is
// reported again by the next epoll_wait.
void subscribers::on_readable(conn& c) {
  auto r = ::recv(c.fd, buf_.data(), buf_.size(), 0);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return;
  if (r <= 0) {
    if (c.state == conn::phase::live)
      ++st_.io_errors;
    else if (c.state == conn::phase::handshaking)
      ++st_.handshake_errors;
    else
      ++st_.subscribe_errors;
    return fail(c, r == 0 ? "read: end of file"
                          : std::string("read: ") + std::strerror(errno));
  }
  auto n = static_cast<std::size_t>(r);
  st_.bytes_received += r;
  if (c.in.empty()) {
    auto used = parse(c, buf_.data(), n);
    if (c.state != conn::phase::dead && used < n)
      c.in.assign(buf_.data() + used, n - used);
  } else {
    c.in.append(buf_.data(), n);
    auto used = parse(c, c.in.data(), c.in.size());
    if (c.state != conn::phase::dead)
      c.in.erase(0, used);
  }
}

bool subscribers::on_handshake(conn& c, const char* p, std::size_t len,
                               std::size_t& used) {
  auto* end = static_cast<const char*>(memmem(p, len, "\r\n\r\n", 4));
  if (!end) {
    if (len > max_handshake_bytes) {
      ++st_.handshake_errors;
      fail(c, "handshake response too long");
    }
    return false;
  }
  if (len < 12 || std::memcmp(p, "HTTP/1.1 101", 12) != 0) {
    ++st_.handshake_errors;
    auto eol = static_cast<const char*>(memchr(p, '\r', len));
    fail(c, "upgrade refused: " + std::string(p, eol ? eol - p : 0));
    return false;
  }
  used = static_cast<std::size_t>(end - p) + 4;
  c.state = conn::phase::subscribing;
  for (int j = 0; j < opts_.topics_per_conn; ++j) {
    auto topic = (static_cast<int64_t>(c.index) * opts_.topics_per_conn + j)
                 % std::max(1, opts_.topics);
    send_frame(c, 1,
               R"({"type":"subscribe","topics":[")" + opts_.topic_prefix
                   + std::to_string(topic) + R"("],"id":"s"})");
  }
  return c.state != conn::phase::dead;
}

std::size_t subscribers::parse(conn& c, const char* p, std::size_t len) {
  std::size_t pos = 0;
  if (c.state == conn::phase::handshaking && !on_handshake(c, p, len, pos))
    return 0;
  auto u = [p](std::size_t k) {
    return static_cast<uint64_t>(static_cast<unsigned char>(p[k]));
  };
  while (len - pos >= 2) {
    auto b0 = u(pos), b1 = u(pos + 1);
    std::size_t hdr = 2;
    uint64_t plen = b1 & 0x7f;
    if (plen == 126) {
      if (len - pos < 4)
        break;
      plen = u(pos + 2) << 8 | u(pos + 3);
      hdr = 4;
    } else if (plen == 127) {
      if (len - pos < 10)
        break;
      plen = 0;
      for (std::size_t k = 2; k < 10; ++k)
        plen = plen << 8 | u(pos + k);
      hdr = 10;
    }
    if ((b1 & 0x80) || plen > max_frame_bytes) {
      ++st_.io_errors;
      fail(c, "bad frame from server");
      return len;
    }
    if (len - pos - hdr < plen)
      break;
    on_frame(c, static_cast<int>(b0 & 0x0f), p + pos + hdr,
             static_cast<std::size_t>(plen));
    pos += hdr + static_cast<std::size_t>(plen);
    if (c.state == conn::phase::dead)
      return len;
  }
  return pos;
}

void subscribers::on_frame(conn& c, int opcode, const char* p,
                           std::size_t len) {
  if (opcode <= 2) { // continuation, text, binary
    if (auto* t = static_cast<const char*>(memmem(p, len, "\"t\":", 4))) {
      const char* q = t + 4;
      const char* e = p + len;
      int64_t sent = 0;
      while (q < e && *q >= '0' && *q <= '9')
        sent = sent * 10 + (*q++ - '0');
      ++st_.received;
      if (st_.in_window)
        ++st_.received_window;
      if (st_.recording)
        st_.latency.record(mono_ns() - sent);
      return;
    }
    if (c.state == conn::phase::subscribing) {
      if (contains(p, len, "\"type\":\"ack\"")) {
        if (++c.acks >= opts_.topics_per_conn) {
          c.state = conn::phase::live;
          ++st_.subscribed;
          setup_finished(c, true);
        }
        return;
      }
      if (contains(p, len, "\"type\":\"error\"")) {
        ++st_.subscribe_errors;
        st_.note_error("subscribe refused: " + std::string(p, len));
        c.state = conn::phase::live;
        setup_finished(c, false);
        return;
      }
    }
    ++st_.other_frames;
    return;
  }
  if (opcode == 8) { // close
    int code = len >= 2 ? (static_cast<unsigned char>(p[0]) << 8)
                              | static_cast<unsigned char>(p[1])
                        : 1005;
    ++st_.closed_by_server;
    ++st_.close_codes[code];
    return fail(c, "closed by the server with " + std::to_string(code));
  }
  if (opcode == 9) { // ping
    ++st_.pings;
    send_frame(c, 10, std::string(p, len));
  }
}

void subscribers::send_frame(conn& c, int opcode, const std::string& payload) {
  std::string f;
  f.reserve(payload.size() + 8);
  f += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8 & 0xff);
    f += static_cast<char>(payload.size() & 0xff);
  }
  mask_seed_ ^= mask_seed_ << 13;
  mask_seed_ ^= mask_seed_ >> 17;
  mask_seed_ ^= mask_seed_ << 5;
  char mask[4];
  std::memcpy(mask, &mask_seed_, 4);
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ mask[i % 4]);
  send(c, f.data(), f.size());
}

void subscribers::setup_finished(conn& c, bool ok) {
  (void)ok;
  if (!c.in_setup)
    return;
  c.in_setup = false;
  --in_setup_;
  ++settled_;
  if (settled_ == conns_.size())
    give_up();
  else
    open_next();
}

void subscribers::fail(conn& c, const std::string& why) {
  if (c.state == conn::phase::dead)
    return;
  if (!why.empty())
    st_.note_error(why);
  c.state = conn::phase::dead;
  if (c.fd >= 0) {
    ::close(c.fd); // also leaves the epoll set
    c.fd = -1;
    --live_fds_;
  }
  std::string().swap(c.in);
  std::string().swap(c.out);
  setup_finished(c, false);
}

void subscribers::close_all() {
  for (auto& c : conns_)
    if (c->fd >= 0) {
      ::close(c->fd);
      c->fd = -1;
      c->state = conn::phase::dead;
    }
}

} // namespace loadgen
