#pragma once

// Shared by the JSON Schema suites (json_schema.cpp: what validates and
// how; json_schema_refusals.cpp: what is refused at load): compiling from
// text, the seed schema, checks that validate both ways, a temporary
// directory for schemas in several files.

#include "protocol/json_schema.hpp"

#include <caf/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>

namespace herald::protocol::schema_testing {

namespace fs = std::filesystem;

inline fs::path repo_root() {
  // tests/protocol/json_schema.cpp -> the repository.
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

inline std::string seed_path() {
  return (repo_root() / "config" / "schemas" / "websocket-event.schema.json")
      .string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline schema_ptr seed() {
  static schema_ptr s = [] {
    auto r = load_schema(seed_path());
    if (auto err = std::get_if<std::string>(&r))
      CAF_FAIL("seed schema does not load: " << *err);
    return std::get<schema_ptr>(r);
  }();
  return s;
}

inline schema_ptr compile(const std::string& json,
                          const std::string& dir = {}) {
  auto r = compile_schema(json, dir, "test.json");
  if (auto err = std::get_if<std::string>(&r))
    CAF_FAIL("schema does not compile: " << *err);
  return std::get<schema_ptr>(r);
}

/// The load error of `json`, or "" when it compiles.
inline std::string compile_error(const std::string& json) {
  auto r = compile_schema(json, {}, "test.json");
  auto err = std::get_if<std::string>(&r);
  return err ? *err : std::string{};
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// A valid envelope frame with `data` and more members spliced in.
inline std::string frame(const std::string& data,
                         const std::string& more = {}) {
  return R"({"event_type":"notification","event_id":"0b7e4c1e-4f43-4a39-9d7d-)"
         R"(1f3b8f6c2a10","timestamp":"2024-01-15T10:30:05.000000Z")"
         + more + R"(,"data":)" + data + "}";
}

inline const std::string note = R"({"title":"Hello","message":"World"})";

/// Validates `json` both ways (text and DOM) and checks they agree.
inline std::optional<schema_violation> check(const schema_ptr& s,
                                             const std::string& json) {
  auto by_text = s->validate_json(json);
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  CAF_REQUIRE(!doc.HasParseError());
  auto by_dom = s->validate(doc);
  CAF_CHECK_EQUAL(by_text.has_value(), by_dom.has_value());
  if (by_text && by_dom) {
    CAF_CHECK_EQUAL(by_text->path, by_dom->path);
    CAF_CHECK_EQUAL(by_text->keyword, by_dom->keyword);
    CAF_CHECK_EQUAL(by_text->message, by_dom->message);
  }
  return by_text;
}

/// Expects a violation at `path` by `keyword`; returns its message.
inline std::string violation(const schema_ptr& s, const std::string& json,
                             const std::string& path,
                             const std::string& keyword) {
  auto v = check(s, json);
  if (!v) {
    CAF_ERROR("accepted: " << json);
    return {};
  }
  CAF_CHECK_EQUAL(v->path, path);
  CAF_CHECK_EQUAL(v->keyword, keyword);
  // The message names the path.
  auto shown = path.empty() ? std::string{"(root)"} : path;
  CAF_CHECK(v->message.compare(0, shown.size() + 2, shown + ": ") == 0);
  return v->message;
}

inline void valid(const schema_ptr& s, const std::string& json) {
  if (auto v = check(s, json))
    CAF_ERROR("refused: " << v->message << " in " << json);
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "herald-schema-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream out(path / name, std::ios::binary);
    out << text;
    return (path / name).string();
  }
};

} // namespace herald::protocol::schema_testing
