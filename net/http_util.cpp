#include "net/http_util.hpp"

#include "protocol/publish.hpp"

#include <openssl/crypto.h>

namespace herald::net {

namespace http = boost::beast::http;

response make_response(const request& req, http::status status,
                       std::string body, std::string_view content_type) {
  response res{status, req.version()};
  res.set(http::field::server, "herald");
  res.set(http::field::content_type,
          boost::beast::string_view{content_type.data(), content_type.size()});
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  // HEAD: the length the body would have, and no body (one sent anyway
  // would be read as the start of the next answer).
  if (req.method() == http::verb::head) {
    auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

response make_error(const request& req, http::status status,
                    std::string_view code, std::string_view message) {
  return make_response(req, status, protocol::encode_error_body(code, message));
}

std::optional<std::string_view> bearer(const request& req) {
  auto field = req.find(http::field::authorization);
  if (field == req.end())
    return std::nullopt;
  std::string_view value{field->value().data(), field->value().size()};
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i]))
        != std::tolower(static_cast<unsigned char>(scheme[i])))
      return std::nullopt;
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ')
    value.remove_suffix(1);
  if (value.empty())
    return std::nullopt;
  return value;
}

std::string_view target_path(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()
               && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16
                               + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

} // namespace

namespace {

// Calls `found(value)` for each `name=value` of the query, in order, until
// it returns false.
template <class F>
void each_param(std::string_view target, std::string_view name, F&& found) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name
        && !found(eq == std::string_view::npos
                      ? std::string{}
                      : percent_decode(pair.substr(eq + 1))))
      return;
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
}

} // namespace

std::optional<std::string> query_param(std::string_view target,
                                       std::string_view name) {
  std::optional<std::string> out;
  each_param(target, name, [&](std::string v) {
    out = std::move(v);
    return false;
  });
  return out;
}

std::vector<std::string> query_params(std::string_view target,
                                      std::string_view name) {
  std::vector<std::string> out;
  each_param(target, name, [&](std::string v) {
    out.push_back(std::move(v));
    return true;
  });
  return out;
}

bool secret_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool origin_listed(const std::vector<std::string>& allowed,
                   std::string_view origin) {
  auto same = [origin](const std::string& x) {
    if (x.size() != origin.size())
      return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(x[i]))
          != std::tolower(static_cast<unsigned char>(origin[i])))
        return false;
    return true;
  };
  for (auto& x : allowed)
    if (same(x))
      return true;
  return false;
}

std::string peer_of(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec)
    return {};
  auto ip = ep.address().to_string(ec);
  if (ep.address().is_v6())
    ip = "[" + ip + "]";
  return ip + ":" + std::to_string(ep.port());
}

} // namespace herald::net
