#pragma once

// Small HTTP helpers shared by the handlers: responses with JSON bodies,
// the bearer credential, query parameters.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::net {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

/// A response to `req` with `body` and `content_type`, keep-alive as asked.
response make_response(const request& req, boost::beast::http::status status,
                       std::string body,
                       std::string_view content_type = "application/json");

/// `{"code":..,"message":..}` with `status`.
response make_error(const request& req, boost::beast::http::status status,
                    std::string_view code, std::string_view message);

/// The credential of `Authorization: Bearer <x>`, if present.
std::optional<std::string_view> bearer(const request& req);

/// The path part of a request target (before `?`).
std::string_view target_path(std::string_view target);

/// The first value of query parameter `name`, percent-decoded.
std::optional<std::string> query_param(std::string_view target,
                                       std::string_view name);

/// Every value of query parameter `name`, percent-decoded, in order.
std::vector<std::string> query_params(std::string_view target,
                                      std::string_view name);

/// Compares secrets in time independent of where they differ.
bool secret_equals(std::string_view a, std::string_view b);

/// True when `origin` (an Origin header) is one of `allowed`, compared
/// case-insensitively (scheme and host are; config/ checks the form).
bool origin_listed(const std::vector<std::string>& allowed,
                   std::string_view origin);

/// The peer of a connected socket as "ip:port" ("[v6]:port"); empty when
/// the socket has none (it already closed).
std::string peer_of(const boost::asio::ip::tcp::socket& socket);

} // namespace herald::net
