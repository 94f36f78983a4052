#define CAF_SUITE protocol.sse
#include <caf/test/unit_test.hpp>

#include "protocol/sse.hpp"

#include <string>

using namespace herald::protocol;

namespace {

event make(std::string data) {
  event ev;
  ev.event_type = "sales.order.created";
  ev.timestamp_us = 1737000000000123;
  ev.data_json = std::move(data);
  ev.aud.tenant_id = "t1";
  ev.aud.org_ids = {"o1", "o2"};
  ev.pos = "abcd0123-7";
  ev.broadcast = true;
  return ev;
}

} // namespace

CAF_TEST(event type patterns match one part per star) {
  using sse::event_type_matches;
  CAF_CHECK(event_type_matches("*", "anything.at.all"));
  CAF_CHECK(event_type_matches("sales.*", "sales.order"));
  CAF_CHECK(!event_type_matches("sales.*", "sales.order.created"));
  CAF_CHECK(event_type_matches("sales.*.created", "sales.order.created"));
  CAF_CHECK(event_type_matches("sales.order.created", "sales.order.created"));
  CAF_CHECK(!event_type_matches("sales.*", "sales"));
  CAF_CHECK(!event_type_matches("sales", "sales.order"));
  CAF_CHECK(sse::any_matches({}, "x"));
  CAF_CHECK(sse::any_matches({"a.*", "sales.*"}, "sales.x"));
  CAF_CHECK(!sse::any_matches({"a.*"}, "sales.x"));
  CAF_CHECK(sse::valid_event_type_pattern("sales.*"));
  CAF_CHECK(sse::valid_event_type_pattern("*"));
  CAF_CHECK(!sse::valid_event_type_pattern("sa*les"));
  CAF_CHECK(!sse::valid_event_type_pattern("sales..x"));
  CAF_CHECK(!sse::valid_event_type_pattern(""));
}

CAF_TEST(the bridge carries broadcast events with a tenant) {
  auto ev = make("{}");
  CAF_CHECK(sse::carries(ev, {}));
  ev.broadcast = false;
  CAF_CHECK(!sse::carries(ev, {}));
  CAF_CHECK(sse::carries(ev, {"sales.*.created"}));
  ev.broadcast = true;
  ev.aud.tenant_id.clear();
  CAF_CHECK(!sse::carries(ev, {}));
}

CAF_TEST(frames follow the seed with an id line) {
  auto ev = make(R"({"id":"o1"})");
  auto f = sse::encode_frame(ev);
  CAF_REQUIRE(f.has_value());
  CAF_CHECK(!f->truncated);
  CAF_CHECK_EQUAL(f->frame,
                  "id: abcd0123-7\ndata: {\"id\":\"sales.order.created\","
                  "\"payload\":{\"id\":\"o1\"},\"timestamp\":1737000000000,"
                  "\"organizationId\":\"o1\"}\n\n");
  ev.trace_json = R"({"trace_id":"t"})";
  ev.aud.org_ids.clear();
  f = sse::encode_frame(ev);
  CAF_CHECK(f->frame.find(R"("organizationId":"","trace":{"trace_id":"t"}})")
            != std::string::npos);
}

CAF_TEST(4096 bytes go whole and one more is truncated) {
  auto base = sse::encode_data(make(R"({"k":""})"), false).size();
  auto fill = std::string(4096 - base, 'x');
  auto ev = make(R"({"k":")" + fill + R"("})");
  CAF_REQUIRE_EQUAL(sse::encode_data(ev, false).size(), 4096u);
  auto f = sse::encode_frame(ev);
  CAF_REQUIRE(f.has_value());
  CAF_CHECK(!f->truncated);
  ev = make(R"({"k":")" + fill
            + R"(x","id":" o9 ","entityId":"e","entityType":7})");
  f = sse::encode_frame(ev);
  CAF_REQUIRE(f.has_value());
  CAF_CHECK(f->truncated);
  CAF_CHECK(
      f->frame.find(R"("payload":{"truncated":true,"id":"o9","entityId":"e"})")
      != std::string::npos);
}

CAF_TEST(too large even truncated is skipped) {
  auto ev = make(R"({"id":")" + std::string(5000, 'i') + R"("})");
  CAF_CHECK(!sse::encode_frame(ev).has_value());
}

CAF_TEST(named events and heartbeats) {
  CAF_CHECK_EQUAL(
      sse::encode_named("herald.recovery", R"({"recovered":false})"),
      "event: herald.recovery\ndata: {\"recovered\":false}\n\n");
  CAF_CHECK_EQUAL(std::string(sse::heartbeat), ":heartbeat\n\n");
}
