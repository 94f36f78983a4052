#include "http_client.hpp"

#include "protocol/http_url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

namespace herald::ctl {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

bool parse_endpoint(const std::string& url, endpoint& out, std::string& why) {
  auto parsed = protocol::parse_http_url(url, why);
  if (!parsed)
    return false;
  out.host = parsed->host;
  out.port = parsed->port;
  out.prefix = parsed->target;
  if (out.prefix.find('?') != std::string::npos) {
    why = "must not carry a query";
    return false;
  }
  while (!out.prefix.empty() && out.prefix.back() == '/')
    out.prefix.pop_back();
  out.text = url;
  return true;
}

std::string url_encode(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
        || c == '*') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

// Sync Asio calls cannot be given a deadline, so each step is an async
// operation run on a private io_context for at most `timeout`; when the
// time is up the socket is closed, which completes the operation.
class session {
public:
  explicit session(const std::function<bool()>& cancelled)
      : socket_{ioc_}, cancelled_{cancelled} {}

  /// Runs until `done` turns true or `timeout` passes; false on timeout.
  bool run(const bool& done, std::chrono::milliseconds timeout) {
    const auto slice = std::chrono::milliseconds{100};
    ioc_.restart();
    for (auto left = timeout; !done && left.count() > 0; left -= slice) {
      ioc_.run_for(std::min(slice, left));
      if (cancelled_ && cancelled_()) {
        was_cancelled_ = true;
        break;
      }
    }
    if (done)
      return true;
    error_code ignored;
    socket_.close(ignored);
    ioc_.restart();
    ioc_.run();
    return false;
  }

  /// Resolves and connects; the error text when it could not.
  std::optional<std::string> connect(const endpoint& where,
                                     std::chrono::milliseconds timeout) {
    tcp::resolver resolver{ioc_};
    bool done = false;
    error_code ec;
    tcp::resolver::results_type found;
    resolver.async_resolve(where.host, std::to_string(where.port),
                           [&](error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             found = std::move(r);
                             done = true;
                           });
    if (!run(done, timeout)) {
      resolver.cancel();
      return "resolving " + where.host + " timed out";
    }
    if (ec)
      return "cannot resolve " + where.host + ": " + ec.message();
    done = false;
    asio::async_connect(socket_, found,
                        [&](error_code e, const tcp::endpoint&) {
                          ec = e;
                          done = true;
                        });
    if (!run(done, timeout))
      return "connecting timed out";
    if (ec)
      return ec.message();
    return std::nullopt;
  }

  asio::io_context& ioc() { return ioc_; }
  tcp::socket& socket() { return socket_; }
  bool was_cancelled() const { return was_cancelled_; }

private:
  asio::io_context ioc_;
  tcp::socket socket_;
  const std::function<bool()>& cancelled_;
  bool was_cancelled_ = false;
};

http::request<http::string_body>
make_request(const std::string& method, const endpoint& where,
             const std::string& target, const std::string& token,
             const std::string& body, const char* accept) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(where.prefix + target);
  req.version(11);
  req.set(http::field::host, where.host + ":" + std::to_string(where.port));
  req.set(http::field::user_agent, "herald-ctl");
  req.set(http::field::accept, accept);
  req.set(http::field::connection, "close");
  if (!token.empty())
    req.set(http::field::authorization, "Bearer " + token);
  if (method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  return req;
}

// Splits a byte stream into server-sent events (the WHATWG rules the node
// follows: `field: value` lines, a blank line ends an event, `:` comments).
class sse_parser {
public:
  /// Feeds bytes; calls `emit` per complete event, stops when it says so.
  bool feed(const char* data, std::size_t n,
            const std::function<bool(const http_client::sse_event&)>& emit) {
    for (std::size_t i = 0; i < n; ++i) {
      char c = data[i];
      if (c == '\r')
        continue;
      if (c != '\n') {
        line_ += c;
        continue;
      }
      if (!line(emit))
        return false;
      line_.clear();
    }
    return true;
  }

private:
  bool line(const std::function<bool(const http_client::sse_event&)>& emit) {
    if (line_.empty()) {
      if (!has_data_) {
        name_.clear();
        return true;
      }
      http_client::sse_event ev{name_.empty() ? "message" : name_, data_};
      name_.clear();
      data_.clear();
      has_data_ = false;
      return emit(ev);
    }
    if (line_[0] == ':')
      return true;
    auto colon = line_.find(':');
    std::string field = line_.substr(0, colon);
    std::string value;
    if (colon != std::string::npos) {
      value = line_.substr(colon + 1);
      if (!value.empty() && value[0] == ' ')
        value.erase(0, 1);
    }
    if (field == "event") {
      name_ = value;
    } else if (field == "data") {
      if (has_data_)
        data_ += '\n';
      data_ += value;
      has_data_ = true;
    }
    return true;
  }

