#define CAF_SUITE protocol.envelope
#include <caf/test/unit_test.hpp>

#include "protocol/envelope.hpp"
#include "protocol/frames.hpp"
#include "protocol/publish.hpp"
#include "protocol/schema_bindings.hpp"

#include <filesystem>
#include <string>

using namespace herald::protocol;

namespace {

constexpr int64_t ts = 1705314605123456; // 2024-01-15T10:30:05.123456Z

std::string seed_path() {
  // tests/protocol/envelope.cpp -> the repository.
  return (std::filesystem::path(__FILE__)
              .parent_path()
              .parent_path()
              .parent_path()
          / "config" / "schemas" / "websocket-event.schema.json")
      .string();
}

event accept(std::string_view body) {
  auto r = parse_publish(body, ts);
  if (auto err = std::get_if<publish_error>(&r))
    CAF_FAIL("refused: " << err->code << " " << err->message);
  return std::get<event>(r);
}

/// One binding of the seed schema.
schema_binding seed_binding(std::string topic, std::string event_type,
                            schema_binding::target validates) {
  schema_binding b;
  b.topic = std::move(topic);
  b.event_type = std::move(event_type);
  b.file = seed_path();
  b.validates = validates;
  auto r = load_schema(seed_path());
  CAF_REQUIRE(std::holds_alternative<schema_ptr>(r));
  b.schema = std::get<schema_ptr>(r);
  return b;
}

schema_binding small_binding(std::string topic, std::string event_type,
                             const std::string& schema) {
  schema_binding b;
  b.topic = std::move(topic);
  b.event_type = std::move(event_type);
  b.file = "inline";
  auto r = compile_schema(schema, {}, "inline");
  CAF_REQUIRE(std::holds_alternative<schema_ptr>(r));
  b.schema = std::get<schema_ptr>(r);
  return b;
}

} // namespace

// -- encoding
// ------------------------------------------------------------------

CAF_TEST(envelope frame exact bytes) {
  event ev;
  ev.id = "0b7e4c1e-4f43-4a39-9d7d-1f3b8f6c2a10";
  ev.topic = "customer_id:c1:notification:n1";
  ev.event_type = "notification";
  ev.timestamp_us = ts;
  ev.data_json = R"({"title":"Hi","message":"There"})";
  ev.user_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  ev.trace_json = R"({"trace_id":"t"})";
  ev.pos = "p-1";
  CAF_CHECK_EQUAL(encode_envelope_event(ev),
                  R"({"event_type":"notification",)"
                  R"("event_id":"0b7e4c1e-4f43-4a39-9d7d-1f3b8f6c2a10",)"
                  R"("timestamp":"2024-01-15T10:30:05.123456Z",)"
                  R"("user_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7",)"
                  R"("data":{"title":"Hi","message":"There"}})");
  // Without a target user there is no user_id member at all.
  ev.user_id.clear();
  CAF_CHECK_EQUAL(encode_envelope_event(ev),
                  R"({"event_type":"notification",)"
                  R"("event_id":"0b7e4c1e-4f43-4a39-9d7d-1f3b8f6c2a10",)"
                  R"("timestamp":"2024-01-15T10:30:05.123456Z",)"
                  R"("data":{"title":"Hi","message":"There"}})");
}

CAF_TEST(envelope timestamp is the ws rendering) {
  event ev;
  ev.id = "e";
  ev.event_type = "x";
  for (int64_t t : {int64_t{0}, int64_t{1}, ts, int64_t{-1}}) {
    ev.timestamp_us = t;
    auto frame = encode_envelope_event(ev);
    CAF_CHECK(frame.find("\"timestamp\":\"" + format_iso8601_us(t) + "\"")
              != std::string::npos);
  }
  ev.timestamp_us = 0;
  CAF_CHECK_EQUAL(encode_envelope_event(ev),
                  R"({"event_type":"x","event_id":"e",)"
                  R"("timestamp":"1970-01-01T00:00:00.000000Z","data":{}})");
}

CAF_TEST(envelope strings are escaped) {
  event ev;
  ev.id = "a\"b\\c";
  ev.event_type = "t";
  ev.user_id = "u\n\xc3\xa9";
  ev.data_json = "{}";
  CAF_CHECK_EQUAL(encode_envelope_event(ev),
                  "{\"event_type\":\"t\",\"event_id\":\"a\\\"b\\\\c\","
                  "\"timestamp\":\"1970-01-01T00:00:00.000000Z\","
                  "\"user_id\":\"u\\n\xc3\xa9\",\"data\":{}}");
}

// -- the target user
// -------------------------------------------------------------

