#define CAF_SUITE config.loader
#include "tests/config/loader_fixture.hpp"

CAF_TEST_FIXTURE_SCOPE(config_loader_tests, fixture)

// -- development mode
// ----------------------------------------------------------

CAF_TEST(no file runs on the development configuration) {
  auto inv = ok({});
  CAF_CHECK(inv.what == invocation::mode::run);
  CAF_CHECK(inv.config_file.empty());
  CAF_CHECK(inv.cfg.development);
  CAF_CHECK_EQUAL(inv.cfg.auth.jwt.hs256_secret, dev_hs256_secret);
  CAF_CHECK_EQUAL(inv.cfg.auth.api_keys, std::vector<std::string>{dev_api_key});
  CAF_CHECK_EQUAL(inv.cfg.listen.address, "127.0.0.1");
  CAF_CHECK_EQUAL(inv.cfg.listen.port, 8080u);
  CAF_CHECK_EQUAL(inv.cfg.threads.io, 1u);
  CAF_CHECK_EQUAL(inv.cfg.ws.ping_interval_ms, 30000u);
  CAF_CHECK_EQUAL(inv.cfg.log.level, "info");
  CAF_CHECK_EQUAL(inv.cfg.permissions.rules.size(), 3u);
}

CAF_TEST(development defaults yield to environment and flags) {
  auto inv = ok({"--auth.api_keys", R"(["a","b"])"},
                {{"HERALD_AUTH_JWT_HS256_SECRET", "from-env"},
                 {"PATH", "/usr/bin"},
                 {"HERALDX", "ignored"}});
  CAF_CHECK(inv.cfg.development);
  CAF_CHECK_EQUAL(inv.cfg.auth.jwt.hs256_secret, "from-env");
  CAF_CHECK_EQUAL(inv.cfg.auth.api_keys, (std::vector<std::string>{"a", "b"}));
}

CAF_TEST(development still needs some way to verify tokens) {
  auto err = error({"--auth.jwt.hs256_secret="});
  CAF_CHECK(starts_with(err, "config: auth.jwt.hs256_secret: required"));
}

// -- the file
// ------------------------------------------------------------------

CAF_TEST(file with comments trailing commas and nesting) {
  auto path = write("a.jsonc", R"(// a comment
{
  /* block comment */
  "node": {"name": "edge-7"},
  "listen": {"address": "0.0.0.0", "port": 9001,},
  "threads": {"io": 4, "actors": 8},
  "auth": {
    "jwt": {"hs256_secret": "s3cret", "issuer": "me", "audience": "you",
            "leeway_seconds": 5},
    "api_keys": ["k1", "k2",],
  },
  "limits": {"rate_per_second": 2.5, "rate_burst": 3,
             "max_backlog_bytes": 5000000000},
  "ws": {"ping_interval_ms": 100, "pong_timeout_ms": 200},
  "log": {"level": "debug", "format": "json"},
  "shutdown": {"grace_ms": 0},
}
)");
  auto inv = ok({"--config", path});
  auto& c = inv.cfg;
  CAF_CHECK(inv.what == invocation::mode::run);
  CAF_CHECK_EQUAL(inv.config_file, path);
  CAF_CHECK(!c.development);
  CAF_CHECK_EQUAL(c.node_name, "edge-7");
  CAF_CHECK_EQUAL(c.listen.address, "0.0.0.0");
  CAF_CHECK_EQUAL(c.listen.port, 9001u);
  CAF_CHECK_EQUAL(c.threads.io, 4u);
  CAF_CHECK_EQUAL(c.threads.actors, 8u);
  CAF_CHECK_EQUAL(c.auth.jwt.hs256_secret, "s3cret");
  CAF_CHECK_EQUAL(c.auth.jwt.issuer, "me");
  CAF_CHECK_EQUAL(c.auth.jwt.audience, "you");
  CAF_CHECK_EQUAL(c.auth.jwt.leeway_seconds, 5);
  CAF_CHECK_EQUAL(c.auth.api_keys, (std::vector<std::string>{"k1", "k2"}));
  CAF_CHECK_EQUAL(c.limits.rate_per_second, 2.5);
  CAF_CHECK_EQUAL(c.limits.rate_burst, 3.0);
  CAF_CHECK_EQUAL(c.limits.max_backlog_bytes, 5000000000u);
  CAF_CHECK_EQUAL(c.limits.max_frame_bytes, 65536u); // untouched default
  CAF_CHECK_EQUAL(c.ws.ping_interval_ms, 100u);
  CAF_CHECK_EQUAL(c.ws.pong_timeout_ms, 200u);
  CAF_CHECK_EQUAL(c.log.level, "debug");
  CAF_CHECK_EQUAL(c.log.format, "json");
  CAF_CHECK_EQUAL(c.shutdown_grace_ms, 0u);
}

