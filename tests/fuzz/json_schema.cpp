// JSON Schema validation of published input (docs/schemas.md): the input
// is an instance, validated against the repository's seed schema
// (config/schemas/websocket-event.schema.json) and schemas that use the
// translated keywords (const, numeric exclusive bounds, boolean
// subschemas, pattern, $ref with siblings). validate_json (while parsing)
// and validate (on a DOM) must give the same verdict, path and keyword.

#include "fuzz.hpp"

#include "protocol/json_schema.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/document.h>

#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

const char* const inline_schemas[] = {
    R"({"type":"object","required":["title"],"properties":{
      "title":{"type":"string","minLength":1,"maxLength":20,
               "pattern":"^[A-Za-z ]+$"},
      "n":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":10},
      "kind":{"const":"a"},"any":true,"never":false,
      "tags":{"type":"array","items":{"enum":["x","y"]},"uniqueItems":true,
              "maxItems":3},
      "ref":{"$ref":"#/definitions/id","description":"sibling"}},
     "definitions":{"id":{"type":"string","format":"uuid"}},
     "additionalProperties":false})",
    R"({"$schema":"https://json-schema.org/draft/2020-12/schema",
     "$defs":{"p":{"type":"object","properties":{"x":{"type":"integer"}}}},
     "oneOf":[{"$ref":"#/$defs/p"},{"type":"array","minItems":2},
              {"not":{"type":["object","array"]}}]})",
};

std::vector<schema_ptr> make_schemas() {
  std::vector<schema_ptr> out;
  auto seed = load_schema(HERALD_SOURCE_DIR
                          "/config/schemas/websocket-event.schema.json");
  HERALD_FUZZ_CHECK(std::holds_alternative<schema_ptr>(seed));
  out.push_back(std::get<schema_ptr>(seed));
  for (auto text : inline_schemas) {
    auto s = compile_schema(text, {}, "inline.json");
    if (auto* why = std::get_if<std::string>(&s))
      std::fprintf(stderr, "%s\n", why->c_str());
    HERALD_FUZZ_CHECK(std::holds_alternative<schema_ptr>(s));
    out.push_back(std::get<schema_ptr>(s));
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto schemas = make_schemas();
  auto text = herald::fuzz::text_of(data, size);
  // The DOM as validate_json reads the text when it explains a failure.
  auto guarded = guard_full_precision(text);
  std::string_view as_read = guarded ? std::string_view{*guarded} : text;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(as_read.data(), as_read.size());
  for (auto& s : schemas) {
    auto streamed = s->validate_json(text, "/data");
    if (doc.HasParseError()) {
      HERALD_FUZZ_CHECK(streamed && streamed->keyword == "json");
      continue;
    }
    auto on_dom = s->validate(doc, "/data");
    HERALD_FUZZ_CHECK(streamed.has_value() == on_dom.has_value());
    if (streamed) {
      HERALD_FUZZ_CHECK(streamed->path == on_dom->path);
      HERALD_FUZZ_CHECK(streamed->keyword == on_dom->keyword);
      HERALD_FUZZ_CHECK(streamed->path.rfind("/data", 0) == 0);
      HERALD_FUZZ_CHECK(!streamed->keyword.empty()
                        && !streamed->message.empty());
    }
  }
  return 0;
}
