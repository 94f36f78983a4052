// listen.plain and listen.tls.*: the public listener's TLS port
// (docs/tls.md), and the checks that need more than one of these keys.

#include "config/schema_builders.hpp"
#include "config/tls.hpp"

namespace herald::config {

namespace detail {

void add_tls_keys(std::vector<key_spec>& t) {
  t.push_back(boolean(
      "listen.plain", [](settings& s) -> field { return &s.listen.plain; },
      "Serve plain HTTP and WebSocket on listen.port. false, with "
      "listen.tls.enabled, makes the node TLS only."));
  t.push_back(boolean(
      "listen.tls.enabled",
      [](settings& s) -> field { return &s.listen.tls.enabled; },
      "Also serve every public route (WebSocket, SSE, the publish API, "
      "health, metrics, pages) over TLS on listen.tls.port: wss:// and "
      "https:// (docs/tls.md)."));
  t.push_back(str(
      "listen.tls.address",
      [](settings& s) -> field { return &s.listen.tls.address; },
      "Address the TLS listener binds to; empty: listen.address.",
      check_optional_address));
  t.push_back(integer(
      "listen.tls.port",
      [](settings& s) -> field { return &s.listen.tls.port; }, 0, 65535,
      "TCP port of the TLS listener; 0 picks any free port (logged)."));
  t.push_back(str(
      "listen.tls.cert_file",
      [](settings& s) -> field { return &s.listen.tls.cert_file; },
      "PEM file with the server certificate, optionally followed by its "
      "intermediate certificates (a chain file); read at start (a relative "
      "path is taken from the working directory). Required with "
      "listen.tls.enabled."));
  t.push_back(str(
      "listen.tls.key_file",
      [](settings& s) -> field { return &s.listen.tls.key_file; },
      "PEM file with the certificate's private key, unencrypted; read at "
      "start and checked against listen.tls.cert_file. Required with "
      "listen.tls.enabled."));
  t.push_back(choice(
      "listen.tls.min_version",
      [](settings& s) -> field { return &s.listen.tls.min_version; },
      {"1.2", "1.3"},
      "Oldest TLS version the listener accepts: 1.2 or 1.3 (a 1.2 client "
      "is then refused in the handshake)."));
}

} // namespace detail

std::string check_tls(const settings& cfg) {
  auto& l = cfg.listen;
  if (!l.tls.enabled) {
    if (!l.plain)
      return "config: listen.plain: false needs listen.tls.enabled true "
             "(the node would listen on nothing)";
    return {};
  }
  if (l.tls.cert_file.empty())
    return "config: listen.tls.cert_file: required when listen.tls.enabled "
           "is true";
  if (l.tls.key_file.empty())
    return "config: listen.tls.key_file: required when listen.tls.enabled "
           "is true";
  auto tls_address = l.tls.address.empty() ? l.address : l.tls.address;
  if (l.plain && l.tls.port != 0 && l.tls.port == l.port
      && tls_address == l.address)
    return "config: listen.tls.port: must differ from listen.port (both "
           + std::to_string(l.port) + " on " + l.address + ")";
  return {};
}

} // namespace herald::config
