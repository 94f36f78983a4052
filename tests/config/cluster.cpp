#define CAF_SUITE config.cluster
#include <caf/test/unit_test.hpp>

#include "config/loader.hpp"

#include <map>
#include <string>
#include <variant>
#include <vector>

using namespace herald::config;

namespace {

using args_list = std::vector<std::string>;

// Flags only: the development configuration plus the cluster keys.
std::variant<invocation, std::string> load_flags(const args_list& args) {
  return load(args, std::map<std::string, std::string>{});
}

std::string error_of(const args_list& args) {
  auto res = load_flags(args);
  if (auto* err = std::get_if<std::string>(&res))
    return *err;
  return "<no error>";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

CAF_TEST(the cluster is off by default with documented defaults) {
  auto res = load_flags({});
  CAF_REQUIRE(std::holds_alternative<invocation>(res));
  auto& cl = std::get<invocation>(res).cfg.cluster;
  CAF_CHECK(!cl.enabled);
  CAF_CHECK_EQUAL(cl.listen_address, "127.0.0.1");
  CAF_CHECK_EQUAL(cl.port, 7400u);
  CAF_CHECK(cl.seeds.empty());
  CAF_CHECK_EQUAL(cl.heartbeat_ms, 500u);
  CAF_CHECK_EQUAL(cl.failure_timeout_ms, 2500u);
  CAF_CHECK_EQUAL(cl.retry_ms, 1000u);
  CAF_CHECK_EQUAL(cl.request_timeout_ms, 2000u);
}

CAF_TEST(cluster keys load from flags) {
  auto res = load_flags({"--cluster.enabled=true", "--cluster.port=0",
                         R"(--cluster.seeds=["10.0.0.2:7400","[::1]:7401"])",
                         "--cluster.advertise_address=10.0.0.1"});
  CAF_REQUIRE(std::holds_alternative<invocation>(res));
  auto& cl = std::get<invocation>(res).cfg.cluster;
  CAF_CHECK(cl.enabled);
  CAF_CHECK_EQUAL(cl.port, 0u);
  CAF_CHECK_EQUAL(cl.seeds.size(), 2u);
  CAF_CHECK_EQUAL(cl.advertise_address, "10.0.0.1");
}

CAF_TEST(bad cluster values name their key) {
  auto check = [](const args_list& args, const std::string& prefix) {
    auto err = error_of(args);
    CAF_MESSAGE(err);
    if (!starts_with(err, prefix))
      CAF_ERROR("expected prefix '" << prefix << "', got: " << err);
  };
  check({R"(--cluster.seeds=["nohost"])"}, "config: cluster.seeds");
  check({R"(--cluster.seeds=["h:0"])"}, "config: cluster.seeds");
  check({R"(--cluster.seeds=["h:99999"])"}, "config: cluster.seeds");
  check({R"(--cluster.seeds=["a b:1"])"}, "config: cluster.seeds");
  check({"--cluster.port=70000"}, "config: cluster.port: ");
  check({"--cluster.heartbeat_ms=0"}, "config: cluster.heartbeat_ms: ");
  check({"--cluster.listen_address="}, "config: cluster.listen_address: ");
  check({"--cluster.enabled=maybe"}, "config: cluster.enabled: ");
  check({"--cluster.enabled=true", "--cluster.heartbeat_ms=1000",
         "--cluster.failure_timeout_ms=1500"},
        "config: cluster.failure_timeout_ms: must be at least twice");
  check({"--cluster.enabled=true", "--cluster.listen_address=0.0.0.0"},
        "config: cluster.advertise_address: required");
}
