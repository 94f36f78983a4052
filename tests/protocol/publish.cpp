#define CAF_SUITE protocol.publish
#include <caf/test/unit_test.hpp>

#include "protocol/publish.hpp"

#include <rapidjson/document.h>

#include <string>

using namespace herald::protocol;

namespace {

constexpr int64_t ts = 1705314605000000;

using strings = std::vector<std::string>;

const event* event_of(const publish_result& r) {
  return std::get_if<event>(&r);
}

const publish_error* error_of(const publish_result& r) {
  return std::get_if<publish_error>(&r);
}

/// Parses and requires success.
event accept(std::string_view body) {
  auto r = parse_publish(body, ts);
  if (auto err = error_of(r))
    CAF_FAIL("refused: " << err->code << " " << err->message);
  return std::get<event>(r);
}

/// "<status> <code>" of a refused publish, or "accepted".
std::string refusal(std::string_view body) {
  auto r = parse_publish(body, ts);
  auto err = error_of(r);
  if (err == nullptr)
    return "accepted";
  return std::to_string(err->status) + " " + err->code;
}

std::string message_of(std::string_view body) {
  auto r = parse_publish(body, ts);
  auto err = error_of(r);
  return err ? err->message : std::string{};
}

const char* bad_request = "400 INVALID_MESSAGE";

} // namespace

CAF_TEST(minimal publish) {
  auto ev =
      accept(R"({"topic":"customer_id:c1:call:x1",)"
             R"("event_type":"call.status","data":{"status":"answered"}})");
  CAF_CHECK_EQUAL(ev.topic, "customer_id:c1:call:x1");
  CAF_CHECK_EQUAL(ev.event_type, "call.status");
  CAF_CHECK_EQUAL(ev.data_json, R"({"status":"answered"})");
  CAF_CHECK_EQUAL(ev.timestamp_us, ts);
  CAF_CHECK_EQUAL(ev.id.size(), 36u); // a generated UUIDv4
  CAF_CHECK_EQUAL(ev.id[14], '4');
  CAF_CHECK(!ev.broadcast);
  CAF_CHECK(ev.trace_json.empty());
  CAF_CHECK(ev.aud.empty());
}

CAF_TEST(data is re - serialized compactly and defaults to an empty object) {
  auto ev = accept(R"({"topic":"a:b","event_type":"x","data":)"
                   R"( { "n" : [ 1 , 2.5 , 1e3 ] , "s" : "\u00e9\n" } })");
  CAF_CHECK_EQUAL(ev.data_json, "{\"n\":[1,2.5,1000.0],\"s\":\"\xc3\xa9\\n\"}");
  CAF_CHECK_EQUAL(accept(R"({"topic":"a:b","event_type":"x"})").data_json,
                  "{}");
  CAF_CHECK_EQUAL(
      accept(R"({"topic":"a:b","event_type":"x","data":null})").data_json,
      "{}");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b","event_type":"x","data":[1]})"),
                  bad_request);
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b","event_type":"x","data":"s"})"),
                  bad_request);
}

CAF_TEST(body must be a JSON object) {
  CAF_CHECK_EQUAL(refusal(""), bad_request);
  CAF_CHECK_EQUAL(refusal("{"), bad_request);
  CAF_CHECK_EQUAL(refusal("[]"), bad_request);
  CAF_CHECK_EQUAL(refusal("42"), bad_request);
  CAF_CHECK_EQUAL(refusal("{\"topic\":\"a:b\",\"event_type\":\"x\","
                          "\"data\":{\"s\":\"\xff\"}}"),
                  bad_request);
}

