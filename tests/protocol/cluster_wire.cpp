#define CAF_SUITE protocol.cluster_wire
#include <caf/test/unit_test.hpp>

#include "protocol/cluster_wire.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

using namespace herald::protocol;

namespace {

event sample() {
  event ev;
  ev.id = "e1";
  ev.topic = "customer_id:c1:call:x1";
  ev.event_type = "call.status";
  ev.timestamp_us = 1705314605000123;
  ev.data_json = R"({"status":"ringing","é":"ü"})";
  ev.aud.tenant_id = "t1";
  ev.aud.org_ids = {"o1", "o2"};
  ev.aud.user_ids = {"u1"};
  ev.aud.role_ids = {"admin"};
  ev.broadcast = true;
  ev.trace_json = R"({"trace_id":"x"})";
  ev.user_id = "u1";
  ev.envelope = true;
  ev.owner = "ab12cd34";
  ev.seq = 42;
  return ev;
}

void check_same(const event& a, const event& b) {
  CAF_CHECK_EQUAL(a.id, b.id);
  CAF_CHECK_EQUAL(a.topic, b.topic);
  CAF_CHECK_EQUAL(a.event_type, b.event_type);
  CAF_CHECK_EQUAL(a.timestamp_us, b.timestamp_us);
  CAF_CHECK_EQUAL(a.data_json, b.data_json);
  CAF_CHECK_EQUAL(a.aud.tenant_id, b.aud.tenant_id);
  CAF_CHECK_EQUAL(a.aud.org_ids, b.aud.org_ids);
  CAF_CHECK_EQUAL(a.aud.user_ids, b.aud.user_ids);
  CAF_CHECK_EQUAL(a.aud.role_ids, b.aud.role_ids);
  CAF_CHECK_EQUAL(a.broadcast, b.broadcast);
  CAF_CHECK_EQUAL(a.trace_json, b.trace_json);
  CAF_CHECK_EQUAL(a.user_id, b.user_id);
  CAF_CHECK_EQUAL(a.envelope, b.envelope);
  CAF_CHECK_EQUAL(a.owner, b.owner);
  CAF_CHECK_EQUAL(a.seq, b.seq);
}

} // namespace

CAF_TEST(an event keeps every field through its wire form) {
  auto ev = sample();
  auto back = from_wire(to_wire(ev));
  check_same(ev, *back);
  CAF_CHECK(!back->ws_frame); // each node encodes its own frames
  CAF_CHECK(back->pos.empty());
}

CAF_TEST(wire events survive CAF binary serialization) {
  wire_events out{to_wire(sample()), to_wire(sample())};
  out[1].seq = 43;
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  CAF_REQUIRE(!sink(out));
  wire_events in;
  caf::binary_deserializer source{nullptr, buf};
  CAF_REQUIRE(!source(in));
  CAF_REQUIRE_EQUAL(in.size(), 2u);
  check_same(*from_wire(wire_event{out[0]}), *from_wire(std::move(in[0])));
  CAF_CHECK_EQUAL(in[1].seq, 43u);
}

CAF_TEST(member infos and replay parts survive serialization) {
  replay_part part{"ab12cd34", 7, true, {to_wire(sample())}};
  member_infos members{{"a", "e1", "10.0.0.1", 7400}, {"b", "e2", "::1", 1}};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  CAF_REQUIRE(!sink(part, members));
  replay_part part2;
  member_infos members2;
  caf::binary_deserializer source{nullptr, buf};
  CAF_REQUIRE(!source(part2, members2));
  CAF_CHECK_EQUAL(part2.epoch, "ab12cd34");
  CAF_CHECK_EQUAL(part2.live_after, 7u);
  CAF_CHECK(part2.recovered);
  CAF_CHECK_EQUAL(part2.events.size(), 1u);
  CAF_REQUIRE_EQUAL(members2.size(), 2u);
  CAF_CHECK_EQUAL(members2[1].address, "::1");
  CAF_CHECK_EQUAL(members2[0].port, 7400u);
}
