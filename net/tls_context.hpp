#pragma once

// The TLS listener's context (docs/tls.md): the certificate chain and key
// of listen.tls.*, read and checked once at start, shared by every TLS
// connection.

#include "config/settings.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <variant>

namespace herald::net {

/// A server context for `tls`, or one line `config: <key>: <problem>`:
/// a file that is missing or unreadable, holds no PEM certificate or
/// unencrypted key, or a key that is not the certificate's.
std::variant<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_tls_context(const config::tls_settings& tls);

/// "TLSv1.3" and the like: what a context's minimum version is called.
std::string tls_version_name(const config::tls_settings& tls);

} // namespace herald::net
