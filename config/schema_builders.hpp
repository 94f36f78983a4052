#pragma once

// Checks of string values and builders of key_spec entries, shared by the
// files that fill the key table (schema.cpp, schema_cluster.cpp).

#include "config/schema.hpp"
#include "protocol/sse.hpp"

#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace herald::config::detail {

constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

// -- checks of string values -------------------------------------------------

inline std::string check_node_name(const std::string& s) {
  auto ok = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'
           || c == '@' || c == '-';
  };
  if (s.empty() || s.size() > 128)
    return "must be 1 to 128 characters from [A-Za-z0-9_.@-]";
  for (char c : s)
    if (!ok(c))
      return "must be 1 to 128 characters from [A-Za-z0-9_.@-]";
  return {};
}

inline std::string check_address(const std::string& s) {
  // An IP literal (v4, v6 with an optional %scope) or a host name; the net
  // module resolves it. This only keeps out what can never work.
  auto ok = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':'
           || c == '-' || c == '_' || c == '%';
  };
  if (s.empty() || s.size() > 255)
    return "must be an IP address or a host name";
  for (char c : s)
    if (!ok(c))
      return "must be an IP address or a host name";
  return {};
}

inline std::string check_host_port(const std::string& s) {
  // host:port, the host as check_address takes it; `[v6]:port` too.
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return "must be host:port";
  auto host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (!check_address(host).empty())
    return "must be host:port";
  auto port = s.substr(colon + 1);
  if (port.size() > 5)
    return "must be host:port with a port of 1..65535";
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return "must be host:port with a port of 1..65535";
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535)
    return "must be host:port with a port of 1..65535";
  return {};
}

inline std::string check_optional_address(const std::string& s) {
  return s.empty() ? std::string{} : check_address(s);
}

inline std::string check_event_type_pattern(const std::string& s) {
  if (protocol::sse::valid_event_type_pattern(s))
    return {};
  return "must be 1 to 128 bytes of dot-separated parts of [A-Za-z0-9_-], "
         "each possibly a whole `*`";
}

inline std::string check_origin(const std::string& s) {
  // An Origin header's form (RFC 6454): scheme://host[:port], nothing
  // after; compared with the header case-insensitively (net/http_util).
  const std::string form =
      "must be an origin: http:// or https://, a host, an optional :port, "
      "and no path (https://app.example.com)";
  std::string scheme = s.substr(0, 8);
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest{s};
  if (scheme.compare(0, 7, "http://") == 0)
    rest.remove_prefix(7);
  else if (scheme == "https://")
    rest.remove_prefix(8);
  else
    return form;
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1)
      return form;
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    for (char c : host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return form;
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
    if (host.empty() || host.size() > 253)
      return form;
    for (char c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
        return form;
  }
  if (rest.empty())
    return {};
  // What is left must be `:port`.
  auto port = rest.substr(1);
  if (rest.front() != ':' || port.empty() || port.size() > 5)
    return form;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return form;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535)
    return form;
  return {};
}

inline std::string check_token(const std::string& s) {
  // API keys travel in `Authorization: Bearer <key>`: printable ASCII only.
  if (s.empty())
    return "must be a non-empty string";
  for (char c : s)
    if (c <= ' ' || c >= 127)
      return "must be printable ASCII without spaces";
  return {};
}

// -- table builders
// ------------------------------------------------------------

using locator = field (*)(settings&);

inline key_spec str(std::string_view name, locator at, std::string_view doc,
                    std::string (*check)(const std::string&) = nullptr) {
  key_spec k;
  k.name = name;
  k.type = kind::string;
  k.locate = at;
  k.doc = doc;
  k.check = check;
  return k;
}

inline key_spec secret(key_spec k, std::string_view default_note) {
  k.secret = true;
  k.default_note = default_note;
  return k;
}

inline key_spec choice(std::string_view name, locator at,
                       std::vector<std::string_view> choices,
                       std::string_view doc) {
  key_spec k = str(name, at, doc);
  k.type = kind::choice;
  k.choices = std::move(choices);
  return k;
}

inline key_spec integer(std::string_view name, locator at, uint64_t min,
                        uint64_t max, std::string_view doc) {
  key_spec k = str(name, at, doc);
  k.type = kind::integer;
  k.min = min;
  k.max = max;
  return k;
}

inline key_spec real(std::string_view name, locator at, double min,
                     bool exclusive, double max, std::string_view doc) {
  key_spec k = str(name, at, doc);
  k.type = kind::real;
  k.real_min = min;
  k.real_min_exclusive = exclusive;
  k.real_max = max;
  return k;
}

inline key_spec boolean(std::string_view name, locator at,
                        std::string_view doc) {
  key_spec k = str(name, at, doc);
  k.type = kind::boolean;
  return k;
}

/// listen.plain and listen.tls.* (schema_tls.cpp, docs/tls.md).
void add_tls_keys(std::vector<key_spec>& t);

/// limits.* (schema_limits.cpp, docs/limits.md).
void add_limit_keys(std::vector<key_spec>& t);

/// The cluster.* keys (schema_cluster.cpp).
void add_cluster_keys(std::vector<key_spec>& t);

/// The services key (schema_services.cpp).
void add_service_keys(std::vector<key_spec>& t);

/// The supervision.*, health.* and channels.* keys (schema_services.cpp).
void add_supervision_keys(std::vector<key_spec>& t);

/// plugins.* and store.* (schema_plugins.cpp).
void add_plugin_keys(std::vector<key_spec>& t);

/// chat_events.* (schema_chat.cpp).
void add_chat_event_keys(std::vector<key_spec>& t);

/// admin.*: the admin listener (docs/console.md).
void add_admin_keys(std::vector<key_spec>& t);

} // namespace herald::config::detail
