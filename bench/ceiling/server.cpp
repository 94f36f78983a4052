// Connection I/O of the ceiling server: reactor-style reads into one shared
// scratch buffer (an idle connection owns no read buffer), coalesced gathered
// writes, subscriptions in an exact-topic hash map.

#include "ceiling.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace ceiling {

namespace {
constexpr std::size_t scratch_size = 256u << 10;
constexpr int max_iov = 256;
constexpr std::uint32_t keep_out_capacity = 64;
} // namespace

frame* frame::make(std::size_t cap) {
  auto f = static_cast<frame*>(std::malloc(sizeof(frame) + cap));
  if (f == nullptr)
    throw std::bad_alloc{};
  f->refs = 1;
  f->len = 0;
  f->cap = static_cast<std::uint32_t>(cap);
  return f;
}

frame* frame::grow(frame* f, std::size_t cap) {
  auto g = static_cast<frame*>(std::realloc(f, sizeof(frame) + cap));
  if (g == nullptr)
    throw std::bad_alloc{};
  g->cap = static_cast<std::uint32_t>(cap);
  return g;
}

void frame::release(frame* f) {
  if (--f->refs == 0)
    std::free(f);
}

server::server(asio::io_context& io, std::uint16_t port)
    : io_(io), acceptor_(io), scratch_(new char[scratch_size]) {
  tcp::endpoint ep{asio::ip::make_address_v4("127.0.0.1"), port};
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(65535);
  port_ = acceptor_.local_endpoint().port();
  accept();
}

void server::accept() {
  acceptor_.async_accept(
      io_, [this](boost::system::error_code ec, socket_t sock) {
        if (ec == asio::error::operation_aborted)
          return;
        if (ec) {
          // Out of descriptors (EMFILE) and the like: breathe, then go on.
          auto t = std::make_shared<asio::steady_timer>(
              io_, std::chrono::milliseconds(50));
          t->async_wait([this, t](boost::system::error_code) { accept(); });
          return;
        }
        auto c = new conn(std::move(sock));
        c->sock.non_blocking(true);
        int fd = c->sock.native_handle();
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        on_readable(c); // the request may already be there
        accept();
      });
}

void server::arm_read(conn* c) {
  ++c->pending;
  c->sock.async_wait(socket_t::wait_read,
                     [this, c](boost::system::error_code ec) {
                       if (--c->pending == 0 && c->reaped) {
                         delete c;
                         return;
                       }
                       if (c->dead)
                         return;
                       if (ec) {
                         kill(c);
                         settle();
                         return;
                       }
                       on_readable(c);
                     });
}

void server::arm_write(conn* c) {
  if (c->writing)
    return;
  c->writing = true;
  ++c->pending;
  c->sock.async_wait(socket_t::wait_write,
                     [this, c](boost::system::error_code ec) {
                       c->writing = false;
                       if (--c->pending == 0 && c->reaped) {
                         delete c;
                         return;
                       }
                       if (c->dead)
                         return;
                       if (ec)
                         kill(c);
                       else
                         flush(c);
                       settle();
                     });
}

