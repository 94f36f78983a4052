#pragma once

// The checks of listen.plain and listen.tls.* that take more than one key
// (docs/tls.md). The certificate and key files themselves are read and
// checked by net/tls_context at start (and by --check-config).

#include "config/settings.hpp"

#include <string>

namespace herald::config {

/// Empty when listen.plain and listen.tls.* fit together, else one line
/// `config: <key>: <problem>`: TLS on without a certificate or key, no
/// listener at all, or both listeners on one port.
std::string check_tls(const settings& cfg);

} // namespace herald::config
