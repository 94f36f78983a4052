// The abuse limits' keys (docs/limits.md): connection counts, the head,
// body and idle timeouts, and listen.allowed_origins.
#define CAF_SUITE config.limits
#include "tests/config/loader_fixture.hpp"

#include "config/schema_builders.hpp"

CAF_TEST_FIXTURE_SCOPE(config_limits_tests, fixture)

CAF_TEST(the defaults) {
  settings s;
  CAF_CHECK_EQUAL(s.limits.max_connections, 0u);
  CAF_CHECK_EQUAL(s.limits.max_connections_per_ip, 0u);
  CAF_CHECK_EQUAL(s.limits.header_timeout_ms, 10000u);
  CAF_CHECK_EQUAL(s.limits.body_timeout_ms, 30000u);
  CAF_CHECK_EQUAL(s.limits.idle_timeout_ms, 30000u);
  CAF_CHECK(s.listen.allowed_origins.empty());
}

CAF_TEST(values from a file and from flags) {
  auto inv = ok({"--config", with_auth(R"(
  "limits": {"max_connections": 5000, "max_connections_per_ip": 20,
             "header_timeout_ms": 2000, "body_timeout_ms": 5000,
             "idle_timeout_ms": 15000},
  "listen": {"allowed_origins": ["https://app.example.com",
                                 "http://localhost:3000",
                                 "http://[::1]:8080", "HTTPS://Upper.Example"]})"),
                 "--limits.max_connections=7"});
  auto& l = inv.cfg.limits;
  CAF_CHECK_EQUAL(l.max_connections, 7u); // the flag wins
  CAF_CHECK_EQUAL(l.max_connections_per_ip, 20u);
  CAF_CHECK_EQUAL(l.header_timeout_ms, 2000u);
  CAF_CHECK_EQUAL(l.body_timeout_ms, 5000u);
  CAF_CHECK_EQUAL(l.idle_timeout_ms, 15000u);
  CAF_CHECK_EQUAL(inv.cfg.listen.allowed_origins.size(), 4u);
  auto env = ok({"--config", with_auth("")},
                {{"HERALD_LISTEN_ALLOWED_ORIGINS", R"(["https://a.example"])"},
                 {"HERALD_LIMITS_HEADER_TIMEOUT_MS", "750"}});
  CAF_CHECK_EQUAL(env.cfg.listen.allowed_origins,
                  std::vector<std::string>{"https://a.example"});
  CAF_CHECK_EQUAL(env.cfg.limits.header_timeout_ms, 750u);
}

CAF_TEST(bad values name the key) {
  auto check = [&](const std::string& body, const std::string& prefix) {
    auto err = file_error(body);
    if (!starts_with(err, prefix))
      CAF_ERROR("expected prefix '" << prefix << "', got: " << err);
  };
  check(R"("limits": {"header_timeout_ms": 0})",
        "config: limits.header_timeout_ms: must be an integer in 10..3600000");
  check(R"("limits": {"header_timeout_ms": 3600001})",
        "config: limits.header_timeout_ms: ");
  check(R"("limits": {"body_timeout_ms": 5})",
        "config: limits.body_timeout_ms: ");
  check(R"("limits": {"idle_timeout_ms": "30s"})",
        "config: limits.idle_timeout_ms: ");
  check(R"("limits": {"max_connections": -1})",
        "config: limits.max_connections: ");
  check(R"("limits": {"max_connections": 4294967296})",
        "config: limits.max_connections: ");
  check(R"("limits": {"max_connections_per_ip": 2.5})",
        "config: limits.max_connections_per_ip: ");
  check(R"("listen": {"allowed_origins": "https://a.example"})",
        "config: listen.allowed_origins: must be an array of strings");
  check(R"("listen": {"allowed_origins": ["https://a.example", 5]})",
        "config: listen.allowed_origins[1]: must be a string");
  check(R"("listen": {"allowed_origins": ["https://a.example/"]})",
        "config: listen.allowed_origins[0]: must be an origin");
  auto err = error({"--listen.allowed_origins", R"(["*"])"});
  CAF_CHECK(starts_with(err, "config: listen.allowed_origins[0]: must be an "
                             "origin"));
  CAF_CHECK(err.find("(from --listen.allowed_origins)") != std::string::npos);
}

CAF_TEST(the form of an origin) {
  using herald::config::detail::check_origin;
  for (auto good :
       {"http://a", "https://app.example.com", "http://localhost:3000",
        "https://x-y.example:65535", "http://[::1]", "http://[::1]:8080",
        "http://127.0.0.1:8080"})
    if (!check_origin(good).empty())
      CAF_ERROR("refused the origin " << good);
  for (auto bad : {"", "*", "null", "app.example.com", "ftp://a.example",
                   "https://a.example/", "https://a.example/path", "https://",
                   "https://a.example:", "https://a.example:0",
                   "https://a.example:65536", "https://a.example:80x",
                   "https://user@a.example", "http://[]", "http://[::1",
                   "http://[::1]x", "https://a example", "https://a.example?q"})
    if (check_origin(bad).empty())
      CAF_ERROR("took the origin " << bad);
}

CAF_TEST_FIXTURE_SCOPE_END()
