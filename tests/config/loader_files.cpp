#define CAF_SUITE config.loader_files
// Loading what files point at (RS256 keys are in config.loader): schema
// bindings, permissions, check mode, help, and the example file.
#include "tests/config/loader_fixture.hpp"

CAF_TEST_FIXTURE_SCOPE(config_loader_files_tests, fixture)

CAF_TEST(permission errors are named under permissions) {
  auto err = file_error(R"("permissions": "all")");
  CAF_CHECK(starts_with(err, "config: permissions: must be an object"));
  err = file_error(R"("permissions": {"rules": [{"scope": "customer_id",
    "all_of": [{"claim": "roles", "bogus": "x"}]}]})");
  CAF_CHECK(starts_with(err, "config: permissions"));
  CAF_CHECK(err.find("in ") != std::string::npos);
  err = file_error(R"("permissions": {"rules": [{"scope": 5}]})");
  CAF_CHECK(starts_with(err, "config: permissions.rules[0]"));
}

// -- schemas
// -------------------------------------------------------------------

CAF_TEST(schema bindings are compiled at load) {
  fs::create_directories(dir / "schemas");
  write("schemas/s.json", R"({"type":"object","required":["a"]})");
  auto seed =
      (repo_root() / "config" / "schemas" / "websocket-event.schema.json")
          .string();
  auto path = with_auth(R"("schemas": {"bindings": [
    {"event_type": "sales.*", "file": "schemas/s.json"},
    {"topic": "customer_id:*:notification:>", "file": ")"
                        + seed + R"(", "validates": "envelope"}]})");
  auto inv = ok({"--config", path});
  auto& b = inv.cfg.schemas.bindings;
  CAF_REQUIRE_EQUAL(b.size(), 2u);
  CAF_CHECK_EQUAL(b[0].event_type, "sales.*");
  CAF_CHECK(b[0].topic.empty());
  CAF_CHECK(b[0].validates == protocol::schema_binding::target::data);
  CAF_CHECK_EQUAL(b[0].file, "schemas/s.json");
  CAF_REQUIRE(b[0].schema != nullptr);
  // A relative file is taken from the configuration file's directory.
  CAF_CHECK_EQUAL(fs::path(b[0].schema->path()), dir / "schemas" / "s.json");
  CAF_CHECK(b[0].schema->validate_json(R"({"a":1})") == std::nullopt);
  CAF_CHECK(b[0].schema->validate_json("{}").has_value());
  CAF_CHECK_EQUAL(b[1].topic, "customer_id:*:notification:>");
  CAF_CHECK(b[1].validates == protocol::schema_binding::target::envelope);
  CAF_REQUIRE(b[1].schema != nullptr);
  CAF_CHECK_EQUAL(b[1].schema->path(), seed);
  // The default is none.
  CAF_CHECK(ok({"--config", with_auth("")}).cfg.schemas.bindings.empty());
  // From the environment, still relative to the file.
  inv = ok({"--config", with_auth("")},
           {{"HERALD_SCHEMAS_BINDINGS",
             R"([{"topic":"a:>","file":"schemas/s.json"}])"}});
  CAF_REQUIRE_EQUAL(inv.cfg.schemas.bindings.size(), 1u);
  CAF_CHECK_EQUAL(fs::path(inv.cfg.schemas.bindings[0].schema->path()),
                  dir / "schemas" / "s.json");
  // Without a file, from the working directory.
  auto rel = fs::relative(dir / "schemas" / "s.json").string();
  inv = ok(
      {"--schemas.bindings=[{\"event_type\":\"x\",\"file\":\"" + rel + "\"}]"});
  CAF_REQUIRE_EQUAL(inv.cfg.schemas.bindings.size(), 1u);
  CAF_CHECK_EQUAL(inv.cfg.schemas.bindings[0].schema->path(), rel);
}

