#pragma once

// A small synchronous HTTP/1.1 client for the node's admin API: one
// connection per request, every step bounded by a timeout, and a
// server-sent events reader for the stream routes. Plain http only: the
// admin listener is loopback by default and speaks no TLS.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace herald::ctl {

/// Where the admin API lives: `http://host:port[/prefix]`.
struct endpoint {
  std::string host;
  uint16_t port = 0;
  std::string prefix; ///< path before `/admin/v1`, without trailing slash
  std::string text;   ///< the URL as given, for messages
};

/// Parses `url`; false with `why` set when it is not an http URL.
bool parse_endpoint(const std::string& url, endpoint& out, std::string& why);

/// What a request came to.
struct response {
  bool reached = false; ///< false: could not connect or no answer in time
  std::string error;    ///< why not reached (connect refused, timed out)
  int status = 0;
  std::string body;
};

/// One request/answer against the admin API.
class http_client {
public:
  /// `token` goes as `Authorization: Bearer`; empty sends none.
  http_client(endpoint where, std::string token);

  /// Sets how long connecting and each read or write may take.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  /// `GET prefix + target`.
  response get(const std::string& target) const;

  /// `POST prefix + target` with a JSON body (may be empty).
  response post(const std::string& target, const std::string& json) const;

  /// A server-sent event: its `event:` name (default "message") and data.
  struct sse_event {
    std::string name;
    std::string data;
  };

  /// Opens a stream and calls `on_event` for each event until it returns
  /// false, the node ends the stream, `interrupted()` turns true (checked
  /// a few times a second) or nothing (not even a heartbeat) arrives for
  /// `idle`. A non-2xx answer comes back as a response with its body; a
  /// stream that ran has status 200 and an empty body.
  response stream(const std::string& target,
                  const std::function<bool(const sse_event&)>& on_event,
                  const std::function<bool()>& interrupted,
                  std::chrono::milliseconds idle) const;

  /// Makes every wait give up early once `cancelled()` turns true
  /// (Ctrl-C); the response is then not reached, with error "interrupted".
  void set_cancel(std::function<bool()> cancelled) {
    cancelled_ = std::move(cancelled);
  }

  const endpoint& where() const { return where_; }

private:
  response request(const std::string& method, const std::string& target,
                   const std::string& body) const;

  endpoint where_;
  std::string token_;
  std::chrono::milliseconds timeout_{5000};
  std::function<bool()> cancelled_;
};

/// Percent-encodes `text` for a query value or a path segment.
std::string url_encode(const std::string& text);

} // namespace herald::ctl
