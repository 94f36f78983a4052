#define CAF_SUITE protocol.frames
#include <caf/test/unit_test.hpp>

#include "protocol/frames.hpp"

#include <rapidjson/document.h>

#include <string>

using namespace herald::protocol;

namespace {

using frame_result = std::variant<client_frame, client_frame_error>;

const client_frame_error* error_of(const frame_result& r) {
  return std::get_if<client_frame_error>(&r);
}

/// The message of a refused frame, or "" when it was accepted.
std::string refusal(std::string_view text) {
  auto r = parse_client_frame(text);
  auto err = error_of(r);
  return err ? err->message : std::string{};
}

/// Parses `json` back, so tests check structure rather than byte layout
/// where the layout does not matter.
rapidjson::Document reparse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  return doc;
}

} // namespace

CAF_TEST(subscribe with every field) {
  auto r = parse_client_frame(
      R"({"type":"subscribe","topics":["customer_id:c1:call:*","a:b"],)"
      R"("id":"r1","since":"p-17","extra":{"ignored":true}})");
  CAF_REQUIRE(std::holds_alternative<client_frame>(r));
  auto& f = std::get<client_frame>(r);
  CAF_CHECK(f.type == client_frame::kind::subscribe);
  CAF_CHECK_EQUAL(f.topics,
                  (std::vector<std::string>{"customer_id:c1:call:*", "a:b"}));
  CAF_CHECK_EQUAL(f.id, std::optional<std::string>{"r1"});
  CAF_CHECK_EQUAL(f.since, std::optional<std::string>{"p-17"});
}

CAF_TEST(unsubscribe ping and empty topics) {
  auto r = parse_client_frame(R"({"type":"unsubscribe","topics":[]})");
  CAF_REQUIRE(std::holds_alternative<client_frame>(r));
  auto& f = std::get<client_frame>(r);
  CAF_CHECK(f.type == client_frame::kind::unsubscribe);
  CAF_CHECK(f.topics.empty());
  CAF_CHECK(!f.id);
  CAF_CHECK(!f.since);
  auto p = parse_client_frame(R"({"type":"ping"})");
  CAF_REQUIRE(std::holds_alternative<client_frame>(p));
  CAF_CHECK(std::get<client_frame>(p).type == client_frame::kind::ping);
  // A ping needs no topics, and whatever it carries there is ignored.
  CAF_CHECK_EQUAL(refusal(R"({"type":"ping","topics":7})"), "");
  CAF_CHECK_EQUAL(refusal(R"({"type":"subscribe","topics":[]})"), "");
}

CAF_TEST(every INVALID_MESSAGE case) {
  CAF_CHECK_EQUAL(refusal(""), "frame is not valid JSON");
  CAF_CHECK_EQUAL(refusal("{"), "frame is not valid JSON");
  CAF_CHECK_EQUAL(refusal(R"({"type":"ping"} x)"), "frame is not valid JSON");
  CAF_CHECK_EQUAL(refusal("{\"type\":\"ping\",\"x\":\"\xff\"}"),
                  "frame is not valid JSON");
  CAF_CHECK_EQUAL(refusal("[]"), "frame must be a JSON object");
  CAF_CHECK_EQUAL(refusal("\"ping\""), "frame must be a JSON object");
  CAF_CHECK_EQUAL(refusal("null"), "frame must be a JSON object");
  CAF_CHECK_EQUAL(refusal("{}"), "missing type");
  CAF_CHECK_EQUAL(refusal(R"({"type":1})"), "type must be a string");
  CAF_CHECK_EQUAL(refusal(R"({"type":"publish"})"), "unknown type");
  CAF_CHECK_EQUAL(refusal(R"({"type":"Subscribe","topics":[]})"),
                  "unknown type");
  CAF_CHECK_EQUAL(refusal(R"({"type":"subscribe"})"), "missing topics");
  CAF_CHECK_EQUAL(refusal(R"({"type":"unsubscribe"})"), "missing topics");
  for (auto topics :
       {R"("a:b")", "null", "{}", R"(["a:b",1])", R"([["a:b"]])", R"([null])"})
    CAF_CHECK_EQUAL(
        refusal(std::string{R"({"type":"subscribe","topics":)"} + topics + "}"),
        "topics must be an array of strings");
  CAF_CHECK_EQUAL(refusal(R"({"type":"ping","id":1})"), "id must be a string");
  CAF_CHECK_EQUAL(refusal(R"({"type":"ping","id":null})"),
                  "id must be a string");
  CAF_CHECK_EQUAL(refusal(R"({"type":"subscribe","topics":[],"since":5})"),
                  "since must be a string");
}

