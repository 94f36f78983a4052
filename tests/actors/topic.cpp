#define CAF_SUITE actors.topic
#include <caf/test/dsl.hpp>

#include "tests/actors/fixture.hpp"

#include <algorithm>
#include <string>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using herald::protocol::deliver_atom;
using herald::protocol::event_ptr;
using herald::protocol::join_atom;
using herald::protocol::leave_atom;
using herald::protocol::stop_atom;

namespace {

struct topic_fixture : fixture {
  const std::string pattern = "customer_id:c1:call:*";
  const uint64_t key = pattern_key(pattern);
  topic_actor t;

  topic_fixture() {
    t = sys.spawn(topic, pattern, ctx, uint64_t{0});
    run();
  }

  topic_state& state() {
    using impl =
        std::remove_pointer_t<topic_actor::stateful_pointer<topic_state>>;
    return deref<impl>(t).state;
  }

  void join(const connection_actor& who) {
    self->send(t, join_atom::value, who);
    expect((join_atom, connection_actor), from(self).to(t).with(_, who));
  }

  void leave(const connection_actor& who) {
    self->send(t, leave_atom::value, who);
    expect((leave_atom, connection_actor), from(self).to(t).with(_, who));
  }

  event_ptr deliver(const std::string& id) {
    event_ptr ev = make_event(id, "customer_id:c1:call:x1");
    self->send(t, deliver_atom::value, ev);
    expect((deliver_atom, event_ptr), from(self).to(t).with(_, _));
    return ev;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(topic_tests, topic_fixture)

CAF_TEST(a topic knows its pattern and key and counts itself) {
  CAF_CHECK_EQUAL(state().pattern, pattern);
  CAF_CHECK_EQUAL(state().key, key);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 1);
  CAF_CHECK(state().subscribers.empty());
}

CAF_TEST(deliver with no subscribers sends nothing) {
  deliver("e1");
  CAF_CHECK_EQUAL(state().counters->delivered.load(), 0u);
  CAF_CHECK_EQUAL(run(), 0u);
}

CAF_TEST(deliver fans out to every joined connection) {
  auto [p1, log1] = spawn_probe();
  auto [p2, log2] = spawn_probe();
  auto [p3, log3] = spawn_probe();
  join(p1);
  join(p2);
  join(p3);
  CAF_CHECK_EQUAL(state().subscribers.size(), 3u);
  auto ev = deliver("e1");
  // One message per subscriber, carrying the topic's key.
  expect((deliver_atom, event_ptr, uint64_t), from(t).to(p1).with(_, _, key));
  expect((deliver_atom, event_ptr, uint64_t), from(t).to(p2).with(_, _, key));
  expect((deliver_atom, event_ptr, uint64_t), from(t).to(p3).with(_, _, key));
  CAF_CHECK_EQUAL(run(), 0u);
  for (auto* log : {log1.get(), log2.get(), log3.get()}) {
    CAF_REQUIRE_EQUAL(log->delivered.size(), 1u);
    // The same event object: shared, not copied per subscriber.
    CAF_CHECK(log->delivered[0].first == ev);
  }
  CAF_CHECK_EQUAL(state().counters->delivered.load(), 3u);
}

CAF_TEST(leave removes one subscriber and keeps the others) {
  auto [p1, log1] = spawn_probe();
  auto [p2, log2] = spawn_probe();
  auto [p3, log3] = spawn_probe();
  join(p1);
  join(p2);
  join(p3);
  leave(p2);
  CAF_CHECK_EQUAL(state().subscribers.size(), 2u);
  deliver("e1");
  disallow((deliver_atom, event_ptr, uint64_t), from(t).to(p2));
  expect((deliver_atom, event_ptr, uint64_t), from(t).to(p1).with(_, _, key));
  expect((deliver_atom, event_ptr, uint64_t), from(t).to(p3).with(_, _, key));
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 1u);
  CAF_CHECK_EQUAL(log2->delivered.size(), 0u);
  CAF_CHECK_EQUAL(log3->delivered.size(), 1u);
  // The last one and a middle one, in any order.
  leave(p3);
  leave(p1);
  CAF_CHECK(state().subscribers.empty());
  deliver("e2");
  CAF_CHECK_EQUAL(run(), 0u);
  CAF_CHECK_EQUAL(log1->delivered.size(), 1u);
  CAF_CHECK_EQUAL(log3->delivered.size(), 1u);
}

CAF_TEST(leave of an unknown subscriber is harmless) {
  auto [p1, log1] = spawn_probe();
  auto [stranger, stranger_log] = spawn_probe();
  leave(stranger); // nobody joined yet
  join(p1);
  leave(stranger);
  CAF_CHECK_EQUAL(state().subscribers.size(), 1u);
  deliver("e1");
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 1u);
  CAF_CHECK_EQUAL(stranger_log->delivered.size(), 0u);
  // Leaving twice is harmless too.
  leave(p1);
  leave(p1);
  CAF_CHECK(state().subscribers.empty());
}

CAF_TEST(events are fanned out in the order they arrive) {
  auto [p1, log1] = spawn_probe();
  join(p1);
  for (auto id : {"e1", "e2", "e3"})
    self->send(t, deliver_atom::value, event_ptr{make_event(id, "x:y:z")});
  run();
  CAF_REQUIRE_EQUAL(log1->delivered.size(), 3u);
  CAF_CHECK_EQUAL(log1->delivered[0].first->id, "e1");
  CAF_CHECK_EQUAL(log1->delivered[1].first->id, "e2");
  CAF_CHECK_EQUAL(log1->delivered[2].first->id, "e3");
}

CAF_TEST(stop quits normally and uncounts the topic) {
  auto [p1, log1] = spawn_probe();
  join(p1);
  self->monitor(t);
  self->send(t, stop_atom::value);
  expect((stop_atom), from(self).to(t));
  caf::error reason;
  CAF_CHECK(terminated(t, &reason));
  CAF_CHECK(!reason);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
  // A dead topic delivers nothing.
  self->send(t, deliver_atom::value, event_ptr{make_event("e1", "x:y:z")});
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(topic_registry_tests, topic_fixture)

CAF_TEST(a topic is listed in the registry until it stops) {
  auto rows = ctx->registry.list();
  auto is_ours = [&](const actor_row& r) { return r.id == t.id(); };
  auto i = std::find_if(rows.begin(), rows.end(), is_ours);
  CAF_REQUIRE(i != rows.end());
  CAF_CHECK_EQUAL(std::string(to_string(i->kind)), "topic");
  CAF_CHECK_EQUAL(i->name, pattern);
  auto [p1, log1] = spawn_probe();
  join(p1);
  deliver("e1");
  run();
  rows = ctx->registry.list();
  i = std::find_if(rows.begin(), rows.end(), is_ours);
  CAF_REQUIRE(i != rows.end());
  CAF_CHECK_EQUAL(i->handled, 2u); // the join and the delivery
  CAF_CHECK_EQUAL(i->delivered, 1u);
  self->send(t, stop_atom::value);
  run();
  rows = ctx->registry.list();
  CAF_CHECK(std::none_of(rows.begin(), rows.end(), is_ours));
}

CAF_TEST(without actor counters a topic has no block and no entry) {
  auto quiet = std::make_shared<node_context>();
  quiet->settings.actor_counters = false;
  auto other = sys.spawn(topic, std::string{"a:b:c"}, quiet, uint64_t{0});
  run();
  CAF_CHECK(quiet->registry.list().empty());
  self->send(other, stop_atom::value);
  run();
}

CAF_TEST_FIXTURE_SCOPE_END()
