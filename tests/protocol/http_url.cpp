#define CAF_SUITE protocol.http_url
#include <caf/test/unit_test.hpp>

#include "protocol/http_url.hpp"

#include <string>

using namespace herald::protocol;

namespace {

std::string why_of(const std::string& text) {
  std::string why;
  auto url = parse_http_url(text, why);
  return url ? std::string{"ok"} : why;
}

} // namespace

CAF_TEST(host port and target) {
  std::string why;
  auto u = parse_http_url("http://127.0.0.1:8080/hooks/chat?x=1", why);
  CAF_REQUIRE(u.has_value());
  CAF_CHECK_EQUAL(u->host, "127.0.0.1");
  CAF_CHECK_EQUAL(u->port, 8080u);
  CAF_CHECK_EQUAL(u->target, "/hooks/chat?x=1");
}

CAF_TEST(defaults : port 80 and path /) {
  std::string why;
  auto u = parse_http_url("http://hooks.internal", why);
  CAF_REQUIRE(u.has_value());
  CAF_CHECK_EQUAL(u->host, "hooks.internal");
  CAF_CHECK_EQUAL(u->port, 80u);
  CAF_CHECK_EQUAL(u->target, "/");
}

CAF_TEST(refusals say why) {
  auto https = why_of("https://x/y");
  CAF_CHECK(https.find("https is not supported") != std::string::npos);
  auto ftp = why_of("ftp://x/y");
  CAF_CHECK_EQUAL(ftp, "must start with http://");
  auto empty = why_of("");
  CAF_CHECK_EQUAL(empty, "must start with http://");
  auto no_host = why_of("http:///path");
  CAF_CHECK_EQUAL(no_host, "needs a host");
  auto zero = why_of("http://h:0/");
  CAF_CHECK_EQUAL(zero, "the port must be 1..65535");
  auto big = why_of("http://h:65536/");
  CAF_CHECK_EQUAL(big, "the port must be 1..65535");
  auto letters = why_of("http://h:8o/");
  CAF_CHECK_EQUAL(letters, "the port must be 1..65535");
  auto bare_colon = why_of("http://h:/");
  CAF_CHECK_EQUAL(bare_colon, "the port must be 1..65535");
  auto user = why_of("http://u:p@h/");
  CAF_CHECK_EQUAL(user, "must not carry user info");
  auto fragment = why_of("http://h/a#b");
  CAF_CHECK_EQUAL(fragment, "must not have a fragment");
  auto space = why_of("http://h/a b");
  CAF_CHECK(space.find("spaces") != std::string::npos);
  auto ipv6 = why_of("http://[::1]:80/");
  CAF_CHECK(ipv6 != "ok");
}
