#define CAF_SUITE protocol.json_schema
#include <caf/test/unit_test.hpp>

#include "json_schema_helpers.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace herald::protocol;
using namespace herald::protocol::schema_testing;

// -- the seed: websocket-event.schema.json ------------------------------------

CAF_TEST(the seed loads and its external ref accepts anything) {
  auto s = seed();
  CAF_CHECK_EQUAL(s->path(), seed_path());
  CAF_REQUIRE_EQUAL(s->accepted_any_refs().size(), 1u);
  CAF_CHECK_EQUAL(s->accepted_any_refs()[0],
                  "https://cityresourcegraph.com/schemas/match_response.json");
}

CAF_TEST(valid frames of each event kind) {
  auto s = seed();
  valid(s, frame(note));
  valid(s, frame(note, R"(,"user_id":"u-1")"));
  valid(s, frame(R"({"title":"t","message":"m","priority":"urgent",)"
                 R"("action_url":"not a uri","expires_at":"whenever"})"));
  // match_event: `match` is the external $ref, accepted as anything.
  valid(s,
        frame(R"({"match":{"id":"m1","score":0.9},"reason":"new_resource"})"));
  valid(s, frame(R"({"match":42})"));
  valid(s, frame(R"({"resource_id":"r1","changes":{"price":3},)"
                 R"("affected_matches":["a","b"]})"));
  valid(s, frame(R"({"component":"cache","status":"degraded",)"
                 R"("message":"slow"})"));
  for (auto type : {"match_found", "resource_updated", "price_changed",
                    "notification", "system_status"})
    valid(s, R"({"event_type":")" + std::string{type}
                 + R"(","event_id":"e","timestamp":"t","data":)" + note + "}");
}

CAF_TEST(format is not checked) {
  // event_id and user_id are `format: uuid`, timestamp `date-time`.
  valid(seed(), R"({"event_type":"notification","event_id":"not-a-uuid",)"
                R"("timestamp":"yesterday","user_id":"bob","data":)"
                    + note + "}");
}

CAF_TEST(enum) {
  auto s = seed();
  auto msg = violation(s,
                       R"({"event_type":"bogus","event_id":"e",)"
                       R"("timestamp":"t","data":)"
                           + note + "}",
                       "/event_type", "enum");
  CAF_CHECK(contains(msg, "must be one of"));
  CAF_CHECK(contains(msg, "\"notification\""));
  // Inside oneOf: the failing branch is reported, not the oneOf.
  msg = violation(s, frame(R"({"title":"t","message":"m","priority":"asap"})"),
                  "/data/priority", "enum");
  CAF_CHECK(contains(msg, "\"urgent\""));
  violation(s, frame(R"({"match":{},"reason":"whim"})"), "/data/reason",
            "enum");
}

CAF_TEST(required) {
  auto s = seed();
  auto msg = violation(
      s, R"({"event_type":"notification","timestamp":"t","data":)" + note + "}",
      "", "required");
  CAF_CHECK(contains(msg, "required property \"event_id\" is missing"));
  msg = violation(s,
                  R"({"event_type":"notification","event_id":"e",)"
                  R"("timestamp":"t"})",
                  "", "required");
  CAF_CHECK(contains(msg, "\"data\""));
}

CAF_TEST(maxLength counts characters and names the path) {
  auto s = seed();
  auto msg = violation(
      s, frame(R"({"title":")" + std::string(201, 'x') + R"(","message":"m"})"),
      "/data/title", "maxLength");
  CAF_CHECK_EQUAL(msg,
                  "/data/title: must be at most 200 characters long (got 201)");
  valid(s,
        frame(R"({"title":")" + std::string(200, 'x') + R"(","message":"m"})"));
  // 200 two-byte characters are 400 bytes but 200 characters.
  std::string e200;
  for (int i = 0; i < 200; ++i)
    e200 += "\xc3\xa9";
  valid(s, frame(R"({"title":")" + e200 + R"(","message":"m"})"));
  violation(
      s, frame(R"({"title":"t","message":")" + std::string(1001, 'm') + "\"}"),
      "/data/message", "maxLength");
  violation(s,
            frame(R"({"component":"api","status":"down","message":")"
                  + std::string(501, 'm') + "\"}"),
            "/data/message", "maxLength");
}

