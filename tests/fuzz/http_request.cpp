// The HTTP layer (net/): raw bytes through Beast's request parser with the
// node's limits (http_session.cpp), fed whole and cut in two as a socket
// may deliver them (the same request or the same error either way), then
// everything the node reads from a request it accepted: the path, query
// parameters and their percent-decoding, the bearer credential and
// `?token=`, the RFC 6455 handshake checks, the SSE stream's parameters,
// the allowed-origins check, and the answers the node makes to it, which
// must be well-formed HTTP with JSON bodies whatever the request held.

#include "fuzz.hpp"

#include "net/http_util.hpp"
#include "net/request_checks.hpp"
#include "protocol/position_vector.hpp"
#include "protocol/sse.hpp"
#include "protocol/ws_codec.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace http = boost::beast::http;
using namespace herald;

namespace {

// http_session.cpp's header limit; the body limit is lowered from the
// default max_body_bytes so that inputs of -max_len reach it.
constexpr uint32_t header_limit = 16 * 1024;
constexpr uint64_t body_limit = 2048;

struct outcome {
  boost::system::error_code ec;
  bool done = false;
  net::request req;
};

// Feeds `pieces` to a fresh parser the way http::read does: bytes not
// consumed stay in front of the next piece, need_more asks for it, and the
// end of the input is the peer closing.
outcome parse(const std::vector<std::string_view>& pieces) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(body_limit);
  parser.eager(true);
  outcome out;
  std::string pending;
  for (auto piece : pieces) {
    pending.append(piece);
    while (!pending.empty() && !parser.is_done()) {
      auto used = parser.put(boost::asio::buffer(pending), out.ec);
      pending.erase(0, used);
      if (out.ec == http::error::need_more) {
        out.ec = {};
        break;
      }
      if (out.ec)
        return out;
      if (used == 0)
        break;
    }
    if (parser.is_done())
      break;
  }
  if (!parser.is_done()) {
    // As http::read does at the end of the stream.
    if (!parser.got_some()) {
      out.ec = http::error::end_of_stream;
      return out;
    }
    parser.put_eof(out.ec);
    if (out.ec)
      return out;
  }
  out.done = parser.is_done();
  if (out.done)
    out.req = parser.release();
  return out;
}

std::string fields_of(const net::request& req) {
  std::string out;
  for (auto& f : req) {
    out.append(f.name_string().data(), f.name_string().size());
    out += '\0';
    out.append(f.value().data(), f.value().size());
    out += '\n';
  }
  return out;
}

// What the node answers a read that failed (http_session::on_read): 413
// for a body over the limit, 431 for a head over it, and 400 or nothing
// for anything else. Beast 1.74 finds some errors in an unfinished head
// (a bad line ending) only when the head arrives in one read; cut, it
// waits for more, and the node drops the client at limits.header_timeout_ms
// instead of answering 400. Either is safe; which answer class may not
// differ.
int answer_class(const boost::system::error_code& ec) {
  if (!ec)
    return 0;
  if (ec == http::error::body_limit)
    return 413;
  if (ec == http::error::header_limit)
    return 431;
  return 400;
}

bool same_request(const net::request& a, const net::request& b) {
  return a.method_string() == b.method_string() && a.target() == b.target()
         && a.version() == b.version() && a.body() == b.body()
         && fields_of(a) == fields_of(b);
}

std::string percent_encode_all(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// The oracle for origin_listed, written apart from it.
bool equal_ignoring_case(std::string_view a, std::string_view b) {
  auto fold = [](unsigned char c) { return std::tolower(c); };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return fold(x) == fold(y); });
}

// An answer of the node must read back as the same answer: the status, and
// the body (none for HEAD, whose Content-Length is the GET body's).
void check_answer(const net::request& req, const net::response& res) {
  HERALD_FUZZ_CHECK(res.keep_alive() == req.keep_alive());
  std::ostringstream wire;
  wire << res;
  auto text = wire.str();
  http::response_parser<http::string_body> back;
  back.skip(req.method() == http::verb::head);
  back.eager(true);
  boost::system::error_code ec;
  auto used = back.put(boost::asio::buffer(text), ec);
  if (!ec && !back.is_done())
    back.put_eof(ec);
  // Exactly one answer: nothing left after it.
  HERALD_FUZZ_CHECK(ec || used == text.size());
  HERALD_FUZZ_CHECK(!ec && back.is_done());
  HERALD_FUZZ_CHECK(back.get().result() == res.result());
  if (req.method() == http::verb::head) {
    HERALD_FUZZ_CHECK(res.body().empty());
    return;
  }
  HERALD_FUZZ_CHECK(back.get().body() == res.body());
  HERALD_FUZZ_CHECK(fuzz::is_json(res.body()));
}

