#define CAF_SUITE actors.registry
#include <caf/test/unit_test.hpp>

#include "actors/registry.hpp"

using namespace herald::actors;

CAF_TEST(enrolled actors are listed by id with their counters) {
  actor_registry reg;
  auto* a = reg.enroll(7, actor_kind::connection, "alice", 0);
  auto* b = reg.enroll(3, actor_kind::topic, "a:b:*", 1);
  actor_counters::bump(a->handled, 5);
  actor_counters::bump(a->delivered, 4);
  actor_counters::bump(b->handled);
  auto rows = reg.list();
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[0].id, 3u);
  CAF_CHECK_EQUAL(rows[0].name, "a:b:*");
  CAF_CHECK_EQUAL(rows[0].parent, 1u);
  CAF_CHECK_EQUAL(rows[1].handled, 5u);
  CAF_CHECK_EQUAL(rows[1].delivered, 4u);
  CAF_CHECK(rows[1].started_ms > 0);
  CAF_CHECK_EQUAL(reg.count(actor_kind::connection), 1u);
}

CAF_TEST(connection totals survive the connections that made them) {
  actor_registry reg;
  auto* a = reg.enroll(1, actor_kind::connection, "a", 0);
  auto* b = reg.enroll(2, actor_kind::connection, "b", 0);
  auto* t = reg.enroll(3, actor_kind::topic, "x:y:z", 0);
  actor_counters::bump(a->delivered, 10);
  actor_counters::bump(a->filtered, 2);
  actor_counters::bump(b->delivered, 5);
  actor_counters::bump(b->dropped, 1);
  actor_counters::bump(t->delivered, 100); // fan-out, not deliveries
  reg.retire(1);
  reg.retire(1); // twice is harmless
  auto sum = reg.connection_totals();
  CAF_CHECK_EQUAL(sum.delivered, 15u);
  CAF_CHECK_EQUAL(sum.filtered, 2u);
  CAF_CHECK_EQUAL(sum.dropped, 1u);
  reg.retire(2);
  reg.retire(3);
  CAF_CHECK(reg.list().empty());
  CAF_CHECK_EQUAL(reg.connection_totals().delivered, 15u);
}
