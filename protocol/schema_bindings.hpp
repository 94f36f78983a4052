#pragma once

// Which JSON Schemas a published event must satisfy (PROTOCOL §6
// "Schemas", docs/schemas.md): bindings of an event_type pattern or a topic
// pattern to a schema file, applied either to the event's `data` or to its
// envelope frame (protocol/envelope.hpp).

#include "protocol/event.hpp"
#include "protocol/json_schema.hpp"
#include "protocol/publish.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol {

/// One entry of `schemas.bindings`.
struct schema_binding {
  enum class target { data, envelope };
  /// event_type pattern (`sales.*`: `*` is one dot-separated part), or
  /// empty when the binding names a topic.
  std::string event_type;
  /// Topic pattern of PROTOCOL §2 (`customer_id:*:notification:>`), or
  /// empty when the binding names an event_type.
  std::string topic;
  std::string file;                ///< as configured
  target validates = target::data; ///< what the schema is applied to
  schema_ptr schema;               ///< compiled by load_schema_bindings

  /// True when the binding's pattern matches the event (a topic binding
  /// never matches an event without a topic).
  bool applies_to(const event& ev) const;
};

/// Parses `[{"event_type"|"topic":..,"file":..,"validates":..}]` (exactly
/// one of event_type and topic; validates `data` by default) without
/// reading the files. Returns the problem with its path first (`[1].topic:
/// ...`), or empty.
std::string parse_schema_bindings(std::string_view json,
                                  std::vector<schema_binding>& out);

/// Compiles every binding's file (load_schema). A relative `file` is taken
/// from `base_dir` (empty: the working directory). Returns the first
/// problem as `[i].file: <problem>`, or empty.
std::string load_schema_bindings(std::vector<schema_binding>& bindings,
                                 const std::string& base_dir);

/// The verdict on one event.
struct schema_check {
  std::optional<schema_violation> violation; ///< the first one found
  bool envelope = false; ///< an envelope binding applied (and passed)
};

/// Checks `ev` against every binding that applies, in order, stopping at
/// the first violation. Paths are pointers into the envelope frame for
/// envelope bindings and into the publish (`/data/...`) for data
/// bindings: both put the payload under `/data`. Costs one parse of the
/// payload (or of the envelope frame, encoded once) per applying binding.
schema_check check_schemas(const std::vector<schema_binding>& bindings,
                           const event& ev);

/// 422 SCHEMA_VIOLATION naming the path.
publish_error schema_refusal(const schema_violation& v);

} // namespace herald::protocol
