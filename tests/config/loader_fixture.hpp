#pragma once

// The config.loader suites' fixture: temporary files, environments and
// command lines handed to config::load. Include after `#define CAF_SUITE`.

#include <caf/test/unit_test.hpp>

#include "config/loader.hpp"
#include "config/schema.hpp"

#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace herald;
using namespace herald::config;
namespace fs = std::filesystem;

namespace {

using env_map = std::map<std::string, std::string>;
using args_list = std::vector<std::string>;

constexpr const char* public_key_pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAw+o8wAO6OOQq778Dh5/R\n"
    "/nqqow8lTIib1sexAkQMpcKstZzhZqryk5fEs7jRNmO1ch0DlooDwe0sz3/oY//m\n"
    "mWBKgzVhq0dPjDslmeqQF7StHrMYUZaEwj20Bv66UzF8C/oAix1LJDYvD6NgwCTG\n"
    "YcJrpGckkHm6SZ8DXwlJqnlzuDW0CMsgpMkuFFczwjvLLUfFoKD6QO92VZeWKgcy\n"
    "3FYksuu9KUW7Z8QL22tYfXBEJK2rHNM/usAUVjg3Gcln1uyw0zKdHkaQ7NqDdl4v\n"
    "2ZoL909Syosw4jN2Z7IqWtmwZjlj5CU2QCdq7O0DHxK4IJmInnQPrgJLjnBFO8dO\n"
    "LwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

// The smallest valid production file, to which tests add keys.
constexpr const char* minimal_auth =
    R"("auth": {"jwt": {"hs256_secret": "s3cret"}, "api_keys": ["k1"]})";

[[maybe_unused]] fs::path repo_root() {
  // tests/config/loader_fixture.hpp -> the repository.
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

struct fixture {
  fs::path dir;

  fixture() {
    std::string tmpl = (fs::temp_directory_path() / "herald-config-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    dir = tmpl;
  }

  ~fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    auto path = dir / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    return path.string();
  }

  /// A production file holding `body` plus the minimal auth section.
  std::string with_auth(const std::string& body) {
    auto text = "{" + std::string(minimal_auth)
                + (body.empty() ? "" : ",\n" + body) + "}";
    return write("herald.jsonc", text);
  }

  /// Loads and expects success.
  invocation ok(const args_list& args, const env_map& env = {}) {
    auto res = load(args, env);
    if (auto err = std::get_if<std::string>(&res)) {
      CAF_FAIL("unexpected error: " << *err);
    }
    return std::get<invocation>(std::move(res));
  }

  /// Loads and expects an error; returns it.
  std::string error(const args_list& args, const env_map& env = {}) {
    auto res = load(args, env);
    if (std::holds_alternative<invocation>(res)) {
      CAF_FAIL("expected an error");
    }
    auto err = std::get<std::string>(res);
    CAF_CHECK(err.find('\n') == std::string::npos);
    CAF_CHECK(starts_with(err, "config: "));
    return err;
  }

  /// The error of loading a production file with `body`.
  std::string file_error(const std::string& body) {
    return error({"--config", with_auth(body)});
  }
};

} // namespace