CAF_TEST(a bad schema file stops the load naming the binding) {
  auto missing = (dir / "nope.json").string();
  auto err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "nope.json"}]})");
  CAF_CHECK_EQUAL(err, "config: schemas.bindings[0].file: cannot read "
                           + missing + ": No such file or directory");
  write("broken.json", "{\"type\": ");
  err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "broken.json"},
    {"event_type": "x", "file": "broken.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].file: "
                                 + (dir / "broken.json").string() + ": 1:10 "));
  write("if.json", R"({"if": {"type": "string"}, "then": {}})");
  err = file_error(R"("schemas": {"bindings": [
    {"event_type": "x", "file": "s.json"}, {"topic": "a:>", "file": "if.json"}]})");
  // s.json does not exist either, but the first binding fails first.
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].file: cannot read"));
  err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "if.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].file: "));
  CAF_CHECK(err.find("/if: keyword not supported") != std::string::npos);
  // --check-config reads them too.
  err = error({"--check-config", with_auth(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "nope.json"}]})")});
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].file: cannot read"));
}

CAF_TEST(binding errors name the member) {
  auto err = file_error(R"("schemas": {"bindings": {"topic": "a"}})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings: must be an array"));
  err = file_error(R"("schemas": {"bindings": [{"file": "s.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0]: needs exactly one "
                             "of \"event_type\" and \"topic\" (in "));
  err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "event_type": "x", "file": "s.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0]: needs exactly one "
                             "of \"event_type\" and \"topic\""));
  err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "s.json"}, {"topic": "a:b*", "file": "s.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[1].topic: "));
  err = file_error(R"("schemas": {"bindings": [
    {"event_type": "sales.**", "file": "s.json"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].event_type: "));
  err = file_error(R"("schemas": {"bindings": [
    {"topic": "a:>", "file": "s.json", "validates": "frames"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].validates: must be "
                             "\"data\" or \"envelope\""));
  err = file_error(R"("schemas": {"bindings": [{"topic": "a:>"}]})");
  CAF_CHECK(starts_with(err, "config: schemas.bindings[0].file: is required"));
  err = error({"--config", with_auth("")}, {{"HERALD_SCHEMAS_BINDINGS", "[{"}});
  CAF_CHECK(starts_with(err, "config: schemas.bindings: needs JSON text"));
  CAF_CHECK(err.find("HERALD_SCHEMAS_BINDINGS") != std::string::npos);
}

// -- modes
// ---------------------------------------------------------------------

CAF_TEST(check config mode) {
  auto path = with_auth("");
  auto inv = ok({"--check-config", path});
  CAF_CHECK(inv.what == invocation::mode::check);
  CAF_CHECK_EQUAL(inv.config_file, path);
  CAF_CHECK(!inv.cfg.development);
  inv = ok({"--check-config=" + path}, {{"HERALD_CONFIG", "/nonexistent"}});
  CAF_CHECK_EQUAL(inv.config_file, path);
  auto err = error({"--check-config", with_auth(R"("x": 1)")});
  CAF_CHECK(starts_with(err, "config: x: unknown key"));
}

CAF_TEST(help and version) {
  CAF_CHECK(ok({"--help"}).what == invocation::mode::help);
  CAF_CHECK(ok({"-h", "--bogus"}).what == invocation::mode::help);
  CAF_CHECK(ok({"--version"}).what == invocation::mode::version);
  auto text = usage();
  for (auto& k : detail::keys()) {
    CAF_CHECK(text.find("  " + std::string(k.name) + "\n")
              != std::string::npos);
    CAF_CHECK(text.find(detail::env_name(k.name)) != std::string::npos);
  }
  CAF_CHECK(text.find("--check-config") != std::string::npos);
  CAF_CHECK(text.find("default 8080") != std::string::npos);
}

// -- the table and the example file -------------------------------------------

CAF_TEST(environment names are unique and well formed) {
  std::set<std::string> names;
  for (auto& k : detail::keys()) {
    auto name = detail::env_name(k.name);
    CAF_CHECK(names.insert(name).second);
    CAF_CHECK_NOT_EQUAL(name, "HERALD_CONFIG");
  }
  CAF_CHECK_EQUAL(detail::env_name("listen.port"), "HERALD_LISTEN_PORT");
  CAF_CHECK_EQUAL(detail::env_name("auth.jwt.hs256_secret"),
                  "HERALD_AUTH_JWT_HS256_SECRET");
}