CAF_TEST(errors echo action and id when they can) {
  auto r = parse_client_frame(R"({"type":"subscribe","topics":7,"id":"r9"})");
  auto err = error_of(r);
  CAF_REQUIRE(err != nullptr);
  CAF_CHECK_EQUAL(err->action, "subscribe");
  CAF_CHECK_EQUAL(err->id, std::optional<std::string>{"r9"});
  auto unknown = parse_client_frame(R"({"type":"dance","id":"r2"})");
  CAF_REQUIRE(error_of(unknown) != nullptr);
  CAF_CHECK_EQUAL(error_of(unknown)->action, "dance");
  CAF_CHECK_EQUAL(error_of(unknown)->id, std::optional<std::string>{"r2"});
  auto numeric_id = parse_client_frame(R"({"type":"ping","id":3})");
  CAF_REQUIRE(error_of(numeric_id) != nullptr);
  CAF_CHECK_EQUAL(error_of(numeric_id)->action, "ping");
  CAF_CHECK(!error_of(numeric_id)->id);
  auto not_json = parse_client_frame("nope");
  CAF_REQUIRE(error_of(not_json) != nullptr);
  CAF_CHECK_EQUAL(error_of(not_json)->action, "");
  CAF_CHECK(!error_of(not_json)->id);
}

CAF_TEST(ack and error encoding) {
  CAF_CHECK_EQUAL(encode_ack("subscribe", {"customer_id:c1:call:*"}, "r1"),
                  R"({"type":"ack","action":"subscribe",)"
                  R"("topics":["customer_id:c1:call:*"],"status":"success",)"
                  R"("id":"r1"})");
  CAF_CHECK_EQUAL(encode_ack("unsubscribe", {}, std::nullopt),
                  R"({"type":"ack","action":"unsubscribe","topics":[],)"
                  R"("status":"success"})");
  CAF_CHECK_EQUAL(encode_error("subscribe", {"agent_id:a9:queue:*"},
                               codes::permission_denied, "not yours", "r1"),
                  R"({"type":"error","action":"subscribe",)"
                  R"("topics":["agent_id:a9:queue:*"],)"
                  R"("code":"PERMISSION_DENIED","message":"not yours",)"
                  R"("id":"r1"})");
  CAF_CHECK_EQUAL(
      encode_error("", {}, codes::invalid_message, "bad", std::nullopt),
      R"({"type":"error","code":"INVALID_MESSAGE",)"
      R"("message":"bad"})");
  CAF_CHECK_EQUAL(encode_pong(), R"({"type":"pong"})");
  CAF_CHECK_EQUAL(encode_pong(std::string{"p1"}),
                  R"({"type":"pong","id":"p1"})");
}

