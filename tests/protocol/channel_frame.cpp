#define CAF_SUITE protocol.channel_frame
#include <caf/test/unit_test.hpp>

#include "protocol/channel_frame.hpp"

#include <rapidjson/document.h>

using namespace herald::protocol;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  CAF_REQUIRE(!doc.HasParseError());
  return doc;
}

std::string error_of(std::string_view text) {
  auto res = parse_channel_request(text);
  auto* err = std::get_if<channel_request_error>(&res);
  CAF_REQUIRE(err != nullptr);
  return err->message;
}

} // namespace

CAF_TEST(a request needs an object with a string type) {
  auto res = parse_channel_request(
      R"({"type":"subscribe:layer","layer":"core","id":"r1","n":3,"on":true})");
  auto* req = std::get_if<channel_request>(&res);
  CAF_REQUIRE(req != nullptr);
  CAF_CHECK_EQUAL(req->type, "subscribe:layer");
  CAF_CHECK_EQUAL(req->id, std::optional<std::string>{"r1"});
  CAF_CHECK_EQUAL(req->string_field("layer"),
                  std::optional<std::string>{"core"});
  CAF_CHECK(!req->string_field("n"));
  CAF_CHECK_EQUAL(req->uint_field("n"), std::optional<uint64_t>{3});
  CAF_CHECK_EQUAL(req->bool_field("on"), std::optional<bool>{true});
  CAF_CHECK(!req->bool_field("missing"));

  CAF_CHECK_EQUAL(error_of("nope").rfind("not JSON", 0), 0u);
  CAF_CHECK_EQUAL(error_of("[1]"), "expected a JSON object");
  CAF_CHECK_EQUAL(error_of(R"({"type":7})"), "missing or non-string 'type'");
  CAF_CHECK_EQUAL(error_of("{}"), "missing or non-string 'type'");
  auto bad_id = parse_channel_request(R"({"type":"x","id":5})");
  auto* err = std::get_if<channel_request_error>(&bad_id);
  CAF_REQUIRE(err != nullptr);
  CAF_CHECK_EQUAL(err->type, "x"); // echoed in the error frame
}

CAF_TEST(frames carry type data timestamp and the id when asked) {
  auto text = encode_channel_frame("services:state", R"({"services":[]})",
                                   1705314605000000, std::string{"r\"1"});
  auto doc = parse(text);
  CAF_CHECK_EQUAL(std::string{doc["type"].GetString()}, "services:state");
  CAF_CHECK(doc["data"]["services"].IsArray());
  CAF_CHECK_EQUAL(std::string{doc["timestamp"].GetString()},
                  "2024-01-15T10:30:05.000000Z");
  CAF_CHECK_EQUAL(std::string{doc["id"].GetString()}, "r\"1");
  auto bare = parse(encode_channel_frame("x", "", 0));
  CAF_CHECK(bare["data"].IsNull());
  CAF_CHECK(!bare.HasMember("id"));
}

CAF_TEST(error frames name the code and the refused request) {
  auto doc = parse(encode_channel_error("PERMISSION_DENIED", "admins only",
                                        "service:reset_circuit_breaker",
                                        1705314605000000, std::string{"a"}));
  CAF_CHECK_EQUAL(std::string{doc["type"].GetString()}, "error");
  CAF_CHECK_EQUAL(std::string{doc["data"]["code"].GetString()},
                  "PERMISSION_DENIED");
  CAF_CHECK_EQUAL(std::string{doc["data"]["request"].GetString()},
                  "service:reset_circuit_breaker");
  CAF_CHECK_EQUAL(std::string{doc["id"].GetString()}, "a");
  auto anon = parse(encode_channel_error("INVALID_MESSAGE", "bad \xff", "", 1));
  CAF_CHECK(!anon["data"].HasMember("request"));
}