namespace {

// Collects the dotted paths of the example's keys, stopping at table keys.
void collect(const rapidjson::Value& obj, const std::string& prefix,
             std::set<std::string>& out) {
  for (auto& m : obj.GetObject()) {
    std::string full =
        prefix.empty() ? m.name.GetString() : prefix + "." + m.name.GetString();
    if (detail::find_key(full) == nullptr && m.value.IsObject())
      collect(m.value, full, out);
    else
      out.insert(full);
  }
}

} // namespace

CAF_TEST(the example file documents every key and passes check config) {
  auto path = (repo_root() / "config" / "herald.example.jsonc").string();
  std::ifstream in(path);
  CAF_REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  auto text = buf.str();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag
            | rapidjson::kParseTrailingCommasFlag>(text.data(), text.size());
  CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
  std::set<std::string> in_file;
  collect(doc, "", in_file);
  std::set<std::string> in_table;
  for (auto& k : detail::keys()) {
    in_table.insert(std::string(k.name));
    if (in_file.count(std::string(k.name)) == 0)
      CAF_ERROR("example lacks key " << k.name);
    if (text.find(detail::env_name(k.name)) == std::string::npos)
      CAF_ERROR("example lacks env var " << detail::env_name(k.name));
  }
  CAF_CHECK_EQUAL(in_file, in_table);
  auto inv = ok({"--check-config", path});
  CAF_CHECK(inv.what == invocation::mode::check);
  // The example spells out the defaults.
  settings defaults;
  auto& c = inv.cfg;
  CAF_CHECK_EQUAL(c.node_name, defaults.node_name);
  CAF_CHECK_EQUAL(c.listen.port, defaults.listen.port);
  CAF_CHECK_EQUAL(c.limits.max_backlog_bytes,
                  defaults.limits.max_backlog_bytes);
  CAF_CHECK_EQUAL(c.ws.pong_timeout_ms, defaults.ws.pong_timeout_ms);
  // ... except "notification", added for the envelope schema it binds.
  auto types = defaults.permissions.resource_types;
  types.push_back("notification");
  CAF_CHECK_EQUAL(c.permissions.resource_types, types);
  CAF_REQUIRE_EQUAL(c.schemas.bindings.size(), 1u);
  auto& binding = c.schemas.bindings[0];
  CAF_CHECK_EQUAL(binding.topic, "customer_id:*:notification:>");
  CAF_CHECK(binding.validates == protocol::schema_binding::target::envelope);
  CAF_REQUIRE(binding.schema != nullptr);
  CAF_CHECK_EQUAL(fs::path(binding.schema->path()),
                  repo_root() / "config" / "schemas"
                      / "websocket-event.schema.json");
  CAF_REQUIRE_EQUAL(c.permissions.rules.size(),
                    defaults.permissions.rules.size());
  for (size_t i = 0; i < c.permissions.rules.size(); ++i) {
    auto& a = c.permissions.rules[i];
    auto& b = defaults.permissions.rules[i];
    CAF_CHECK_EQUAL(a.scope, b.scope);
    CAF_CHECK_EQUAL(a.resource_types, b.resource_types);
    CAF_REQUIRE_EQUAL(a.all_of.size(), b.all_of.size());
    for (size_t j = 0; j < a.all_of.size(); ++j) {
      CAF_CHECK_EQUAL(a.all_of[j].claim, b.all_of[j].claim);
      CAF_CHECK(a.all_of[j].kind == b.all_of[j].kind);
      CAF_CHECK_EQUAL(a.all_of[j].values, b.all_of[j].values);
    }
  }
}

// The file reader without a file (tests/fuzz's config target feeds it).
CAF_TEST(file text applies as the file would) {
  settings cfg;
  CAF_CHECK_EQUAL(apply_file_text("// a node\n{\"listen\": {\"port\": 9000,},}",
                                  "t.jsonc", cfg),
                  "");
  CAF_CHECK_EQUAL(cfg.listen.port, 9000u);
  CAF_CHECK_EQUAL(apply_file_text(R"({"x": 1})", "t.jsonc", cfg),
                  "config: x: unknown key (in t.jsonc)");
  CAF_CHECK_EQUAL(apply_file_text("{\n  \"listen\": ", "t.jsonc", cfg),
                  "config: t.jsonc: 2:13 Invalid value.");
}

CAF_TEST_FIXTURE_SCOPE_END()