CAF_TEST(oneOf) {
  auto s = seed();
  // No branch: each branch's reason is listed.
  auto msg = violation(s, frame("{}"), "/data", "oneOf");
  CAF_CHECK(contains(msg, "matches none of the 4 schemas of oneOf"));
  CAF_CHECK(contains(msg, "notification_event: required property \"title\""));
  CAF_CHECK(contains(msg, "match_event: required property \"match\""));
  // Two branches at once.
  msg = violation(s,
                  frame(R"({"title":"t","message":"m","component":"api",)"
                        R"("status":"down"})"),
                  "/data", "oneOf");
  CAF_CHECK(contains(msg, "matches more than one schema of oneOf"));
  CAF_CHECK(contains(msg, "notification_event"));
  CAF_CHECK(contains(msg, "system_event"));
  // data must be an object in every branch.
  msg = violation(s, frame("\"text\""), "/data", "oneOf");
  CAF_CHECK(contains(msg, "must be of type object, got string"));
}

CAF_TEST(additionalProperties false) {
  auto s = seed();
  auto msg = violation(s, frame(note, R"(,"topic":"customer_id:c1:x:y")"),
                       "/topic", "additionalProperties");
  CAF_CHECK_EQUAL(msg, "/topic: property \"topic\" is not allowed "
                       "(additionalProperties is false)");
  // The data branches are open.
  valid(s, frame(R"({"title":"t","message":"m","extra":1})"));
}

CAF_TEST(type and items) {
  auto s = seed();
  auto msg = violation(s,
                       R"({"event_type":"notification","event_id":5,)"
                       R"("timestamp":"t","data":)"
                           + note + "}",
                       "/event_id", "type");
  CAF_CHECK(contains(msg, "must be of type string, got integer"));
  violation(s,
            frame(R"({"resource_id":"r","changes":{},)"
                  R"("affected_matches":["a",7]})"),
            "/data/affected_matches/1", "type");
  violation(s, frame(R"({"resource_id":"r","changes":[]})"), "/data/changes",
            "type");
  violation(s, frame(note, R"(,"user_id":null)"), "/user_id", "type");
}

// -- external $ref
// -------------------------------------------------------------

CAF_TEST(an external ref is resolved from the schema directory) {
  temp_dir dir;
  auto path = dir.write("websocket-event.schema.json", slurp(seed_path()));
  dir.write("match_response.json", R"({"definitions":{"match":{
    "type":"object","required":["match_id"],
    "properties":{"match_id":{"type":"string"},
                  "score":{"$ref":"#/definitions/score"}}},
    "score":{"type":"number","minimum":0,"maximum":1}}})");
  auto r = load_schema(path);
  CAF_REQUIRE(std::holds_alternative<schema_ptr>(r));
  auto s = std::get<schema_ptr>(r);
  CAF_CHECK(s->accepted_any_refs().empty());
  valid(s, frame(R"({"match":{"match_id":"m1","score":0.5}})"));
  violation(s, frame(R"({"match":42})"), "/data/match", "type");
  auto msg = violation(s, frame(R"({"match":{}})"), "/data/match", "required");
  CAF_CHECK(contains(msg, "\"match_id\""));
  // A local $ref inside the external file resolves in that file.
  auto r2 = load_schema(path);
  CAF_REQUIRE(std::holds_alternative<schema_ptr>(r2));
  CAF_CHECK(check(std::get<schema_ptr>(r2),
                  frame(R"({"match":{"match_id":"m1","score":0.5}})"))
            == std::nullopt);
  CAF_CHECK(check(s, frame(R"({"match":{"match_id":"m1","score":7}})")));
  // A local copy that lacks the target is a load error, not accept-any.
  dir.write("match_response.json", R"({"definitions":{}})");
  auto bad = load_schema(path);
  CAF_REQUIRE(std::holds_alternative<std::string>(bad));
  auto err = std::get<std::string>(bad);
  CAF_CHECK(contains(err, "/definitions/match_event/properties/match/$ref"));
  CAF_CHECK(contains(err, "points at nothing"));
  // So is a local copy that is not JSON.
  dir.write("match_response.json", "{");
  bad = load_schema(path);
  CAF_REQUIRE(std::holds_alternative<std::string>(bad));
  CAF_CHECK(contains(std::get<std::string>(bad), "match_response.json: 1:2"));
}

CAF_TEST(files may refer to each other) {
  temp_dir dir;
  auto path =
      dir.write("root.json", R"({"$ref":"http://x/a.json#/definitions/a"})");
  dir.write("a.json", R"({"definitions":{"a":{"$ref":"b.json#"}}})");
  dir.write("b.json", R"({"type":"object","properties":{
    "next":{"$ref":"http://y/a.json#/definitions/a"}}})");
  auto r = load_schema(path);
  CAF_REQUIRE(std::holds_alternative<schema_ptr>(r));
  auto s = std::get<schema_ptr>(r);
  valid(s, R"({"next":{"next":{}}})");
  violation(s, R"({"next":{"next":5}})", "/next/next", "type");
}