CAF_TEST(event type rules) {
  auto with = [](const std::string& et) {
    return refusal(R"({"topic":"a:b","event_type":)" + et + "}");
  };
  for (auto ok : {R"("call")", R"("call.status")", R"("sales.order.created")",
                  R"("a-b_c.D9")"})
    CAF_CHECK_EQUAL(with(ok), "accepted");
  for (auto bad : {R"("")", R"(".x")", R"("x.")", R"("a..b")", R"("a b")",
                   R"("a:b")", R"("a*")", R"(5)", R"(null)", R"(["a"])"})
    CAF_CHECK_EQUAL(with(bad), bad_request);
  CAF_CHECK_EQUAL(with('"' + std::string(128, 'e') + '"'), "accepted");
  CAF_CHECK_EQUAL(with('"' + std::string(129, 'e') + '"'), bad_request);
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b"})"), bad_request);
  CAF_CHECK_EQUAL(message_of(R"({"topic":"a:b"})"), "event_type is required");
}

CAF_TEST(id rules) {
  auto with = [](const std::string& id) {
    return parse_publish(R"({"topic":"a:b","event_type":"x","id":)" + id + "}",
                         ts);
  };
  auto r = with(R"("evt-1")");
  CAF_REQUIRE(event_of(r) != nullptr);
  CAF_CHECK_EQUAL(event_of(r)->id, "evt-1");
  CAF_CHECK(event_of(with('"' + std::string(128, 'i') + '"')) != nullptr);
  CAF_CHECK(error_of(with('"' + std::string(129, 'i') + '"')) != nullptr);
  CAF_CHECK(error_of(with(R"("")")) != nullptr);
  CAF_CHECK(error_of(with("7")) != nullptr);
  CAF_CHECK(error_of(with("{}")) != nullptr);
  // null is "not given": the node makes one.
  auto null_id = with("null");
  CAF_REQUIRE(event_of(null_id) != nullptr);
  CAF_CHECK_EQUAL(event_of(null_id)->id.size(), 36u);
  auto a = accept(R"({"topic":"a:b","event_type":"x"})");
  auto b = accept(R"({"topic":"a:b","event_type":"x"})");
  CAF_CHECK_NOT_EQUAL(a.id, b.id);
}

CAF_TEST(topic rules) {
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:*","event_type":"x"})"),
                  "422 INVALID_TOPIC");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:>","event_type":"x"})"),
                  "422 INVALID_TOPIC");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a::b","event_type":"x"})"),
                  "422 INVALID_TOPIC");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"","event_type":"x"})"),
                  "422 INVALID_TOPIC");
  auto long_topic =
      R"({"event_type":"x","topic":")" + std::string(257, 'a') + "\"}";
  CAF_CHECK_EQUAL(refusal(long_topic), "422 INVALID_TOPIC");
  auto msg = message_of(R"({"topic":"a:b c","event_type":"x"})");
  CAF_CHECK_EQUAL(msg.rfind("invalid topic: ", 0), 0u);
  CAF_CHECK_GREATER(msg.size(), std::string{"invalid topic: "}.size());
  CAF_CHECK_EQUAL(refusal(R"({"topic":5,"event_type":"x"})"), bad_request);
  CAF_CHECK_EQUAL(refusal(R"({"event_type":"x"})"), bad_request);
  CAF_CHECK_EQUAL(message_of(R"({"event_type":"x"})"),
                  "topic is required unless broadcast with a tenant");
}

CAF_TEST(broadcast without topic needs a tenant) {
  auto ev = accept(R"({"event_type":"sales.order.created","broadcast":true,)"
                   R"("data":{"tenantId":"t1"}})");
  CAF_CHECK(ev.broadcast);
  CAF_CHECK(ev.topic.empty());
  CAF_CHECK_EQUAL(ev.aud.tenant_id, "t1");
  CAF_CHECK_EQUAL(
      refusal(
          R"({"event_type":"x","broadcast":true,"audience":{"tenant_id":"t1"}})"),
      "accepted");
  CAF_CHECK_EQUAL(refusal(R"({"event_type":"x","broadcast":true})"),
                  bad_request);
  CAF_CHECK_EQUAL(
      refusal(
          R"({"event_type":"x","broadcast":false,"data":{"tenantId":"t1"}})"),
      bad_request);
  CAF_CHECK_EQUAL(
      refusal(
          R"({"event_type":"x","broadcast":true,"audience":{"tenant_id":""}})"),
      bad_request);
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b","event_type":"x","broadcast":1})"),
                  bad_request);
  CAF_CHECK(
      accept(R"({"topic":"a:b","event_type":"x","broadcast":true})").broadcast);
}

