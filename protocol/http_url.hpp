#pragma once

// A plain-HTTP URL as the node calls out to (the chat events webhook):
// http://host[:port][/path]. No TLS, no user info, no fragment: the node
// posts on a trusted network, and a URL it cannot honour is refused at
// start rather than half-used.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::protocol {

struct http_url {
  std::string host;
  uint16_t port = 80;
  std::string target = "/"; ///< path and query, as sent
};

/// The parsed URL, or none with `why` set.
std::optional<http_url> parse_http_url(std::string_view text, std::string& why);

} // namespace herald::protocol
