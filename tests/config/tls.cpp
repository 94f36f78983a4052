// listen.plain and listen.tls.* (docs/tls.md): the keys, their defaults,
// and config::check_tls, the checks that take more than one key. The files
// themselves are read by net/tls_context at start (tests/e2e/tls.test.mjs).
#define CAF_SUITE config.tls
#include "tests/config/loader_fixture.hpp"

#include "config/tls.hpp"

CAF_TEST_FIXTURE_SCOPE(config_tls_tests, fixture)

CAF_TEST(the defaults) {
  settings s;
  CAF_CHECK(s.listen.plain);
  CAF_CHECK(!s.listen.tls.enabled);
  CAF_CHECK_EQUAL(s.listen.tls.address, "");
  CAF_CHECK_EQUAL(s.listen.tls.port, 8443u);
  CAF_CHECK_EQUAL(s.listen.tls.cert_file, "");
  CAF_CHECK_EQUAL(s.listen.tls.key_file, "");
  CAF_CHECK_EQUAL(s.listen.tls.min_version, "1.2");
  CAF_CHECK_EQUAL(check_tls(s), "");
}

CAF_TEST(values from a file the environment and flags) {
  auto inv = ok({"--config", with_auth(R"(
  "listen": {"plain": false,
             "tls": {"enabled": true, "address": "0.0.0.0", "port": 0,
                     "cert_file": "c.pem", "key_file": "k.pem",
                     "min_version": "1.3"}})"),
                 "--listen.tls.port=9443"});
  auto& t = inv.cfg.listen.tls;
  CAF_CHECK(!inv.cfg.listen.plain);
  CAF_CHECK(t.enabled);
  CAF_CHECK_EQUAL(t.address, "0.0.0.0");
  CAF_CHECK_EQUAL(t.port, 9443u); // the flag wins
  CAF_CHECK_EQUAL(t.cert_file, "c.pem");
  CAF_CHECK_EQUAL(t.key_file, "k.pem");
  CAF_CHECK_EQUAL(t.min_version, "1.3");
  CAF_CHECK_EQUAL(check_tls(inv.cfg), "");
  auto env = ok({"--config", with_auth("")},
                {{"HERALD_LISTEN_TLS_ENABLED", "true"},
                 {"HERALD_LISTEN_TLS_CERT_FILE", "/etc/herald/chain.pem"},
                 {"HERALD_LISTEN_TLS_KEY_FILE", "/etc/herald/key.pem"}});
  CAF_CHECK(env.cfg.listen.tls.enabled);
  CAF_CHECK_EQUAL(env.cfg.listen.tls.cert_file, "/etc/herald/chain.pem");
  CAF_CHECK_EQUAL(check_tls(env.cfg), "");
}

CAF_TEST(bad values name the key) {
  auto check = [&](const std::string& body, const std::string& prefix) {
    auto err = file_error(body);
    if (!starts_with(err, prefix))
      CAF_ERROR("expected prefix '" << prefix << "', got: " << err);
  };
  check(R"("listen": {"tls": {"min_version": "1.1"}})",
        "config: listen.tls.min_version: ");
  check(R"("listen": {"tls": {"min_version": 1.3}})",
        "config: listen.tls.min_version: ");
  check(R"("listen": {"tls": {"port": 70000}})",
        "config: listen.tls.port: must be an integer in 0..65535");
  check(R"("listen": {"tls": {"enabled": "yes"}})",
        "config: listen.tls.enabled: ");
  check(R"("listen": {"tls": {"address": "not an address"}})",
        "config: listen.tls.address: ");
  check(R"("listen": {"plain": 0})", "config: listen.plain: ");
  check(R"("listen": {"tls": {"certificate": "x"}})",
        "config: listen.tls.certificate: ");
}

CAF_TEST(keys that must fit together) {
  auto problem = [&](const std::string& body) {
    return check_tls(ok({"--config", with_auth(body)}).cfg);
  };
  CAF_CHECK(starts_with(
      problem(R"("listen": {"tls": {"enabled": true, "key_file": "k"}})"),
      "config: listen.tls.cert_file: required when listen.tls.enabled"));
  CAF_CHECK(starts_with(
      problem(R"("listen": {"tls": {"enabled": true, "cert_file": "c"}})"),
      "config: listen.tls.key_file: required when listen.tls.enabled"));
  CAF_CHECK(starts_with(problem(R"("listen": {"plain": false})"),
                        "config: listen.plain: false needs "
                        "listen.tls.enabled true"));
  CAF_CHECK(
      starts_with(problem(R"("listen": {"port": 8443, "tls": {"enabled": true,
               "cert_file": "c", "key_file": "k"}})"),
                  "config: listen.tls.port: must differ from listen.port"));
  // Another address, TLS only, or port 0: no clash.
  CAF_CHECK_EQUAL(problem(R"("listen": {"port": 8443, "tls": {"enabled": true,
                  "address": "127.0.0.2", "cert_file": "c", "key_file": "k"}})"),
                  "");
  CAF_CHECK_EQUAL(problem(R"("listen": {"port": 8443, "plain": false,
                  "tls": {"enabled": true, "cert_file": "c",
                  "key_file": "k"}})"),
                  "");
  CAF_CHECK_EQUAL(problem(R"("listen": {"port": 0, "tls": {"enabled": true,
                  "port": 0, "cert_file": "c", "key_file": "k"}})"),
                  "");
  // One line, no newline.
  auto line = problem(R"("listen": {"plain": false})");
  CAF_CHECK(line.find('\n') == std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
