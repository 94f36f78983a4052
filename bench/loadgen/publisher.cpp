#include "publisher.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <netinet/in.h>
#include <strings.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace loadgen {

namespace {

constexpr std::size_t read_buffer_bytes = 256 * 1024;
constexpr int max_reconnects = 100;

// Where the header `name` (lower case, with its colon) starts in [p, end).
const char* find_header(const char* p, const char* end, const char* name) {
  auto n = std::strlen(name);
  for (const char* line = p; line < end;) {
    auto* eol = static_cast<const char*>(memchr(line, '\n', end - line));
    if (!eol)
      eol = end;
    if (static_cast<std::size_t>(eol - line) > n
        && strncasecmp(line, name, n) == 0)
      return line + n;
    line = eol + 1;
  }
  return nullptr;
}

} // namespace

struct publisher::conn {
  explicit conn(asio::io_context& ioc) : sock(ioc) {}
  tcp::socket sock;
  std::string in;
  std::string out;
  std::deque<int> events; // events carried by each request in flight
  bool alive = false;
  bool writing = false;
};

publisher::publisher(asio::io_context& ioc, const options& opts, stats& st)
    : ioc_(ioc), opts_(opts), st_(st),
      server_(asio::ip::make_address(opts.host),
              opts.publish_port != 0 ? opts.publish_port : opts.port),
      buf_(read_buffer_bytes), timer_(ioc) {
  head_ =
      std::string("POST /api/v1/publish") + (opts.batch > 0 ? "/batch" : "")
      + " HTTP/1.1\r\nHost: " + opts.host + ":"
      + std::to_string(opts.publish_port != 0 ? opts.publish_port : opts.port)
      + "\r\nAuthorization: Bearer " + opts.api_key
      + "\r\nContent-Type: application/json\r\nContent-Length: ";
}

publisher::~publisher() = default;

void publisher::connect(std::function<void()> ready) {
  ready_ = std::move(ready);
  for (int i = 0; i < opts_.publish_conns; ++i)
    conns_.push_back(std::make_unique<conn>(ioc_));
  pending_connects_ = static_cast<int>(conns_.size());
  if (conns_.empty())
    return ready_();
  for (auto& c : conns_)
    open(*c);
}

void publisher::open(conn& c) {
  boost::system::error_code ec;
  c.sock = tcp::socket(ioc_);
  c.sock.open(tcp::v4(), ec);
  if (!ec) {
    int one = 1;
    setsockopt(c.sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
               &one, sizeof one);
    c.sock.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0), ec);
  }
  auto connected = [this, &c](boost::system::error_code ec) {
    if (ec) {
      ++st_.http_errors;
      st_.note_error("publisher connect: " + ec.message());
    } else {
      c.alive = true;
      c.sock.non_blocking(true, ec);
      c.sock.set_option(tcp::no_delay(true), ec);
      c.sock.async_wait(tcp::socket::wait_read,
                        [this, &c](boost::system::error_code ec) {
                          if (!ec && c.alive)
                            on_readable(c);
                        });
    }
    if (pending_connects_ > 0 && --pending_connects_ == 0 && ready_)
      ready_();
    else if (pending_connects_ == 0)
      pump();
  };
  if (ec)
    return asio::post(ioc_, [connected, ec] { connected(ec); });
  c.sock.async_connect(server_, connected);
}

void publisher::begin(std::function<double()> fanout) {
  fanout_ = std::move(fanout);
  sending_ = true;
  started_ns_ = mono_ns();
  tick();
  pump();
}

void publisher::stop() {
  sending_ = false;
  timer_.cancel();
}

void publisher::tick() {
  if (!sending_)
    return;
  pump();
  timer_.expires_after(std::chrono::milliseconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec)
      tick();
  });
}

int64_t publisher::in_flight() const {
  int64_t n = 0;
  for (auto& c : conns_)
    n += static_cast<int64_t>(c->events.size());
  return n;
}

int publisher::connected() const {
  return static_cast<int>(std::count_if(conns_.begin(), conns_.end(),
                                        [](auto& c) { return c->alive; }));
}

void publisher::pump() {
  if (!sending_ || pumping_ || conns_.empty())
    return;
  pumping_ = true;
  auto now = mono_ns();
  const int64_t per_req = opts_.batch > 0 ? opts_.batch : 1;
  int64_t budget = INT64_MAX;
  if (opts_.count > 0)
    budget = opts_.count - st_.events_sent;
  if (opts_.rate > 0) {
    auto due = static_cast<int64_t>(
                   opts_.rate * static_cast<double>(now - started_ns_) / 1e9)
               + 1;
    budget = std::min(budget, due - st_.events_sent);
  }
  double fan = fanout_ ? fanout_() : 0;
  if (opts_.max_outstanding > 0 && fan > 0) {
    auto owed = static_cast<double>(st_.events_sent - st_.events_refused) * fan
                - static_cast<double>(st_.received);
    budget = std::min(
        budget,
        static_cast<int64_t>(std::floor(
            (static_cast<double>(opts_.max_outstanding) - owed) / fan)));
  }
  // Whole batches only, except the last one of a bounded count.
  auto sendable = [&] {
    return budget >= per_req
           || (opts_.count > 0 && budget > 0
               && opts_.count - st_.events_sent == budget);
  };
  std::size_t idle = 0;
  while (sendable() && idle < conns_.size()) {
    auto& c = *conns_[rr_++ % conns_.size()];
    if (!c.alive || static_cast<int>(c.events.size()) >= opts_.pipeline) {
      ++idle;
      continue;
    }
    idle = 0;
    auto before = st_.events_sent;
    add_request(c, std::min(budget, per_req));
    budget -= st_.events_sent - before;
  }
  for (auto& c : conns_)
    if (c->alive && !c->out.empty())
      flush(*c);
  pumping_ = false;
}