void check_query(std::string_view target) {
  auto path = net::target_path(target);
  HERALD_FUZZ_CHECK(target.substr(0, path.size()) == path);
  HERALD_FUZZ_CHECK(path.find('?') == std::string_view::npos);
  for (std::string_view name : {"token", "pattern", "last_event_id", "topic",
                                "node", "interval_ms", ""}) {
    auto first = net::query_param(target, name);
    auto all = net::query_params(target, name);
    HERALD_FUZZ_CHECK(first.has_value() == !all.empty());
    if (!first)
      continue;
    HERALD_FUZZ_CHECK(*first == all.front());
    // Whatever a value decodes to, written back fully encoded, reads the
    // same: the decoder loses no byte.
    auto again = net::query_param(
        "/p?x=1&n=" + percent_encode_all(*first) + "&n=2", "n");
    HERALD_FUZZ_CHECK(again && *again == *first);
  }
}

void check_credential(const net::request& req) {
  auto cred = net::credential(req);
  if (auto header = net::bearer(req)) {
    HERALD_FUZZ_CHECK(!header->empty());
    HERALD_FUZZ_CHECK(header->front() != ' ' && header->back() != ' ');
    auto value = req[http::field::authorization];
    HERALD_FUZZ_CHECK(std::string_view(value.data(), value.size()).find(*header)
                      != std::string_view::npos);
    HERALD_FUZZ_CHECK(cred && *cred == *header);
    HERALD_FUZZ_CHECK(net::secret_equals(*header, *cred));
    HERALD_FUZZ_CHECK(!net::secret_equals(*header, *cred + "x"));
    return;
  }
  auto token =
      net::query_param({req.target().data(), req.target().size()}, "token");
  HERALD_FUZZ_CHECK(cred.has_value() == (token && !token->empty()));
  if (cred)
    HERALD_FUZZ_CHECK(*cred == *token);
}

void check_handshake(const net::request& req) {
  auto problem = net::handshake_problem(req);
  if (problem) {
    HERALD_FUZZ_CHECK(!problem->reason.empty());
    check_answer(req, net::make_error(req, problem->status, "BAD_HANDSHAKE",
                                      problem->reason));
    return;
  }
  HERALD_FUZZ_CHECK(!req[http::field::host].empty());
  HERALD_FUZZ_CHECK(req[http::field::sec_websocket_version] == "13");
  auto key = req[http::field::sec_websocket_key];
  auto accept = protocol::ws::accept_key({key.data(), key.size()});
  HERALD_FUZZ_CHECK(accept.size() == 28); // base64 of a SHA-1
}

void check_sse(const net::request& req) {
  auto read = net::read_sse_parameters(req);
  if (auto* why = std::get_if<std::string>(&read)) {
    check_answer(req, net::make_error(req, http::status::bad_request,
                                      "INVALID_MESSAGE", *why));
    return;
  }
  auto& params = std::get<net::sse_parameters>(read);
  for (auto& p : params.patterns)
    HERALD_FUZZ_CHECK(protocol::sse::valid_event_type_pattern(p));
  auto header = req["Last-Event-ID"];
  if (!header.empty())
    HERALD_FUZZ_CHECK(params.last_event_id
                      && *params.last_event_id
                             == std::string_view(header.data(), header.size()));
  if (params.last_event_id)
    (void)protocol::parse_position_vector(*params.last_event_id);
}

void check_origin(const net::request& req) {
  auto field = req.find(http::field::origin);
  if (field == req.end())
    return;
  std::string_view origin{field->value().data(), field->value().size()};
  const std::vector<std::string> allowed{"https://app.example.com",
                                         "http://localhost:8080"};
  bool expected = false;
  for (auto& a : allowed)
    expected = expected || equal_ignoring_case(a, origin);
  HERALD_FUZZ_CHECK(net::origin_listed(allowed, origin) == expected);
  HERALD_FUZZ_CHECK(net::origin_listed({std::string{origin}}, origin));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = fuzz::text_of(data + 1, size - 1);
  auto cut = text.empty() ? 0 : data[0] * text.size() / 256;
  auto whole = parse({text});
  auto in_two = parse({text.substr(0, cut), text.substr(cut)});
  HERALD_FUZZ_CHECK(answer_class(whole.ec) == answer_class(in_two.ec));
  HERALD_FUZZ_CHECK(whole.done == in_two.done);
  if (!whole.done)
    return 0;
  HERALD_FUZZ_CHECK(same_request(whole.req, in_two.req));
  auto& req = whole.req;
  HERALD_FUZZ_CHECK(req.body().size() <= body_limit);
  check_query({req.target().data(), req.target().size()});
  check_credential(req);
  check_handshake(req);
  check_sse(req);
  check_origin(req);
  check_answer(req, net::make_error(
                        req, http::status::not_found, "NOT_FOUND",
                        std::string{req.target().data(), req.target().size()}));
  return 0;
}