  std::string line_, name_, data_;
  bool has_data_ = false;
};

} // namespace

http_client::http_client(endpoint where, std::string token)
    : where_{std::move(where)}, token_{std::move(token)} {}

response http_client::get(const std::string& target) const {
  return request("GET", target, "");
}

response http_client::post(const std::string& target,
                           const std::string& json) const {
  return request("POST", target, json);
}

response http_client::request(const std::string& method,
                              const std::string& target,
                              const std::string& body) const {
  response out;
  session s{cancelled_};
  auto fail = [&](std::string why) {
    out.error = s.was_cancelled() ? "interrupted" : std::move(why);
    return out;
  };
  if (auto why = s.connect(where_, timeout_))
    return fail(*why);
  auto req =
      make_request(method, where_, target, token_, body, "application/json");
  bool done = false;
  error_code ec;
  http::async_write(s.socket(), req, [&](error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!s.run(done, timeout_) || ec)
    return fail(ec ? "sending the request: " + ec.message()
                   : "sending the request timed out");
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u * 1024 * 1024);
  done = false;
  http::async_read(s.socket(), buffer, parser, [&](error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!s.run(done, timeout_))
    return fail("no answer within " + std::to_string(timeout_.count()) + " ms");
  if (ec)
    return fail("reading the answer: " + ec.message());
  out.reached = true;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  return out;
}

response
http_client::stream(const std::string& target,
                    const std::function<bool(const sse_event&)>& on_event,
                    const std::function<bool()>& interrupted,
                    std::chrono::milliseconds idle) const {
  response out;
  session s{cancelled_};
  auto fail = [&](std::string why) {
    out.error = s.was_cancelled() ? "interrupted" : std::move(why);
    return out;
  };
  if (auto why = s.connect(where_, timeout_))
    return fail(*why);
  auto req = make_request("GET", where_, target, token_, "",
                          "text/event-stream, application/json");
  bool done = false;
  error_code ec;
  http::async_write(s.socket(), req, [&](error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!s.run(done, timeout_) || ec)
    return fail("sending the request failed");
  boost::beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  done = false;
  http::async_read_header(s.socket(), buffer, parser,
                          [&](error_code e, std::size_t) {
                            ec = e;
                            done = true;
                          });
  if (!s.run(done, timeout_) || ec)
    return fail(ec ? "reading the answer: " + ec.message()
                   : "no answer within " + std::to_string(timeout_.count())
                         + " ms");
  out.reached = true;
  out.status = static_cast<int>(parser.get().result_int());
  bool ok = out.status >= 200 && out.status < 300;
  std::array<char, 8192> chunk;
  sse_parser sse;
  auto quiet = std::chrono::milliseconds{0};
  const auto slice = std::chrono::milliseconds{200};
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    done = false;
    http::async_read_some(s.socket(), buffer, parser,
                          [&](error_code e, std::size_t) {
                            ec = e;
                            done = true;
                          });
    // Short slices so that Ctrl-C is seen while the stream is quiet.
    s.ioc().restart();
    while (!done) {
      s.ioc().run_for(slice);
      if (done)
        break;
      quiet += slice;
      if (interrupted() || quiet >= idle) {
        error_code ignored;
        s.socket().close(ignored);
        s.ioc().restart();
        s.ioc().run();
        if (!interrupted())
          out.error = "the stream went quiet";
        return out;
      }
    }
    if (ec && ec != http::error::need_buffer) {
      if (ec != http::error::end_of_stream && ec != asio::error::eof)
        out.error = "reading the stream: " + ec.message();
      break;
    }
    std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0)
      continue;
    quiet = std::chrono::milliseconds{0};
    if (!ok) {
      out.body.append(chunk.data(), got);
      continue;
    }
    if (!sse.feed(chunk.data(), got, on_event))
      break;
    if (interrupted())
      break;
  }
  return out;
}

} // namespace herald::ctl