CAF_TEST(trace passes through) {
  auto ev = accept(R"({"topic":"a:b","event_type":"x",)"
                   R"("trace":{"trace_id":"t-1", "span_context":{"a":1}}})");
  CAF_CHECK_EQUAL(ev.trace_json,
                  R"({"trace_id":"t-1","span_context":{"a":1}})");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b","event_type":"x","trace":"t"})"),
                  bad_request);
  CAF_CHECK(accept(R"({"topic":"a:b","event_type":"x","trace":null})")
                .trace_json.empty());
}

CAF_TEST(explicit audience) {
  auto ev = accept(R"({"topic":"a:b","event_type":"x","audience":{)"
                   R"("tenant_id":"t1","org_ids":["o1","o2"],)"
                   R"("user_ids":["u1"],"role_ids":["admin"],"other":1},)"
                   R"("data":{"tenantId":"ignored","recipientUserId":"u9"}})");
  CAF_CHECK_EQUAL(ev.aud.tenant_id, "t1");
  CAF_CHECK_EQUAL(ev.aud.org_ids, (strings{"o1", "o2"}));
  CAF_CHECK_EQUAL(ev.aud.user_ids, (strings{"u1"}));
  CAF_CHECK_EQUAL(ev.aud.role_ids, (strings{"admin"}));
  auto with = [](const std::string& aud) {
    return refusal(R"({"topic":"a:b","event_type":"x","audience":)" + aud
                   + "}");
  };
  CAF_CHECK_EQUAL(with("{}"), "accepted");
  CAF_CHECK_EQUAL(with("null"), "accepted");
  CAF_CHECK_EQUAL(with("[]"), bad_request);
  CAF_CHECK_EQUAL(with(R"("t1")"), bad_request);
  CAF_CHECK_EQUAL(with(R"({"tenant_id":1})"), bad_request);
  CAF_CHECK_EQUAL(with(R"({"tenant_id":["t1"]})"), bad_request);
  for (auto field : {"org_ids", "user_ids", "role_ids"}) {
    auto f = std::string{"{\""} + field + "\":";
    CAF_CHECK_EQUAL(with(f + R"("o1"})"), bad_request);
    CAF_CHECK_EQUAL(with(f + R"(["o1",2]})"), bad_request);
    CAF_CHECK_EQUAL(with(f + R"({}})"), bad_request);
    CAF_CHECK_EQUAL(with(f + "[]}"), "accepted");
  }
  auto msg = message_of(
      R"({"topic":"a:b","event_type":"x","audience":{"role_ids":[1]}})");
  CAF_CHECK(msg.find("audience.role_ids") != std::string::npos);
}

CAF_TEST(audience from the payload) {
  auto ev = accept(
      R"({"topic":"a:b","event_type":"x","data":{"tenantId":"t1",)"
      R"("organizationId":" o1 ","organizationIds":["o2","o1",3,"  "],)"
      R"("recipientUserId":"u1","recipientUserIds":["u2","u1"],)"
      R"("recipientRoleId":"r1","recipientRoleIds":["r2"],"user_id":"u3"}})");
  CAF_CHECK_EQUAL(ev.aud.tenant_id, "t1");
  CAF_CHECK_EQUAL(ev.aud.org_ids, (strings{"o1", "o2"}));
  CAF_CHECK_EQUAL(ev.aud.user_ids, (strings{"u1", "u2", "u3"}));
  CAF_CHECK_EQUAL(ev.aud.role_ids, (strings{"r1", "r2"}));
  // The payload is opaque: odd types there are skipped, not refused.
  auto odd = accept(
      R"({"topic":"a:b","event_type":"x","data":{"tenantId":5,)"
      R"("organizationId":["o1"],"organizationIds":"o2","recipientUserId":"",)"
      R"("recipientRoleIds":{"r":1},"user_id":7}})");
  CAF_CHECK(odd.aud.empty());
  auto plain = accept(R"({"topic":"a:b","event_type":"x","data":{"a":1}})");
  CAF_CHECK(plain.aud.empty());
}