void publisher::add_request(conn& c, int64_t events) {
  std::string t = std::to_string(mono_ns());
  // data is {"t":<ns>,"pad":"xx..."}, exactly `payload` bytes when it can.
  std::size_t fixed = 5 + t.size() + 8 + 2;
  auto pad = std::string(
      opts_.payload > static_cast<int>(fixed) ? opts_.payload - fixed : 0, 'x');
  auto event = [&] {
    auto topic = topic_rr_++ % std::max(1, opts_.topics);
    return R"({"topic":")" + opts_.topic_prefix + std::to_string(topic)
           + R"(","event_type":"bench.tick","data":{"t":)" + t + R"(,"pad":")"
           + pad + "\"}}";
  };
  std::string body;
  if (opts_.batch > 0) {
    body = R"({"events":[)";
    for (int64_t i = 0; i < events; ++i)
      body += (i ? "," : "") + event();
    body += "]}";
  } else {
    body = event();
  }
  c.out += head_;
  c.out += std::to_string(body.size());
  c.out += "\r\n\r\n";
  c.out += body;
  c.events.push_back(static_cast<int>(events));
  ++st_.requests_sent;
  st_.events_sent += events;
}

void publisher::flush(conn& c) {
  if (c.writing || c.out.empty())
    return;
  auto n = write_now(c.sock, c.out.data(), c.out.size());
  if (n < 0)
    return lost(c, "publisher write failed");
  c.out.erase(0, static_cast<std::size_t>(n));
  if (c.out.empty())
    return;
  c.writing = true;
  c.sock.async_wait(tcp::socket::wait_write,
                    [this, &c](boost::system::error_code ec) {
                      c.writing = false;
                      if (!ec && c.alive)
                        flush(c);
                    });
}

void publisher::on_readable(conn& c) {
  for (;;) {
    boost::system::error_code ec;
    auto n = c.sock.read_some(asio::buffer(buf_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again)
      break;
    if (ec)
      return lost(c, "publisher read: " + ec.message());
    if (c.in.empty()) {
      auto used = parse(c, buf_.data(), n);
      if (used < n)
        c.in.assign(buf_.data() + used, n - used);
    } else {
      c.in.append(buf_.data(), n);
      c.in.erase(0, parse(c, c.in.data(), c.in.size()));
    }
    if (n < buf_.size())
      break;
  }
  c.sock.async_wait(tcp::socket::wait_read,
                    [this, &c](boost::system::error_code ec) {
                      if (!ec && c.alive)
                        on_readable(c);
                    });
  pump();
}

std::size_t publisher::parse(conn& c, const char* p, std::size_t len) {
  std::size_t pos = 0;
  while (pos < len) {
    auto* start = p + pos;
    auto* end = p + len;
    auto* hdr_end =
        static_cast<const char*>(memmem(start, end - start, "\r\n\r\n", 4));
    if (!hdr_end)
      break;
    int status = 0;
    if (hdr_end - start > 12)
      status = std::atoi(start + 9);
    const char* body = hdr_end + 4;
    const char* stop = nullptr;
    if (auto* cl = find_header(start, hdr_end, "content-length:")) {
      auto body_len = std::strtoull(cl, nullptr, 10);
      if (static_cast<std::size_t>(end - body) >= body_len)
        stop = body + body_len;
    } else if (auto* te = find_header(start, hdr_end, "transfer-encoding:");
               te && memmem(te, hdr_end - te, "chunked", 7)) {
      const char* q = body;
      while (q < end) {
        auto* eol = static_cast<const char*>(memmem(q, end - q, "\r\n", 2));
        if (!eol)
          break;
        auto size = std::strtoull(q, nullptr, 16);
        q = eol + 2 + size + 2;
        if (size == 0) {
          if (q <= end)
            stop = q;
          break;
        }
      }
    } else {
      stop = body; // no body
    }
    if (!stop)
      break;
    pos = static_cast<std::size_t>(stop - p);
    on_response(c, status);
  }
  return pos;
}

void publisher::on_response(conn& c, int status) {
  ++st_.responses;
  ++st_.status_counts[status];
  int events = 1;
  if (!c.events.empty()) {
    events = c.events.front();
    c.events.pop_front();
  }
  if (status >= 200 && status < 300) {
    st_.events_accepted += events;
    if (st_.in_window)
      st_.events_accepted_window += events;
  } else {
    st_.events_refused += events;
  }
}

void publisher::lost(conn& c, const std::string& why) {
  if (!c.alive)
    return;
  c.alive = false;
  ++st_.http_errors;
  st_.note_error(why + " (" + std::to_string(c.events.size())
                 + " requests in flight, "
                 + (sending_ ? "while publishing)" : "after publishing)"));
  for (int n : c.events)
    st_.events_refused += n;
  c.events.clear();
  c.in.clear();
  c.out.clear();
  boost::system::error_code ec;
  c.sock.close(ec);
  if (sending_ && reconnects_++ < max_reconnects) {
    auto t = std::make_shared<asio::steady_timer>(ioc_);
    t->expires_after(std::chrono::milliseconds(50));
    t->async_wait([this, t, &c](boost::system::error_code ec) {
      if (!ec && sending_)
        open(c);
    });
  }
}

void publisher::close_all() {
  stop();
  for (auto& c : conns_) {
    c->alive = false;
    boost::system::error_code ec;
    c->sock.close(ec);
  }
}

} // namespace loadgen