CAF_TEST(a ref to the own id of the schema is local) {
  auto s = compile(R"({"$id":"https://h/s/me.json","type":"object",
    "properties":{"a":{"$ref":"https://h/s/me.json#/definitions/n"}},
    "definitions":{"n":{"type":"integer"}}})");
  CAF_CHECK(s->accepted_any_refs().empty());
  valid(s, R"({"a":1})");
  violation(s, R"({"a":"x"})", "/a", "type");
}

// -- later drafts, translated
// ---------------------------------------------------

CAF_TEST(const) {
  auto s = compile(R"({"$schema":"https://json-schema.org/draft/2020-12/schema",
    "properties":{"v":{"const":{"a":[1,2]}},
                  "w":{"const":"x","enum":["x","y"]},
                  "z":{"const":"y","enum":["x"]}}})");
  valid(s, R"({"v":{"a":[1,2]},"w":"x"})");
  auto msg = violation(s, R"({"v":{"a":[2,1]}})", "/v", "enum");
  CAF_CHECK_EQUAL(msg, "/v: must be equal to {\"a\":[1,2]}");
  violation(s, R"({"w":"y"})", "/w", "enum");
  violation(s, R"({"z":"y"})", "/z", "enum");
  violation(s, R"({"z":"x"})", "/z", "enum");
}

CAF_TEST(boolean schemas) {
  auto s = compile(R"({"properties":{"never":false,"any":true},
    "items":false})");
  valid(s, R"({"any":1})");
  violation(s, R"({"never":1})", "/never", "not");
  auto top = compile("false");
  CAF_CHECK(check(top, "{}"));
  valid(compile("true"), "[1]");
}

CAF_TEST(numeric exclusive bounds) {
  auto s = compile(R"({"properties":{"a":{"exclusiveMinimum":0},
    "b":{"minimum":5,"exclusiveMinimum":1,"exclusiveMaximum":10},
    "c":{"minimum":0,"exclusiveMinimum":true}}})");
  valid(s, R"({"a":0.5,"b":5,"c":1})");
  auto msg = violation(s, R"({"a":0})", "/a", "minimum");
  CAF_CHECK_EQUAL(msg, "/a: must be > 0 (got 0)");
  violation(s, R"({"b":4})", "/b", "minimum");
  violation(s, R"({"b":10})", "/b", "maximum");
  violation(s, R"({"c":0})", "/c", "minimum");
}

CAF_TEST(ref with sibling keywords) {
  auto s = compile(R"({"definitions":{"s":{"type":"string"}},
    "properties":{"a":{"$ref":"#/definitions/s","maxLength":3}}})");
  valid(s, R"({"a":"abc"})");
  violation(s, R"({"a":"abcd"})", "/a", "maxLength");
  violation(s, R"({"a":1})", "/a", "type");
}

// Found by tests/fuzz (json_schema): RapidJSON wants `$` percent-encoded
// in a fragment, so `#/$defs/p` was refused as "not a valid JSON pointer".
CAF_TEST(refs into defs of later drafts) {
  auto s = compile(R"({"$schema":"https://json-schema.org/draft/2020-12/schema",
    "$defs":{"p":{"type":"integer"},"a b":{"type":"string"}},
    "properties":{"n":{"$ref":"#/$defs/p"},"s":{"$ref":"#/$defs/a%20b"},
    "m":{"$ref":"#/$defs/p","minimum":3}}})");
  valid(s, R"({"n":1,"s":"x","m":4})");
  violation(s, R"({"n":"x"})", "/n", "type");
  violation(s, R"({"s":1})", "/s", "type");
  violation(s, R"({"m":2})", "/m", "minimum");
  CAF_CHECK(contains(compile_error(R"({"$ref":"#/$defs/nope"})"),
                     "points at nothing"));
}

// Found by tests/fuzz (publish, json_schema): full-precision parsing of
// `0e100` gave garbage, so a zero could break `maximum`.
CAF_TEST(zeros with exponents validate as zeros) {
  auto s = compile(R"({"type":"array","items":{"maximum":0,"minimum":0}})");
  valid(s, R"([0e100,0.000000000000000000000000000000000000000000e5,-0E+131])");
  violation(s, R"([1e2])", "/0", "maximum");
}

// -- other keywords and paths
// ---------------------------------------------------