CAF_TEST(top level user_id targets the event) {
  auto ev = accept(R"({"topic":"a:b","event_type":"notification",)"
                   R"("user_id":"u7","data":{"title":"hi"}})");
  CAF_CHECK_EQUAL(ev.aud.user_ids, (strings{"u7"}));
  auto both = accept(R"({"topic":"a:b","event_type":"x","user_id":"u7",)"
                     R"("data":{"user_id":"u7","recipientUserId":"u1"}})");
  CAF_CHECK_EQUAL(both.aud.user_ids, (strings{"u1", "u7"}));
  // An explicit audience wins over everything read from elsewhere.
  auto explicit_aud = accept(R"({"topic":"a:b","event_type":"x",)"
                             R"("user_id":"u7","audience":{}})");
  CAF_CHECK(explicit_aud.aud.empty());
}

CAF_TEST(unknown fields are ignored) {
  auto ev = accept(R"({"topic":"a:b","event_type":"x","priority":"high",)"
                   R"("meta":{"a":[1]},"version":2})");
  CAF_CHECK_EQUAL(ev.topic, "a:b");
}

CAF_TEST(parse_publish_value shares the rules) {
  auto r = parse_publish_value(R"({"topic":"a:b","event_type":"x"})", ts);
  CAF_CHECK(event_of(r) != nullptr);
  auto bad = parse_publish_value(R"({"topic":"a:*","event_type":"x"})", ts);
  CAF_REQUIRE(error_of(bad) != nullptr);
  CAF_CHECK_EQUAL(error_of(bad)->status, 422);
}

CAF_TEST(batch) {
  auto r = parse_publish_batch(
      R"({"events":[{"topic":"a:b","event_type":"x","id":"e1"},)"
      R"({"topic":"a:*","event_type":"x"},7,{"event_type":"x"}]})",
      ts, 10);
  CAF_REQUIRE(std::holds_alternative<std::vector<publish_result>>(r));
  auto& results = std::get<std::vector<publish_result>>(r);
  CAF_REQUIRE_EQUAL(results.size(), 4u);
  CAF_REQUIRE(event_of(results[0]) != nullptr);
  CAF_CHECK_EQUAL(event_of(results[0])->id, "e1");
  CAF_CHECK_EQUAL(event_of(results[0])->timestamp_us, ts);
  CAF_REQUIRE(error_of(results[1]) != nullptr);
  CAF_CHECK_EQUAL(error_of(results[1])->status, 422);
  CAF_CHECK_EQUAL(error_of(results[1])->code, "INVALID_TOPIC");
  CAF_REQUIRE(error_of(results[2]) != nullptr);
  CAF_CHECK_EQUAL(error_of(results[2])->status, 400);
  CAF_REQUIRE(error_of(results[3]) != nullptr);
  CAF_CHECK_EQUAL(error_of(results[3])->code, "INVALID_MESSAGE");
  auto empty = parse_publish_batch(R"({"events":[]})", ts, 10);
  CAF_REQUIRE(std::holds_alternative<std::vector<publish_result>>(empty));
  CAF_CHECK(std::get<std::vector<publish_result>>(empty).empty());
}