CAF_TEST(a dotted key may also be written flat) {
  auto inv = ok({"--config", with_auth(R"("listen.port": 1234)")});
  CAF_CHECK_EQUAL(inv.cfg.listen.port, 1234u);
}

CAF_TEST(parse errors name the file with line and column) {
  auto path = write("bad.jsonc", "{\n  \"listen\": {\n    \"port\" 80\n}");
  auto err = error({"--config", path});
  CAF_CHECK(starts_with(err, "config: " + path + ": 3:12 "));
  err = error({"--config", write("arr.jsonc", "[1]")});
  CAF_CHECK(err.find("must hold one JSON object") != std::string::npos);
}

CAF_TEST(an unreadable file is an error naming it) {
  auto path = (dir / "missing.jsonc").string();
  auto err = error({"--config", path});
  CAF_CHECK(starts_with(err, "config: " + path + ": cannot read: "));
}

// -- precedence
// ----------------------------------------------------------------

CAF_TEST(flag beats environment beats file beats default) {
  auto path = with_auth(R"("listen": {"port": 1000, "address": "::1"})");
  env_map env{{"HERALD_LISTEN_PORT", "2000"}, {"HERALD_NODE_NAME", "env"}};
  auto c = ok({"--config", path}).cfg;
  CAF_CHECK_EQUAL(c.listen.port, 1000u);
  CAF_CHECK_EQUAL(c.node_name, "herald-1");
  c = ok({"--config", path}, env).cfg;
  CAF_CHECK_EQUAL(c.listen.port, 2000u);
  CAF_CHECK_EQUAL(c.listen.address, "::1");
  CAF_CHECK_EQUAL(c.node_name, "env");
  c = ok({"--config", path, "--listen.port=3000"}, env).cfg;
  CAF_CHECK_EQUAL(c.listen.port, 3000u);
  c = ok({"--listen.port", "4000", "--config=" + path}, env).cfg;
  CAF_CHECK_EQUAL(c.listen.port, 4000u);
  CAF_CHECK_EQUAL(c.node_name, "env");
  // The last of repeated flags wins.
  c = ok({"--config", path, "--node.name=a", "--node.name=b"}).cfg;
  CAF_CHECK_EQUAL(c.node_name, "b");
}

CAF_TEST(HERALD_CONFIG names the file and --config overrides it) {
  auto a = with_auth(R"("node": {"name": "a"})");
  auto b = write("b.jsonc", "{" + std::string(minimal_auth)
                                + R"(, "node": {"name": "b"}})");
  auto inv = ok({}, {{"HERALD_CONFIG", a}});
  CAF_CHECK_EQUAL(inv.config_file, a);
  CAF_CHECK(!inv.cfg.development);
  CAF_CHECK_EQUAL(inv.cfg.node_name, "a");
  inv = ok({"--config", b}, {{"HERALD_CONFIG", a}});
  CAF_CHECK_EQUAL(inv.cfg.node_name, "b");
  // An empty variable is no file.
  CAF_CHECK(ok({}, {{"HERALD_CONFIG", ""}}).cfg.development);
}

CAF_TEST(arrays and objects take JSON text in environment and flags) {
  auto path = with_auth("");
  auto c =
      ok({"--config", path}, {{"HERALD_AUTH_API_KEYS", R"(["x","y"])"}}).cfg;
  CAF_CHECK_EQUAL(c.auth.api_keys, (std::vector<std::string>{"x", "y"}));
  c = ok({"--config", path, "--permissions",
          R"({"resource_types":[],"rules":[{"scope":"user",)"
          R"("all_of":[{"claim":"sub","equals":"{scope_id}"}]}]})"})
          .cfg;
  CAF_REQUIRE_EQUAL(c.permissions.rules.size(), 1u);
  CAF_CHECK_EQUAL(c.permissions.rules[0].scope, "user");
  CAF_CHECK(c.permissions.resource_types.empty());
  auto err = error({"--config", path},
                   {{"HERALD_AUTH_API_KEYS", R"(["x", TOPSECRET)"}});
  CAF_CHECK(starts_with(err, "config: auth.api_keys: needs JSON text"));
  CAF_CHECK(err.find("HERALD_AUTH_API_KEYS") != std::string::npos);
  CAF_CHECK(err.find("TOPSECRET") == std::string::npos);
}

// -- bad values
// ----------------------------------------------------------------

