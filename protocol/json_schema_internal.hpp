#pragma once

// What the parts of protocol/json_schema.cpp share (internal to protocol:
// json_schema.cpp, json_schema_bundle.cpp, json_schema_util.cpp).

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol::schema_internal {

using value_t = rapidjson::Value;
using document_t = rapidjson::Document;
using alloc_t = document_t::AllocatorType;
using pointer_t = rapidjson::Pointer;
using schema_doc_t = rapidjson::SchemaDocument;
using regex_t = rapidjson::internal::GenericRegex<rapidjson::UTF8<>>;

/// A string value's text.
std::string_view view(const value_t& v);

/// `v` as compact JSON, cut to about `max_len` bytes (never inside a UTF-8
/// sequence).
std::string render(const value_t& v, std::size_t max_len = 120);

/// `s` as a JSON string literal, cut like render().
std::string json_quoted(std::string_view s);

/// One reference token, escaped for a JSON pointer.
std::string escape_token(std::string_view name);

std::string stringify(const pointer_t& p);
std::string uri_fragment(const pointer_t& p);

/// The last token of a JSON pointer string, unescaped.
std::string last_token(const std::string& pointer);

/// The last path segment of a URI (what a local copy is named after):
/// `https://h/schemas/x.json` -> `x.json`; empty for `.`/`..`/nothing.
std::string last_segment(std::string_view uri);

std::size_t code_points(std::string_view s);

bool read_file(const std::string& path, std::string& out, std::string& err);

/// `<name>: <line>:<col> <problem>` for a document that failed to parse.
std::string parse_error(const std::string& name, std::string_view text,
                        const document_t& doc);

/// Normalizes the parsed schema `doc` (named `name`, its external `$ref`s
/// looked up in `dir`) and merges the files it refers to into `root`, so
/// that every `$ref` is local (json_schema_bundle.cpp). Empty on success,
/// else the problem; `accepted_any` gets the URIs without a local copy.
std::string bundle_schema(std::unique_ptr<document_t> doc,
                          const std::string& dir, const std::string& name,
                          document_t& root,
                          std::vector<std::string>& accepted_any);

} // namespace herald::protocol::schema_internal