CAF_TEST(batch whole body errors) {
  auto whole = [](std::string_view body, std::size_t max = 10) {
    auto r = parse_publish_batch(body, ts, max);
    auto err = std::get_if<publish_error>(&r);
    return err ? std::to_string(err->status) + " " + err->code
               : std::string{"results"};
  };
  CAF_CHECK_EQUAL(whole("nope"), bad_request);
  CAF_CHECK_EQUAL(whole("[]"), bad_request);
  CAF_CHECK_EQUAL(whole("{}"), bad_request);
  CAF_CHECK_EQUAL(whole(R"({"events":{}})"), bad_request);
  CAF_CHECK_EQUAL(whole(R"({"events":null})"), bad_request);
  std::string three = R"({"events":[{"topic":"a:b","event_type":"x"},)"
                      R"({"topic":"a:b","event_type":"x"},)"
                      R"({"topic":"a:b","event_type":"x"}]})";
  CAF_CHECK_EQUAL(whole(three, 3), "results");
  CAF_CHECK_EQUAL(whole(three, 2), bad_request);
  auto r = parse_publish_batch(three, ts, 2);
  auto msg = std::get<publish_error>(r).message;
  CAF_CHECK(msg.find('2') != std::string::npos);
  CAF_CHECK(msg.find('3') != std::string::npos);
}

CAF_TEST(response encoding) {
  event ev;
  ev.id = "e\"1";
  ev.topic = "a:b";
  CAF_CHECK_EQUAL(encode_publish_accepted(ev),
                  R"({"id":"e\"1","topic":"a:b"})");
  CAF_CHECK_EQUAL(encode_error_body("INVALID_TOPIC", "bad \"topic\"\n"),
                  R"({"code":"INVALID_TOPIC","message":"bad \"topic\"\n"})");
  CAF_CHECK_EQUAL(encode_error_body("X", "a\xff"),
                  "{\"code\":\"X\",\"message\":\"a\xef\xbf\xbd\"}");
  std::vector<publish_result> results;
  results.emplace_back(ev);
  results.emplace_back(publish_error{422, "INVALID_TOPIC", "invalid topic"});
  CAF_CHECK_EQUAL(encode_batch_results(results),
                  R"({"results":[{"status":202,"id":"e\"1","topic":"a:b"},)"
                  R"({"status":422,"code":"INVALID_TOPIC",)"
                  R"("message":"invalid topic"}]})");
  CAF_CHECK_EQUAL(encode_batch_results({}), R"({"results":[]})");
}

// Found by tests/fuzz (publish): RapidJSON 1.1's full-precision parse read
// a zero with a large exponent or a long fraction as garbage (`0e100` came
// out as -1.99792e146), and read outside its table of powers of ten for
// numbers beyond or below the doubles (protocol/json_util.hpp).
CAF_TEST(zeros and numbers out of range keep their value or are refused) {
  auto zeros = std::string{"0."} + std::string(40, '0');
  auto ev = accept(R"({"topic":"a:b","event_type":"x","data":{"a":0e100,)"
                   R"("b":-0.0e22,"c":)"
                   + zeros + R"(,"d":4.4e-338,"e":[0E+131],"f":0.0,"g":1.5}})");
  CAF_CHECK_EQUAL(ev.data_json, R"({"a":0.0,"b":-0.0,"c":0.0,"d":0.0,)"
                                R"("e":[0.0],"f":0.0,"g":1.5})");
  CAF_CHECK_EQUAL(refusal(R"({"topic":"a:b","event_type":"x","data":{"a":)"
                          + std::string(97, '1') + "e308}}"),
                  "400 INVALID_MESSAGE");
  // 2^64 - 1 in the significant digits, then 5 or more, rounded to zero.
  ev = accept(R"({"topic":"a:b","event_type":"x","data":{"a":)"
              R"(0.0000000001844674407370955161590}})");
  CAF_CHECK_EQUAL(ev.data_json, R"({"a":1.844674407370955e-10})");
  // A zero's string twin and JSON that was no JSON stay as they were.
  ev = accept(R"({"topic":"a:b","event_type":"x","data":{"s":"0e100"}})");
  CAF_CHECK_EQUAL(ev.data_json, R"({"s":"0e100"})");
  for (auto bad : {"0e55'e", "[[[[0E44[[", "0e0e308", "0.e5", "00e5"})
    CAF_CHECK_EQUAL(refusal(bad), "400 INVALID_MESSAGE");
}