CAF_TEST(keywords and their messages) {
  auto s = compile(R"({"type":"object","properties":{
    "n":{"type":"integer","minimum":1,"maximum":9,"multipleOf":2},
    "s":{"type":"string","minLength":2,"pattern":"^[a-z]+$"},
    "l":{"type":"array","minItems":1,"maxItems":2,"uniqueItems":true},
    "t":{"type":"array","items":[{"type":"string"}],"additionalItems":false},
    "o":{"type":"object","maxProperties":1,"dependencies":{"a":["b"]}},
    "x":{"not":{"type":"null"}},
    "a":{"anyOf":[{"type":"string"},{"type":"integer"}]},
    "all":{"allOf":[{"minimum":0},{"maximum":5}]},
    "a/b~c":{"type":"string"}},
    "required":["n"]})");
  valid(s, R"({"n":4,"s":"ab","l":[1,2],"t":["a"],"o":{"b":1},"x":1,"a":"s",)"
           R"("all":3,"a/b~c":"ok"})");
  CAF_CHECK_EQUAL(violation(s, R"({"n":11})", "/n", "maximum"),
                  "/n: must be <= 9 (got 11)");
  violation(s, R"({"n":0})", "/n", "minimum");
  CAF_CHECK_EQUAL(violation(s, R"({"n":3})", "/n", "multipleOf"),
                  "/n: must be a multiple of 2");
  violation(s, R"({"n":2.5})", "/n", "type");
  CAF_CHECK_EQUAL(violation(s, R"({"n":2,"s":"a"})", "/s", "minLength"),
                  "/s: must be at least 2 characters long (got 1)");
  CAF_CHECK_EQUAL(violation(s, R"({"n":2,"s":"AB"})", "/s", "pattern"),
                  "/s: must match the pattern \"^[a-z]+$\"");
  CAF_CHECK_EQUAL(violation(s, R"({"n":2,"l":[]})", "/l", "minItems"),
                  "/l: must have at least 1 items (got 0)");
  violation(s, R"({"n":2,"l":[1,2,3]})", "/l", "maxItems");
  violation(s, R"({"n":2,"l":[1,1]})", "/l/1", "uniqueItems");
  violation(s, R"({"n":2,"t":["a","b"]})", "/t/1", "items");
  violation(s, R"({"n":2,"t":[1]})", "/t/0", "type");
  violation(s, R"({"n":2,"o":{"b":1,"c":2}})", "/o", "maxProperties");
  violation(s, R"({"n":2,"o":{"a":1}})", "/o", "dependencies");
  violation(s, R"({"n":2,"x":null})", "/x", "not");
  auto msg = violation(s, R"({"n":2,"a":1.5})", "/a", "anyOf");
  CAF_CHECK(contains(msg, "matches none of the 2 schemas of anyOf"));
  violation(s, R"({"n":2,"all":7})", "/all", "maximum");
  // Pointer escaping: `/` is ~1, `~` is ~0.
  violation(s, R"({"n":2,"a/b~c":1})", "/a~1b~0c", "type");
  CAF_CHECK_EQUAL(violation(s, R"({})", "", "required"),
                  "(root): required property \"n\" is missing");
  CAF_CHECK_EQUAL(violation(s, "[]", "", "type"),
                  "(root): must be of type object, got array");
}

CAF_TEST(a prefix goes before every path) {
  auto s = seed();
  auto v = s->validate_json(
      R"({"title":")" + std::string(300, 'x') + R"(","message":"m"})", "/x");
  // The seed's root is the envelope: data fields are not allowed there.
  CAF_REQUIRE(v);
  CAF_CHECK_EQUAL(v->path.compare(0, 3, "/x/"), 0);
  CAF_CHECK_EQUAL(v->message.compare(0, 3, "/x/"), 0);
  auto any = compile(R"({"type":"object"})");
  auto w = any->validate_json("[]", "/data");
  CAF_REQUIRE(w);
  CAF_CHECK_EQUAL(w->path, "/data");
  CAF_CHECK_EQUAL(w->message, "/data: must be of type object, got array");
  auto j = any->validate_json("{", "/data");
  CAF_REQUIRE(j);
  CAF_CHECK_EQUAL(j->keyword, "json");
}

CAF_TEST(validation from many threads at once) {
  // `pattern` is where RapidJSON 1.1.0 keeps per-match state.
  auto s = compile(R"({"properties":{"p":{"type":"string",
    "pattern":"^[a-z]+-[0-9]+$"},"q":{"oneOf":[{"type":"string"},
    {"type":"integer"}]}}})");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        bool good = (i + t) % 3 != 0;
        auto json = good ? R"({"p":"abc-)" + std::to_string(i) + R"(","q":1})"
                         : R"({"p":"ABC-)" + std::to_string(i) + R"(","q":[]})";
        auto v = s->validate_json(json);
        if (v.has_value() == good || (v && v->path != "/p"))
          ++wrong;
      }
    });
  for (auto& th : threads)
    th.join();
  CAF_CHECK_EQUAL(wrong.load(), 0);
}