CAF_TEST(wrong types and ranges name the key) {
  auto check = [&](const std::string& body, const std::string& prefix) {
    auto err = file_error(body);
    if (!starts_with(err, prefix))
      CAF_ERROR("expected prefix '" << prefix << "', got: " << err);
  };
  check(R"("listen": {"port": "x"})",
        R"(config: listen.port: must be an integer in 0..65535, got "x")");
  check(R"("listen": {"port": 70000})", "config: listen.port: ");
  check(R"("listen": {"port": -1})", "config: listen.port: ");
  check(R"("listen": {"port": 80.5})", "config: listen.port: ");
  check(R"("listen": {"address": ""})", "config: listen.address: ");
  check(R"("threads": {"io": 0})", "config: threads.io: ");
  check(R"("threads": {"actors": 65})", "config: threads.actors: ");
  check(R"("node": {"name": "a b"})", "config: node.name: ");
  check(R"("limits": {"rate_per_second": 0})",
        "config: limits.rate_per_second: must be a number > 0");
  check(R"("limits": {"rate_burst": 0.5})", "config: limits.rate_burst: ");
  check(R"("limits": {"max_subscriptions": 0})",
        "config: limits.max_subscriptions: ");
  check(R"("limits": {"max_frame_bytes": 4294967296})",
        "config: limits.max_frame_bytes: ");
  check(R"("auth.jwt.leeway_seconds": -5)",
        "config: auth.jwt.leeway_seconds: ");
  check(R"("auth.jwt.issuer": 5)",
        "config: auth.jwt.issuer: must be a string, got 5");
  check(R"("log": {"level": "loud"})",
        "config: log.level: must be one of trace|debug|info|warn|error|off");
  check(R"("log": {"format": "xml"})", "config: log.format: ");
  check(R"("ws": {"ping_interval_ms": 45000})",
        "config: ws.ping_interval_ms: must be less than ws.pong_timeout_ms");
  check(R"("dedup": {"window_seconds": 0})", "config: dedup.window_seconds: ");
  check(R"("shutdown": {"grace_ms": null})", "config: shutdown.grace_ms: ");
  check(R"("listen": 5)", "config: listen: must be an object");
}

CAF_TEST(bad values from environment and flags name key and source) {
  auto err = error({}, {{"HERALD_LISTEN_PORT", "eighty"}});
  CAF_CHECK_EQUAL(err, R"(config: listen.port: must be an integer in )"
                       R"(0..65535, got "eighty" (from HERALD_LISTEN_PORT))");
  err = error({"--threads.io=0"});
  CAF_CHECK(starts_with(err, "config: threads.io: "));
  CAF_CHECK(err.find("(from --threads.io)") != std::string::npos);
  err = error({"--ws.pong_timeout_ms", "1000"});
  CAF_CHECK(starts_with(err, "config: ws.ping_interval_ms: must be less"));
  err = error({"--limits.rate_per_second", "-1"});
  CAF_CHECK(starts_with(err, "config: limits.rate_per_second: "));
}

CAF_TEST(secrets never appear in errors) {
  auto err = file_error(R"("auth": {"api_keys": ["good", "has SPACESECRET"]})");
  // The file's own auth section is the first; the duplicate stops first.
  CAF_CHECK(starts_with(err, "config: auth: duplicate key"));
  auto path = write("s.jsonc", R"({"auth": {"jwt": {"hs256_secret": "x"},
    "api_keys": ["good", "has SPACESECRET"]}})");
  err = error({"--config", path});
  CAF_CHECK(starts_with(err, "config: auth.api_keys[1]: "));
  CAF_CHECK(err.find("SPACESECRET") == std::string::npos);
  err = error({"--config", with_auth(""), "--auth.api_keys", R"(["ok", 17])"});
  CAF_CHECK(starts_with(err, "config: auth.api_keys[1]: must be a string"));
  CAF_CHECK(err.find("17") == std::string::npos);
  err = error({}, {{"HERALD_AUTH_JWT_HS256_SECRET", "x"},
                   {"HERALD_AUTH_API_KEYS", R"("LEAKME")"}});
  CAF_CHECK(starts_with(err, "config: auth.api_keys: must be an array"));
  CAF_CHECK(err.find("LEAKME") == std::string::npos);
}

CAF_TEST(errors stay on one line) {
  auto err = error({"--config", with_auth(R"("a\nb": 1)")});
  CAF_CHECK(starts_with(err, "config: a b: unknown key"));
  err = error({"--node.name", "two\nlines"});
  CAF_CHECK(starts_with(err, "config: node.name: "));
}

// -- unknown keys
// --------------------------------------------------------------

