#pragma once

// JSON Schema validation of published events (docs/schemas.md), on
// RapidJSON's validator (rapidjson/schema.h, 1.1.0 as Debian ships it).
//
// RapidJSON implements the draft-04 keywords. A schema is read with those
// semantics whatever its `$schema` says (2020-12 included), after a
// translation at load of what later drafts changed and can be expressed in
// draft-04 terms: `const`, boolean subschemas, numeric
// `exclusiveMinimum`/`exclusiveMaximum`, `$ref` with sibling keywords.
// What cannot be expressed (`if`/`then`/`else`, `contains`, `prefixItems`,
// `unevaluatedProperties`, ...) is refused at load rather than silently
// ignored; so are malformed keyword values, `$ref`s that point at nothing
// and `pattern`s RapidJSON's regular expressions cannot run. `format` is
// not checked.
//
// An external `$ref` (`https://host/schemas/x.json#/definitions/y`) is
// looked up in the schema file's own directory under the URL's last path
// segment (`x.json`); when no such file exists the reference accepts any
// value. Pure: no CAF, no sockets.

#include <rapidjson/fwd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::protocol {

/// Why an instance does not satisfy a schema: the first failure found.
struct schema_violation {
  /// JSON pointer (RFC 6901) of the failing value, e.g. `/data/title`;
  /// empty for the instance itself.
  std::string path;
  /// The schema keyword that failed: `maxLength`, `required`, `oneOf`, ...
  std::string keyword;
  /// Human readable, starting with the path: `/data/title: must be at most
  /// 200 characters long (got 305)`.
  std::string message;
};

/// A schema compiled once at load and shared, immutable, by every thread
/// that validates against it.
class compiled_schema {
public:
  struct impl;

  explicit compiled_schema(std::unique_ptr<impl> p);
  ~compiled_schema();
  compiled_schema(const compiled_schema&) = delete;
  compiled_schema& operator=(const compiled_schema&) = delete;

  /// The first violation of `instance`, or nullopt when it is valid.
  /// `prefix` (a JSON pointer) is put before every reported path, for an
  /// instance that sits inside a larger document. Safe to call from many
  /// threads at once.
  std::optional<schema_violation> validate(const rapidjson::Value& instance,
                                           std::string_view prefix = {}) const;

  /// Same for JSON text, validated while it is parsed (no DOM is built
  /// unless the text is invalid, to explain why). Text that is not JSON is
  /// a violation with keyword `json`.
  std::optional<schema_violation>
  validate_json(std::string_view json, std::string_view prefix = {}) const;

  /// The file it was loaded from (as given to load_schema).
  const std::string& path() const;

  /// External `$ref` URIs that had no local file and accept any value.
  const std::vector<std::string>& accepted_any_refs() const;

private:
  std::unique_ptr<impl> impl_;
};

using schema_ptr = std::shared_ptr<const compiled_schema>;

/// Reads, checks and compiles the schema in `path`, with the external
/// `$ref`s it can resolve from the files next to it. On failure returns one
/// line naming the problem (`cannot read <path>: ...`, `<path>: 3:14
/// Missing a comma ...`, `<path>: /properties/a/maxLength: must be a
/// non-negative integer`).
std::variant<schema_ptr, std::string> load_schema(const std::string& path);

/// Same from text; `dir` is where external `$ref`s are looked up (empty:
/// nowhere, every external `$ref` accepts any value); `name` is used as the
/// path in messages and by path().
std::variant<schema_ptr, std::string> compile_schema(std::string_view json,
                                                     const std::string& dir,
                                                     const std::string& name);

} // namespace herald::protocol