CAF_TEST(user_id comes from the top level or the payload) {
  auto ev = accept(R"({"topic":"a:b","event_type":"notification",)"
                   R"("user_id":" u-top ","data":{"user_id":"u-data"}})");
  CAF_CHECK_EQUAL(ev.user_id, "u-top");
  CAF_CHECK_EQUAL(ev.aud.user_ids,
                  std::vector<std::string>({"u-data", "u-top"}));
  ev = accept(R"({"topic":"a:b","event_type":"n","data":{"user_id":"u-d"}})");
  CAF_CHECK_EQUAL(ev.user_id, "u-d");
  ev = accept(R"({"topic":"a:b","event_type":"n","user_id":"  ",)"
              R"("data":{"user_id":"u-d"}})");
  CAF_CHECK_EQUAL(ev.user_id, "u-d");
  ev = accept(R"({"topic":"a:b","event_type":"n","user_id":7})");
  CAF_CHECK_EQUAL(ev.user_id, "");
  ev = accept(R"({"topic":"a:b","event_type":"n"})");
  CAF_CHECK_EQUAL(ev.user_id, "");
  CAF_CHECK(!ev.envelope);
  // An explicit audience says who sees it: no target user is read.
  ev = accept(R"({"topic":"a:b","event_type":"n","user_id":"u",)"
              R"("audience":{"user_ids":["u","v"]}})");
  CAF_CHECK_EQUAL(ev.user_id, "");
}

CAF_TEST(envelope of a publish validates against the seed) {
  auto ev = accept(R"({"id":"e1","topic":"customer_id:c1:notification:n1",)"
                   R"("event_type":"notification","user_id":"u1",)"
                   R"("data":{"title":"Hi","message":"There"}})");
  auto frame = encode_envelope_event(ev);
  CAF_CHECK_EQUAL(frame, R"({"event_type":"notification","event_id":"e1",)"
                         R"("timestamp":"2024-01-15T10:30:05.123456Z",)"
                         R"("user_id":"u1",)"
                         R"("data":{"title":"Hi","message":"There"}})");
  auto b = seed_binding("customer_id:*:notification:>", "",
                        schema_binding::target::envelope);
  CAF_CHECK(b.schema->validate_json(frame) == std::nullopt);
}

// -- bindings
// ---------------------------------------------------------------------

CAF_TEST(bindings match by topic pattern or event_type pattern) {
  schema_binding b;
  b.topic = "customer_id:*:notification:>";
  event ev;
  ev.topic = "customer_id:c1:notification:n1";
  CAF_CHECK(b.applies_to(ev));
  ev.topic = "customer_id:c1:notification:n1:more";
  CAF_CHECK(b.applies_to(ev));
  ev.topic = "customer_id:c1:notification";
  CAF_CHECK(!b.applies_to(ev));
  ev.topic = "customer_id:c1:call:x";
  CAF_CHECK(!b.applies_to(ev));
  ev.topic.clear(); // broadcast-only
  CAF_CHECK(!b.applies_to(ev));
  schema_binding t;
  t.event_type = "sales.*";
  ev.event_type = "sales.order";
  CAF_CHECK(t.applies_to(ev));
  ev.event_type = "sales.order.created";
  CAF_CHECK(!t.applies_to(ev));
  ev.event_type = "sales";
  CAF_CHECK(!t.applies_to(ev));
  t.event_type = "*";
  CAF_CHECK(t.applies_to(ev));
}

CAF_TEST(check_schemas applies every matching binding) {
  std::vector<schema_binding> bindings;
  bindings.push_back(seed_binding("customer_id:*:notification:>", "",
                                  schema_binding::target::envelope));
  bindings.push_back(small_binding(
      "", "notification",
      R"({"properties":{"title":{"type":"string","minLength":2}}})"));
  // Valid everywhere: the envelope flag is set.
  auto ev = accept(R"({"topic":"customer_id:c1:notification:n1",)"
                   R"("event_type":"notification",)"
                   R"("data":{"title":"Hi","message":"There"}})");
  auto c = check_schemas(bindings, ev);
  CAF_CHECK(!c.violation);
  CAF_CHECK(c.envelope);
  // The envelope binding fails first: paths point into the envelope.
  ev = accept(R"({"topic":"customer_id:c1:notification:n1",)"
              R"("event_type":"notification","data":{"title":"Hi"}})");
  c = check_schemas(bindings, ev);
  CAF_REQUIRE(c.violation);
  CAF_CHECK_EQUAL(c.violation->path, "/data");
  CAF_CHECK_EQUAL(c.violation->keyword, "oneOf");
  CAF_CHECK(!c.envelope);
  // A data binding reports paths under /data as well.
  ev = accept(R"({"topic":"customer_id:c1:call:x","event_type":"notification",)"
              R"("data":{"title":"H"}})");
  c = check_schemas(bindings, ev);
  CAF_REQUIRE(c.violation);
  CAF_CHECK_EQUAL(c.violation->path, "/data/title");
  CAF_CHECK_EQUAL(c.violation->keyword, "minLength");
  CAF_CHECK_EQUAL(c.violation->message,
                  "/data/title: must be at least 2 characters long (got 1)");
  CAF_CHECK(!c.envelope);
  // Nothing applies: nothing checked, no envelope.
  ev = accept(R"({"topic":"customer_id:c1:call:x","event_type":"call.status",)"
              R"("data":{"title":5}})");
  c = check_schemas(bindings, ev);
  CAF_CHECK(!c.violation);
  CAF_CHECK(!c.envelope);
  // The envelope's event_type enum is checked too.
  ev = accept(
      R"({"topic":"customer_id:c1:notification:n1",)"
      R"("event_type":"call.status","data":{"title":"a","message":"b"}})");
  c = check_schemas(bindings, ev);
  CAF_REQUIRE(c.violation);
  CAF_CHECK_EQUAL(c.violation->path, "/event_type");
}

