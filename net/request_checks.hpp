#pragma once

// What the node reads from a request before it upgrades it or opens a
// stream, kept free of sessions and actors so that tests/fuzz/http_request
// can feed it every request Beast's parser accepts: the RFC 6455 handshake
// checks, the credential (PROTOCOL §3) and the SSE stream's parameters
// (PROTOCOL §5).

#include "net/http_util.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace herald::net {

/// Why a WebSocket handshake is refused, and with which status.
struct handshake_refusal {
  boost::beast::http::status status;
  std::string reason;
};

/// RFC 6455 §4.2.1's checks of the opening handshake that Beast's
/// `is_upgrade` leaves: a Host, version 13 (another version is 426, so that
/// the client learns which one we speak, §4.4) and a key of 16
/// base64-encoded bytes. Nothing when the handshake is good.
std::optional<handshake_refusal> handshake_problem(const request& req);

/// The credential of a request: `Authorization: Bearer`, else `?token=`
/// (for browsers, which cannot set headers on a WebSocket or EventSource).
/// Nothing when neither is there or the one there is empty.
std::optional<std::string> credential(const request& req);

/// The parameters of `GET /api/events/stream` (docs/sse.md).
struct sse_parameters {
  std::vector<std::string> patterns;        ///< `?pattern=`, each checked
  std::optional<std::string> last_event_id; ///< the header, else the query
};

/// Reads and checks the SSE stream's parameters; a string says why one is
/// refused (answered 400 INVALID_MESSAGE).
std::variant<sse_parameters, std::string>
read_sse_parameters(const request& req);

} // namespace herald::net
