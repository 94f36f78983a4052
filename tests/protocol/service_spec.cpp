#define CAF_SUITE protocol.service_spec
#include <caf/test/unit_test.hpp>

#include "protocol/service_spec.hpp"

#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

std::string error_of(const std::string& json) {
  std::vector<service_spec> out;
  return parse_services(json, out);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

CAF_TEST(services parse with their probes and breakers) {
  std::vector<service_spec> out;
  auto err = parse_services(R"([
    {"name":"db","layer":"data","probe":{"tcp":"127.0.0.1:5432",
     "timeout_ms":500},"interval_ms":1000},
    {"name":"api","layer":"core","probe":{"http":"http://[::1]:8080/health",
     "expect_status":204},"breaker":{"trip":"ratio","failure_ratio":0.25,
     "window":8,"min_results":4,"open_ms":2000,"half_open_trials":2,
     "close_after":2}}
  ])",
                            out);
  CAF_REQUIRE_EQUAL(err, "");
  CAF_REQUIRE_EQUAL(out.size(), 2u);
  CAF_CHECK_EQUAL(out[0].name, "db");
  CAF_CHECK(out[0].probe.how == probe_spec::kind::tcp);
  CAF_CHECK_EQUAL(out[0].probe.host, "127.0.0.1");
  CAF_CHECK_EQUAL(out[0].probe.port, 5432u);
  CAF_CHECK_EQUAL(out[0].probe.timeout_ms, 500u);
  CAF_CHECK_EQUAL(out[0].interval_ms, 1000u);
  CAF_CHECK(out[0].breaker.trip
            == breaker_settings::trip_rule::consecutive); // default
  CAF_CHECK(out[1].probe.how == probe_spec::kind::http);
  CAF_CHECK_EQUAL(out[1].probe.host, "::1");
  CAF_CHECK_EQUAL(out[1].probe.port, 8080u);
  CAF_CHECK_EQUAL(out[1].probe.path, "/health");
  CAF_CHECK_EQUAL(out[1].probe.expect_status, 204u);
  CAF_CHECK(out[1].breaker.trip == breaker_settings::trip_rule::ratio);
  CAF_CHECK_EQUAL(out[1].breaker.window, 8u);
  CAF_CHECK_EQUAL(out[1].breaker.close_after, 2u);
}

CAF_TEST(http urls) {
  std::string host, path;
  uint16_t port = 0;
  CAF_CHECK(parse_http_url("http://example.org:80", host, port, path));
  CAF_CHECK_EQUAL(path, "/");
  CAF_CHECK(parse_http_url("http://h:1/a/b?c=d", host, port, path));
  CAF_CHECK_EQUAL(path, "/a/b?c=d");
  CAF_CHECK(!parse_http_url("https://h:1/", host, port, path));
  CAF_CHECK(!parse_http_url("http://h/", host, port, path)); // port needed
  CAF_CHECK(!parse_http_url("http://u:p@h:1/", host, port, path));
  CAF_CHECK(!parse_http_url("http://h:0/", host, port, path));
  CAF_CHECK(!parse_http_url("http://h:1/a b", host, port, path));
}

CAF_TEST(bad services name the member) {
  auto check = [](const std::string& json, const std::string& prefix) {
    auto err = error_of(json);
    CAF_MESSAGE(err);
    if (!starts_with(err, prefix))
      CAF_ERROR("expected prefix '" << prefix << "', got: " << err);
  };
  check("{}", "must be an array");
  check("[5]", "[0]: must be an object");
  check(R"([{"layer":"x","probe":{"tcp":"h:1"}}])", "[0].name: is required");
  check(R"([{"name":"a b","layer":"x","probe":{"tcp":"h:1"}}])",
        "[0].name: must be 1 to 64");
  check(R"([{"name":"a","probe":{"tcp":"h:1"}}])", "[0].layer: is required");
  check(R"([{"name":"a","layer":"x"}])", "[0].probe: is required");
  check(R"([{"name":"a","layer":"x","probe":{}}])",
        "[0].probe: needs \"http\" or \"tcp\"");
  check(R"([{"name":"a","layer":"x","probe":{"tcp":"h"}}])",
        "[0].probe.tcp: must be host:port");
  check(
      R"([{"name":"a","layer":"x","probe":{"tcp":"h:1","http":"http://h:1/"}}])",
      "[0].probe: give one of");
  check(R"([{"name":"a","layer":"x","probe":{"http":"ftp://h:1/"}}])",
        "[0].probe.http: must be http://host:port/path");
  check(
      R"([{"name":"a","layer":"x","probe":{"http":"http://h:1/","expect_status":700}}])",
      "[0].probe.expect_status: must be an integer in 100..599");
  check(R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"},"interval_ms":0}])",
        "[0].interval_ms: must be an integer in 10..");
  check(
      R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"},"breaker":{"trip":"sometimes"}}])",
      "[0].breaker.trip: must be \"consecutive\" or \"ratio\"");
  check(
      R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"},"breaker":{"half_open_trials":1,"close_after":3}}])",
      "[0].breaker.close_after: must be at most half_open_trials");
  check(
      R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"},"breaker":{"failure_ratio":1.5}}])",
      "[0].breaker.failure_ratio: must be a number in (0, 1]");
  check(R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"},"colour":"red"}])",
        "[0]: unknown member \"colour\"");
  check(R"([{"name":"a","layer":"x","probe":{"tcp":"h:1"}},
            {"name":"a","layer":"y","probe":{"tcp":"h:2"}}])",
        "[1].name: \"a\" is named twice");
}