CAF_TEST(schema refusals are 422 with a path) {
  schema_violation v{"/data/title", "maxLength", "/data/title: too long"};
  auto err = schema_refusal(v);
  CAF_CHECK_EQUAL(err.status, 422);
  CAF_CHECK_EQUAL(err.code, "SCHEMA_VIOLATION");
  CAF_CHECK_EQUAL(err.path, "/data/title");
  CAF_CHECK_EQUAL(encode_error_body(err),
                  R"({"code":"SCHEMA_VIOLATION","message":"/data/title: too )"
                  R"(long","path":"/data/title"})");
  std::vector<publish_result> results;
  results.emplace_back(err);
  results.emplace_back(publish_error{400, "INVALID_MESSAGE", "bad"});
  CAF_CHECK_EQUAL(
      encode_batch_results(results),
      R"({"results":[{"status":422,"code":"SCHEMA_VIOLATION",)"
      R"("message":"/data/title: too long","path":"/data/title"},)"
      R"({"status":400,"code":"INVALID_MESSAGE","message":"bad"}]})");
}

CAF_TEST(parsing bindings) {
  std::vector<schema_binding> out;
  CAF_CHECK_EQUAL(
      parse_schema_bindings(R"([{"topic":"a:*:b:>","file":"x.json",)"
                            R"("validates":"envelope"},)"
                            R"({"event_type":"sales.*","file":"/abs/y.json"}])",
                            out),
      "");
  CAF_REQUIRE_EQUAL(out.size(), 2u);
  CAF_CHECK_EQUAL(out[0].topic, "a:*:b:>");
  CAF_CHECK(out[0].validates == schema_binding::target::envelope);
  CAF_CHECK_EQUAL(out[1].event_type, "sales.*");
  CAF_CHECK(out[1].validates == schema_binding::target::data);
  CAF_CHECK(!out[1].schema);
  auto bad = [](const std::string& json) {
    std::vector<schema_binding> ignored;
    return parse_schema_bindings(json, ignored);
  };
  CAF_CHECK_EQUAL(bad("{}").substr(0, 17), "must be an array ");
  CAF_CHECK_EQUAL(bad(R"([{"file":"x"}])"),
                  R"([0]: needs exactly one of "event_type" and "topic")");
  CAF_CHECK_EQUAL(bad(R"([{"file":"x","topic":"a","event_type":"b"}])"),
                  R"([0]: needs exactly one of "event_type" and "topic")");
  CAF_CHECK_EQUAL(bad(R"([{"topic":"a"}])"), "[0].file: is required");
  CAF_CHECK_EQUAL(bad(R"([{"topic":"a:b*","file":"x"}])").substr(0, 10),
                  "[0].topic:");
  CAF_CHECK_EQUAL(bad(R"([{"event_type":"a..b","file":"x"}])").substr(0, 15),
                  "[0].event_type:");
  CAF_CHECK_EQUAL(bad(R"([{"topic":"a","file":"x","validates":"frame"}])"),
                  R"([0].validates: must be "data" or "envelope")");
  CAF_CHECK_EQUAL(bad(R"([{"topic":"a","file":"x","extra":1}])"),
                  R"([0]: unknown member "extra" (event_type, topic, file, )"
                  R"(validates))");
  CAF_CHECK_EQUAL(bad(R"([{"topic":"a","file":5}])"),
                  "[0].file: must be a string");
  CAF_CHECK_EQUAL(bad(R"([5])"), "[0]: must be an object");
}