CAF_TEST(unknown keys in the file) {
  CAF_CHECK(starts_with(file_error(R"("listen": {"prot": 1})"),
                        "config: listen.prot: unknown key"));
  CAF_CHECK(starts_with(file_error(R"("bogus": true)"),
                        "config: bogus: unknown key"));
  CAF_CHECK(starts_with(file_error(R"("auth": {"jwt": {"alg": "none"}})"),
                        "config: auth: duplicate key"));
  auto path = write("u.jsonc", R"({"auth": {"jwt": {"hs256_secret": "x",
    "alg": "none"}, "api_keys": ["k"]}})");
  CAF_CHECK(starts_with(error({"--config", path}),
                        "config: auth.jwt.alg: unknown key"));
  CAF_CHECK(starts_with(file_error(R"("listen": {"port": 1, "port": 2})"),
                        "config: listen.port: duplicate key"));
}

CAF_TEST(unknown environment variables) {
  auto err = error({}, {{"HERALD_LISTEN_PROT", "1"}});
  CAF_CHECK(starts_with(err, "config: HERALD_LISTEN_PROT: unknown environment "
                             "variable"));
  // Not ours: ignored.
  ok({}, {{"HERALDD_X", "1"}, {"HOME", "/root"}});
}

CAF_TEST(unknown flags and bad command lines) {
  CAF_CHECK(starts_with(error({"--bogus"}), "config: --bogus: unknown flag"));
  CAF_CHECK(starts_with(error({"--listen.prot=1"}),
                        "config: listen.prot: unknown key"));
  CAF_CHECK(
      starts_with(error({"stray"}), "config: stray: unexpected argument"));
  CAF_CHECK(starts_with(error({"-x"}), "config: -x: unexpected argument"));
  CAF_CHECK(starts_with(error({"--listen.port"}),
                        "config: listen.port: needs a value"));
  CAF_CHECK(starts_with(error({"--listen.port", "--node.name=a"}),
                        "config: listen.port: needs a value"));
  CAF_CHECK(starts_with(error({"--config"}), "config: --config: needs a FILE"));
  CAF_CHECK(starts_with(error({"--config", "a", "--check-config", "b"}),
                        "config: --check-config: cannot be combined"));
}

// -- required keys
// -------------------------------------------------------------

CAF_TEST(a file needs api keys and a token verifier) {
  auto err = error({"--config", write("n.jsonc", R"({"auth": {"jwt":
    {"hs256_secret": "x"}}})")});
  CAF_CHECK_EQUAL(err,
                  "config: auth.api_keys: required (at least one publish API "
                  "key)");
  err = error({"--config", write("e.jsonc", R"({"auth": {"jwt":
    {"hs256_secret": "x"}, "api_keys": []}})")});
  CAF_CHECK(starts_with(err, "config: auth.api_keys: required"));
  err =
      error({"--config", write("j.jsonc", R"({"auth": {"api_keys": ["k"]}})")});
  CAF_CHECK(starts_with(err, "config: auth.jwt.hs256_secret: required"));
  CAF_CHECK(err.find("auth.jwt.rs256_public_key_file") != std::string::npos);
  // The environment may supply what the file leaves out.
  auto inv = ok({"--config", write("k.jsonc", "{}")},
                {{"HERALD_AUTH_JWT_HS256_SECRET", "x"},
                 {"HERALD_AUTH_API_KEYS", R"(["k"])"}});
  CAF_CHECK(!inv.cfg.development);
  CAF_CHECK_EQUAL(inv.cfg.auth.jwt.hs256_secret, "x");
}

// -- RS256 key file
// ------------------------------------------------------------

CAF_TEST(the RS256 public key file is read at load) {
  auto pem = write("key.pem", public_key_pem);
  auto path = write("r.jsonc", R"({"auth": {"jwt": {"rs256_public_key_file": ")"
                                   + pem + R"("}, "api_keys": ["k"]}})");
  auto inv = ok({"--config", path});
  CAF_CHECK_EQUAL(inv.cfg.auth.rs256_public_key_file, pem);
  CAF_CHECK_EQUAL(inv.cfg.auth.jwt.rs256_public_key_pem, public_key_pem);
  CAF_CHECK(inv.cfg.auth.jwt.hs256_secret.empty());
  auto missing = (dir / "nope.pem").string();
  auto err =
      error({"--config", path, "--auth.jwt.rs256_public_key_file=" + missing});
  CAF_CHECK(starts_with(err, "config: auth.jwt.rs256_public_key_file: cannot "
                             "read "
                                 + missing));
  auto junk = write("junk.pem", "not a key\n");
  err = error({"--config", path},
              {{"HERALD_AUTH_JWT_RS256_PUBLIC_KEY_FILE", junk}});
  CAF_CHECK(starts_with(err, "config: auth.jwt.rs256_public_key_file: "));
  CAF_CHECK(err.find("PEM") != std::string::npos);
}

// -- permissions
// ---------------------------------------------------------------

CAF_TEST_FIXTURE_SCOPE_END()