CAF_TEST(encoders escape strings) {
  auto tricky = std::string{"q\"b\\s/\n\t\x01 \xc3\xa9 \xf0\x9f\x98\x80"};
  auto json =
      encode_error("subscribe", {tricky}, codes::invalid_topic, tricky, tricky);
  auto doc = reparse(json);
  CAF_REQUIRE(!doc.HasParseError());
  CAF_CHECK_EQUAL(doc["message"].GetString(), tricky);
  CAF_CHECK_EQUAL(doc["id"].GetString(), tricky);
  CAF_CHECK_EQUAL(doc["topics"][0].GetString(), tricky);
  CAF_CHECK(json.find('\n') == std::string::npos);
  // Invalid UTF-8 handed to an encoder becomes U+FFFD, never raw bytes.
  auto bad = encode_error("", {}, codes::invalid_message,
                          "a\xff"
                          "b\xc3",
                          std::nullopt);
  auto bad_doc = reparse(bad);
  CAF_REQUIRE(!bad_doc.HasParseError());
  CAF_CHECK_EQUAL(bad_doc["message"].GetString(), std::string{"a\xef\xbf\xbd"
                                                              "b\xef\xbf\xbd"});
}

CAF_TEST(round trip of a parsed frame into its ack) {
  auto r = parse_client_frame(
      R"({"type":"subscribe","topics":["x:\"y\"","\u00e9:1"],"id":"\u2603"})");
  CAF_REQUIRE(std::holds_alternative<client_frame>(r));
  auto& f = std::get<client_frame>(r);
  auto ack = encode_ack("subscribe", f.topics, f.id);
  auto again = parse_client_frame(
      std::string{R"({"type":"subscribe","topics":)"}
      + ack.substr(ack.find('['), ack.find(']') - ack.find('[') + 1) + "}");
  CAF_REQUIRE(std::holds_alternative<client_frame>(again));
  CAF_CHECK_EQUAL(std::get<client_frame>(again).topics, f.topics);
  auto doc = reparse(ack);
  CAF_CHECK_EQUAL(doc["id"].GetString(), std::string{"\xe2\x98\x83"});
}

CAF_TEST(iso8601 timestamps) {
  CAF_CHECK_EQUAL(format_iso8601_us(0), "1970-01-01T00:00:00.000000Z");
  CAF_CHECK_EQUAL(format_iso8601_us(1705314605000000),
                  "2024-01-15T10:30:05.000000Z");
  CAF_CHECK_EQUAL(format_iso8601_us(1705314605123456),
                  "2024-01-15T10:30:05.123456Z");
  CAF_CHECK_EQUAL(format_iso8601_us(951782400000001), // leap day
                  "2000-02-29T00:00:00.000001Z");
  CAF_CHECK_EQUAL(format_iso8601_us(-1), "1969-12-31T23:59:59.999999Z");
  CAF_CHECK_EQUAL(format_iso8601_us(253402300799999999),
                  "9999-12-31T23:59:59.999999Z");
}

CAF_TEST(ws event frame field order and raw embedding) {
  event ev;
  ev.id = "e1";
  ev.event_type = "call.status";
  ev.timestamp_us = 1705314605000000;
  ev.topic = "customer_id:c1:call:x1";
  ev.data_json = R"({"status":"answered","n":[1,2.5]})";
  ev.pos = "n1.7";
  CAF_CHECK_EQUAL(encode_ws_event(ev),
                  R"({"id":"e1","event_type":"call.status",)"
                  R"("timestamp":"2024-01-15T10:30:05.000000Z",)"
                  R"("topic":"customer_id:c1:call:x1",)"
                  R"("data":{"status":"answered","n":[1,2.5]},"pos":"n1.7"})");
  ev.trace_json = R"({"trace_id":"t1"})";
  auto with_trace = encode_ws_event(ev);
  CAF_CHECK_EQUAL(with_trace.substr(with_trace.find(",\"pos\"")),
                  R"(,"pos":"n1.7","trace":{"trace_id":"t1"}})");
  CAF_CHECK(!reparse(with_trace).HasParseError());
  event empty;
  empty.id = "e\"2";
  auto doc = reparse(encode_ws_event(empty));
  CAF_REQUIRE(!doc.HasParseError());
  CAF_CHECK(doc["data"].IsObject());
  CAF_CHECK_EQUAL(doc["id"].GetString(), std::string{"e\"2"});
  CAF_CHECK(!doc.HasMember("trace"));
}
