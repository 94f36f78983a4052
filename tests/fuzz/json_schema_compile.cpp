// JSON Schema files as the node loads them (docs/schemas.md): the input is
// a schema, normalized and compiled by compile_schema (no directory, so
// every external $ref accepts anything). A schema either compiles or is
// refused with one line; one that compiles validates a few instances the
// same way streamed and on a DOM.

#include "fuzz.hpp"

#include "protocol/json_schema.hpp"

#include <rapidjson/document.h>

#include <string>
#include <variant>

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = compile_schema(herald::fuzz::text_of(data, size), {}, "fuzz.json");
  if (auto* why = std::get_if<std::string>(&r)) {
    HERALD_FUZZ_CHECK(why->rfind("fuzz.json", 0) == 0);
    return 0;
  }
  auto& schema = std::get<schema_ptr>(r);
  for (auto instance :
       {R"({})", R"([])", R"("x")", R"(1.5)", R"(null)", R"(true)",
        R"({"a":1,"b":[1,2,2],"c":{"d":"e"},"title":"hello"})",
        R"([{"x":1},{"x":"y"}])"}) {
    std::string_view text{instance};
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    auto streamed = schema->validate_json(text);
    auto on_dom = schema->validate(doc);
    HERALD_FUZZ_CHECK(streamed.has_value() == on_dom.has_value());
    if (streamed)
      HERALD_FUZZ_CHECK(streamed->path == on_dom->path);
  }
  return 0;
}