void server::on_readable(conn* c) {
  int fd = c->sock.native_handle();
  for (int round = 0; round < 8 && !c->dead && !c->close_after; ++round) {
    ssize_t n = ::recv(fd, scratch_.get(), scratch_size, 0);
    if (n > 0) {
      consume(c, scratch_.get(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < scratch_size)
        break; // drained for now; the re-armed wait reports any more
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    kill(c); // EOF or error
  }
  if (!c->dead && !c->close_after)
    arm_read(c);
  settle();
}

void server::consume(conn* c, char* p, std::size_t n) {
  if (c->in.empty()) {
    std::size_t used = process(*this, c, p, n);
    if (used < n && !c->dead)
      c->in.assign(p + used, n - used);
    return;
  }
  c->in.append(p, n);
  std::size_t used = process(*this, c, c->in.data(), c->in.size());
  c->in.erase(0, used);
  if (c->in.empty())
    std::string().swap(c->in); // an idle connection keeps no buffer
}

void server::send(conn* c, std::string_view bytes) {
  if (c->dead)
    return;
  frame* f = c->tail;
  if (f == nullptr) {
    f = frame::make(std::max<std::size_t>(bytes.size(), 128));
    c->out.push_back(f);
    c->tail = f;
  } else if (f->len + bytes.size() > f->cap) {
    f = frame::grow(f, std::max<std::size_t>(f->len + bytes.size(),
                                             2 * std::size_t{f->cap}));
    c->out.back() = f;
    c->tail = f;
  }
  std::memcpy(f->data() + f->len, bytes.data(), bytes.size());
  f->len += static_cast<std::uint32_t>(bytes.size());
  c->out_bytes += bytes.size();
  if (c->out_bytes > max_backlog)
    kill(c);
  mark_dirty(c);
}

void server::send_ws(conn* c, unsigned char opcode, std::string_view payload) {
  char h[10];
  std::size_t hl = 2;
  h[0] = static_cast<char>(0x80 | opcode);
  std::size_t n = payload.size();
  if (n < 126) {
    h[1] = static_cast<char>(n);
  } else if (n < 65536) {
    h[1] = 126;
    h[2] = static_cast<char>(n >> 8);
    h[3] = static_cast<char>(n);
    hl = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i)
      h[2 + i] = static_cast<char>(std::uint64_t{n} >> (56 - 8 * i));
    hl = 10;
  }
  send(c, {h, hl});
  send(c, payload);
}

void server::send_ws_text(conn* c, std::string_view payload) {
  send_ws(c, 0x1, payload);
}

void server::fan_out(topic_entry* t, frame* f) {
  for (conn* c : t->subs) {
    if (c->dead)
      continue;
    ++f->refs;
    c->out.push_back(f);
    c->tail = nullptr;
    c->out_bytes += f->len;
    if (c->out_bytes > max_backlog)
      kill(c);
    else
      mark_dirty(c);
  }
}

void server::mark_dirty(conn* c) {
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void server::flush(conn* c) {
  int fd = c->sock.native_handle();
  iovec iov[max_iov];
  while (c->head < c->out.size()) {
    int k = 0;
    std::size_t total = 0;
    for (std::size_t i = c->head; i < c->out.size() && k < max_iov; ++i, ++k) {
      frame* f = c->out[i];
      std::size_t off = i == c->head ? c->off : 0;
      iov[k].iov_base = f->data() + off;
      iov[k].iov_len = f->len - off;
      total += f->len - off;
    }
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = static_cast<std::size_t>(k);
    ssize_t w = ::sendmsg(fd, &m, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return arm_write(c);
      return kill(c);
    }
    advance(c, static_cast<std::size_t>(w));
    if (static_cast<std::size_t>(w) < total)
      return arm_write(c); // the socket buffer is full
  }
  if (c->close_after)
    kill(c);
}

void server::advance(conn* c, std::size_t n) {
  c->out_bytes -= n;
  while (n > 0) {
    frame* f = c->out[c->head];
    std::size_t rest = f->len - c->off;
    if (n < rest) {
      c->off += static_cast<std::uint32_t>(n);
      break;
    }
    n -= rest;
    if (f == c->tail)
      c->tail = nullptr;
    frame::release(f);
    ++c->head;
    c->off = 0;
  }
  if (c->head == c->out.size()) {
    c->out.clear();
    c->head = 0;
    if (c->out.capacity() > keep_out_capacity)
      std::vector<frame*>().swap(c->out);
  } else if (c->head >= 1024 && 2 * c->head >= c->out.size()) {
    c->out.erase(c->out.begin(), c->out.begin() + c->head);
    c->head = 0;
  }
}

void server::kill(conn* c) {
  if (c->dead)
    return;
  c->dead = true;
  graveyard_.push_back(c);
}

void server::settle() {
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    conn* c = dirty_[i];
    c->dirty = false;
    if (!c->dead && !c->writing)
      flush(c);
  }
  dirty_.clear();
  for (conn* c : graveyard_) {
    while (!c->topics.empty())
      drop_topic(c, c->topics.size() - 1);
    for (std::size_t i = c->head; i < c->out.size(); ++i)
      frame::release(c->out[i]);
    c->out.clear();
    c->tail = nullptr;
    boost::system::error_code ec;
    c->sock.close(ec); // pending waits complete with operation_aborted
    c->reaped = true;
    if (c->pending == 0)
      delete c;
  }
  graveyard_.clear();
}

topic_entry* server::find_topic(std::string_view name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

void server::subscribe(conn* c, std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    auto t = std::make_unique<topic_entry>();
    t->name.assign(name);
    std::string_view key = t->name;
    it = topics_.emplace(key, std::move(t)).first;
  }
  topic_entry* t = it->second.get();
  for (auto& s : c->topics)
    if (s.topic == t)
      return;
  c->topics.push_back({t, static_cast<std::uint32_t>(t->subs.size())});
  t->subs.push_back(c);
}

void server::unsubscribe(conn* c, std::string_view name) {
  for (std::size_t i = 0; i < c->topics.size(); ++i)
    if (c->topics[i].topic->name == name)
      return drop_topic(c, i);
}

void server::drop_topic(conn* c, std::size_t i) {
  subscription s = c->topics[i];
  c->topics[i] = c->topics.back();
  c->topics.pop_back();
  topic_entry* t = s.topic;
  conn* moved = t->subs.back();
  t->subs[s.index] = moved;
  t->subs.pop_back();
  if (moved != c)
    for (auto& ms : moved->topics)
      if (ms.topic == t)
        ms.index = s.index;
  if (t->subs.empty())
    topics_.erase(topics_.find(std::string_view{t->name}));
  if (c->topics.empty())
    std::vector<subscription>().swap(c->topics);
}

} // namespace ceiling
