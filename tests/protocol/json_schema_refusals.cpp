#define CAF_SUITE protocol.json_schema_refusals
#include "json_schema_helpers.hpp"

#include <string>
#include <variant>

// What a schema file is refused for at load, with the line that says why:
// files that cannot be read or parsed, what RapidJSON would silently
// ignore, and what it cannot build or would recurse on without end
// (docs/schemas.md; tests/fuzz/README.md, findings 4 to 6).

using namespace herald::protocol;
using namespace herald::protocol::schema_testing;

CAF_TEST(files that cannot be read or parsed) {
  auto r = load_schema("/nonexistent/dir/s.json");
  CAF_REQUIRE(std::holds_alternative<std::string>(r));
  CAF_CHECK_EQUAL(std::get<std::string>(r),
                  "cannot read /nonexistent/dir/s.json: No such file or "
                  "directory");
  CAF_CHECK_EQUAL(compile_error("{\n  \"type\": }"),
                  "test.json: 2:11 Invalid value.");
  CAF_CHECK_EQUAL(compile_error("[1]"),
                  "test.json: a schema must be an object or a boolean");
}

CAF_TEST(what RapidJSON would silently ignore is refused) {
  auto err = compile_error(R"({"properties":{"a":{"if":{},"then":{}}}})");
  CAF_CHECK(contains(err, "test.json: /properties/a/if: keyword not "
                          "supported"));
  CAF_CHECK(contains(compile_error(R"({"contains":{}})"), "/contains"));
  CAF_CHECK(contains(compile_error(R"({"prefixItems":[{}]})"), "/prefixItems"));
  CAF_CHECK(contains(compile_error(R"({"unevaluatedProperties":false})"),
                     "/unevaluatedProperties"));
  CAF_CHECK(contains(compile_error(R"({"maxLength":"10"})"),
                     "/maxLength: must be a non-negative integer"));
  CAF_CHECK(contains(compile_error(R"({"type":"text"})"), "/type: must be"));
  CAF_CHECK(contains(compile_error(R"({"enum":[]})"), "/enum"));
  CAF_CHECK(contains(compile_error(R"({"oneOf":[]})"), "/oneOf"));
  CAF_CHECK(contains(compile_error(R"({"required":"a"})"), "/required"));
  CAF_CHECK(contains(compile_error(R"({"minimum":"1"})"), "/minimum"));
  CAF_CHECK(contains(compile_error(R"({"$ref":"#/definitions/nope"})"),
                     "points at nothing"));
  CAF_CHECK(contains(compile_error(R"({"$ref":"#anchor"})"), "anchors"));
  CAF_CHECK(contains(compile_error(R"({"pattern":"^\\d+$"})"),
                     "/pattern: pattern \"^\\\\d+$\" is not supported"));
  CAF_CHECK(contains(compile_error(R"({"patternProperties":{"\\w":{}}})"),
                     "/patternProperties/\\w"));
  CAF_CHECK(contains(compile_error(R"({"properties":{"a":5}})"),
                     "/properties/a: a schema must be an object or a boolean"));
}

// Found by tests/fuzz (json_schema_compile): patterns RapidJSON's regex
// parser asserts on or reads past its stack with, or whose empty loops its
// matcher recurses through until the stack overflows, and `$ref`s that make
// RapidJSON recurse so.
CAF_TEST(patterns and refs RapidJSON cannot build are refused) {
  for (auto pattern :
       {"^(a", "(a|b\xE6)*$", "b(^properti|)q$", "a|", "()", "{2}a", "^${2}",
        "(*a)", "a\\u0000b", "(a*)*", "p$$**", "(a|b?)+", "(a*){1,}", "a{2"}) {
    CAF_MESSAGE("pattern " << pattern);
    auto err = compile_error(std::string{R"({"pattern":")"} + pattern
                             + R"(","type":"string"})");
    CAF_CHECK(contains(err, "/pattern: pattern"));
  }
  auto s = compile(R"({"pattern":"^(a|b)+[(|]?\\($","type":"string"})");
  valid(s, R"("ab(")");
  valid(s, R"("a|(")");
  auto reps = compile(R"({"pattern":"^(a*){2}(ab?)+x?$","type":"string"})");
  valid(reps, R"("aaabax")");
  violation(reps, R"("b")", "", "pattern");
  for (auto schema :
       {R"({"$ref":""})", R"({"$ref":"#"})", R"({"$ref":"#","type":"string"})",
        R"({"anyOf":[{"not":{"$ref":"#"}}]})",
        R"({"definitions":{"a":{"$ref":"#/definitions/b"},)"
        R"("b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"})"}) {
    CAF_MESSAGE("schema " << schema);
    CAF_CHECK(contains(compile_error(schema), "refers to itself"));
  }
  // Recursion through a keyword is a recursive schema, and fine.
  auto tree = compile(R"({"type":"object","properties":{"kids":{"type":"array",
    "items":{"$ref":"#"}},"n":{"type":"integer"}}})");
  valid(tree, R"({"kids":[{"n":1,"kids":[{"n":2}]}]})");
  violation(tree, R"({"kids":[{"kids":[{"n":"x"}]}]})", "/kids/0/kids/0/n",
            "type");
}

// Found by tests/fuzz (json_schema_compile, 2026-12-07): RapidJSON makes a
// schema of every object in the document, under unknown keywords too, and
// compiles its pattern; a pattern it cannot build there broke it as one
// under `properties` did.
CAF_TEST(patterns under unknown keywords are checked as well) {
  for (auto schema : {"{\"propeetirs\":{\"pattern\":\"^(ad\xA0"
                      "d*)*$\"},\"type\":\"string\"}",
                      R"({"x-notes":[{"deep":{"pattern":"(a*)*"}}]})",
                      R"({"x-notes":{"patternProperties":{"^(a":{}}}})"}) {
    CAF_MESSAGE("schema " << schema);
    CAF_CHECK(contains(compile_error(schema), "pattern"));
  }
  CAF_CHECK(contains(compile_error(R"({"x-notes":{"patternProperties":5}})"),
                     "/x-notes/patternProperties: must be an object"));
  // RapidJSON follows a local $ref in any object, with no cycle check and
  // no check that it points at an object: refused where no schema stands.
  for (auto schema : {R"({"foo":{"$ref":"#/foo"}})",
                      R"({"x":{"a":{"$ref":"#/x/b"},"b":{"$ref":"#/x/a"}}})",
                      R"({"x":{"$ref":"#/type"},"type":"string"})",
                      R"({"enum":[{"$ref":"#"}]})"}) {
    CAF_MESSAGE("schema " << schema);
    CAF_CHECK(contains(compile_error(schema), "a $ref where no schema stands"));
  }
  // A $ref into a library kept under an unknown keyword is a schema
  // position, and so is the one it leads to.
  auto lib = compile(R"({"$ref":"#/x-lib/a","x-lib":{"a":{"$ref":"#/x-lib/b"},
    "b":{"type":"string","pattern":"^[a-z]+$"}}})");
  valid(lib, R"("abc")");
  violation(lib, R"("ABC")", "", "pattern");
  // A good pattern anywhere, and a pattern that is not a string where
  // RapidJSON does not read it as one, still compile.
  auto s = compile(R"({"type":"string","x-notes":{"pattern":"^[a-z]+$",
    "examples":[{"pattern":7}]}})");
  valid(s, R"("anything")");
}
