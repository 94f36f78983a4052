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

CAF_TEST(the sampler gives each actor a rate and a last activity) {
  actor_registry reg;
  auto* a = reg.enroll(1, actor_kind::connection, "a", 0);
  reg.enroll(2, actor_kind::topic, "x:y:*", 0);
  auto start = reg.list()[0].started_ms;
  actor_counters::bump(a->handled, 50);
  reg.sample(start + 500);
  auto rows = reg.list();
  CAF_CHECK_EQUAL(rows[0].rate, 100.0); // 50 messages in half a second
  CAF_CHECK_EQUAL(rows[0].last_active_ms, start + 500);
  CAF_CHECK_EQUAL(rows[1].rate, 0.0);
  CAF_CHECK_EQUAL(rows[1].last_active_ms, 0);
  reg.sample(start + 1500); // nothing handled since
  rows = reg.list();
  CAF_CHECK_EQUAL(rows[0].rate, 0.0);
  CAF_CHECK_EQUAL(rows[0].last_active_ms, start + 500);
}

CAF_TEST(connections show their identity and subscriptions and can be stopped) {
  actor_registry reg;
  reg.enroll(1, actor_kind::connection, "u1", 0);
  reg.enroll(2, actor_kind::connection, "u2", 0);
  reg.enroll(3, actor_kind::router, "router", 0);
  auto who = std::make_shared<herald::protocol::identity>();
  who->sub = "u1";
  reg.set_identity(1, who);
  reg.set_subscriptions(1, {"a:b:*", "c:d:e"});
  reg.set_subscriptions(2, {"c:d:e"});
  auto one = reg.find(1);
  CAF_REQUIRE(one.has_value());
  CAF_CHECK_EQUAL(one->who->sub, "u1");
  CAF_CHECK_EQUAL(one->subscriptions.size(), 2u);
  CAF_CHECK_EQUAL(one->gauge, 2u);
  CAF_CHECK(reg.list()[0].subscriptions.empty()); // listings stay light
  CAF_CHECK_EQUAL(reg.holding("c:d:e").size(), 2u);
  CAF_CHECK_EQUAL(reg.holding("a:b:*").size(), 1u);
  CAF_CHECK(reg.holding("a:b").empty());
  std::string said;
  reg.set_stopper(1, [&](const std::string& why) { said = why; });
  using result = actor_registry::stop_result;
  CAF_CHECK(reg.stop(1, "bye") == result::stopped);
  CAF_CHECK_EQUAL(said, "bye");
  CAF_CHECK(reg.stop(3, "bye") == result::refused); // no stopper: the router
  CAF_CHECK(reg.stop(9, "bye") == result::not_found);
  auto kept = reg.list([](actor_kind k, const std::string&) {
    return k == actor_kind::connection;
  });
  CAF_CHECK_EQUAL(kept.size(), 2u);
}

CAF_TEST(the children of an actor are found by their parent) {
  actor_registry reg;
  reg.enroll(1, actor_kind::supervisor, "root", 0);
  reg.enroll(2, actor_kind::router, "router", 1);
  reg.enroll(3, actor_kind::topic, "a:b:*", 2);
  reg.enroll(4, actor_kind::supervisor, "health", 1);
  auto kids = reg.children_of(1);
  CAF_REQUIRE_EQUAL(kids.size(), 2u);
  CAF_CHECK_EQUAL(kids[0].name, "router");
  CAF_CHECK_EQUAL(kids[1].name, "health");
  CAF_CHECK(reg.children_of(3).empty());
}
