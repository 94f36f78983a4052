#include "protocol/http_url.hpp"

#include <cctype>

namespace herald::protocol {

std::optional<http_url> parse_http_url(std::string_view text,
                                       std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) {
    why = text.substr(0, 8) == "https://"
              ? "https is not supported for outbound calls; use http://"
              : "must start with http://";
    return std::nullopt;
  }
  auto rest = text.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  http_url out;
  if (slash != std::string_view::npos)
    out.target = std::string{rest.substr(slash)};
  if (out.target.find('#') != std::string::npos) {
    why = "must not have a fragment";
    return std::nullopt;
  }
  for (char c : out.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      why = "the path must not hold spaces or control characters";
      return std::nullopt;
    }
  if (authority.find('@') != std::string_view::npos) {
    why = "must not carry user info";
    return std::nullopt;
  }
  auto colon = authority.rfind(':');
  auto host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    auto digits = authority.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) {
      why = "the port must be 1..65535";
      return std::nullopt;
    }
    uint32_t port = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        why = "the port must be 1..65535";
        return std::nullopt;
      }
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) {
      why = "the port must be 1..65535";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (host.empty() || host.size() > 253) {
    why = "needs a host";
    return std::nullopt;
  }
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'
          || c == '_')) {
      why = "the host must be a name or an IPv4 address";
      return std::nullopt;
    }
  out.host = std::string{host};
  return out;
}

} // namespace herald::protocol
