#include "net/request_checks.hpp"

#include "protocol/sse.hpp"
#include "protocol/ws_codec.hpp"

namespace herald::net {

namespace http = boost::beast::http;

std::optional<handshake_refusal> handshake_problem(const request& req) {
  if (req[http::field::host].empty())
    return handshake_refusal{http::status::bad_request,
                             "a WebSocket handshake needs a Host header"};
  auto version = req[http::field::sec_websocket_version];
  if (version.empty())
    return handshake_refusal{http::status::bad_request,
                             "Sec-WebSocket-Version must be 13"};
  if (version != "13")
    return handshake_refusal{http::status::upgrade_required,
                             "Sec-WebSocket-Version must be 13"};
  auto key = req[http::field::sec_websocket_key];
  if (!protocol::ws::valid_client_key({key.data(), key.size()}))
    return handshake_refusal{
        http::status::bad_request,
        "Sec-WebSocket-Key must be 16 base64-encoded bytes"};
  return std::nullopt;
}

std::optional<std::string> credential(const request& req) {
  if (auto header = bearer(req))
    return std::string{*header};
  auto token = query_param({req.target().data(), req.target().size()}, "token");
  if (!token || token->empty())
    return std::nullopt;
  return token;
}

std::variant<sse_parameters, std::string>
read_sse_parameters(const request& req) {
  std::string_view target{req.target().data(), req.target().size()};
  sse_parameters out;
  out.patterns = query_params(target, "pattern");
  for (auto& p : out.patterns)
    if (!protocol::sse::valid_event_type_pattern(p))
      return "pattern \"" + p
             + "\": dot-separated parts of [A-Za-z0-9_-], each possibly a "
               "whole *";
  // EventSource sends the last `id:` it saw when it reconnects; clients
  // that cannot set headers may pass it as ?last_event_id=.
  auto last = req["Last-Event-ID"];
  if (!last.empty())
    out.last_event_id = std::string{last.data(), last.size()};
  else
    out.last_event_id = query_param(target, "last_event_id");
  return out;
}

} // namespace herald::net
