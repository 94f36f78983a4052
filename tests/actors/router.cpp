#define CAF_SUITE actors.router
#include <caf/test/dsl.hpp>

#include "tests/actors/fixture.hpp"

#include <set>
#include <string>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using herald::protocol::deliver_atom;
using herald::protocol::event_ptr;
using herald::protocol::join_atom;
using herald::protocol::leave_atom;
using herald::protocol::publish_atom;
using herald::protocol::stop_atom;
using herald::protocol::subscribe_atom;
using herald::protocol::unsubscribe_atom;

namespace {

struct router_fixture : fixture {
  router_actor r = spawn_router();

  void subscribe(const std::string& pattern, const connection_actor& who) {
    self->send(r, subscribe_atom::value, sub_request({pattern}), who);
    run();
  }

  void unsubscribe(const std::string& pattern, const connection_actor& who) {
    self->send(r, unsubscribe_atom::value, pattern, who);
    run();
  }

  // Keys of the topics that delivered to `log`, one per delivery.
  static std::multiset<uint64_t> keys(const probe_log& log) {
    std::multiset<uint64_t> out;
    for (auto& d : log.delivered)
      out.insert(d.second);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(router_tests, router_fixture)

CAF_TEST(a fresh router holds no topics and has routed nothing) {
  auto [topics, routed] = stats(r);
  CAF_CHECK_EQUAL(topics, 0u);
  CAF_CHECK_EQUAL(routed, 0u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
}

CAF_TEST(subscribe spawns one topic actor per pattern) {
  auto [p, log] = spawn_probe();
  self->send(r, subscribe_atom::value, sub_request({"a:b:c"}), p);
  expect((subscribe_atom, subscribe_request, connection_actor),
         from(self).to(r).with(_, _, _));
  auto t = topic_of(r, "a:b:c");
  CAF_REQUIRE(t != nullptr);
  expect((join_atom, connection_actor), from(r).to(t).with(_, p));
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  subscribe("a:*:c", p);
  subscribe("a:>", p);
  CAF_CHECK_EQUAL(topic_count(r), 3u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 3);
  CAF_CHECK(topic_of(r, "a:*:c") != t);
  CAF_CHECK(topic_of(r, "a:>") != t);
}

CAF_TEST(patterns sharing a prefix get topics of their own) {
  auto [p, log] = spawn_probe();
  subscribe("a:b:c", p);
  subscribe("a:b", p);
  subscribe("a:b:c:d", p);
  CAF_CHECK_EQUAL(topic_count(r), 3u);
  CAF_CHECK(topic_of(r, "a:b") != nullptr);
  CAF_CHECK(topic_of(r, "a:b") != topic_of(r, "a:b:c"));
  publish(r, {make_event("e1", "a:b")});
  run();
  CAF_REQUIRE_EQUAL(log->delivered.size(), 1u);
  CAF_CHECK_EQUAL(log->delivered[0].second, pattern_key("a:b"));
  unsubscribe("a:b:c", p);
  CAF_CHECK_EQUAL(topic_count(r), 2u);
  CAF_CHECK(topic_of(r, "a:b") != nullptr);
  CAF_CHECK(topic_of(r, "a:b:c:d") != nullptr);
}

CAF_TEST(a second subscriber to the same pattern reuses its topic actor) {
  auto [p1, log1] = spawn_probe();
  auto [p2, log2] = spawn_probe();
  subscribe("a:b:c", p1);
  auto t = topic_of(r, "a:b:c");
  CAF_REQUIRE(t != nullptr);
  self->send(r, subscribe_atom::value, sub_request({"a:b:c"}), p2);
  expect((subscribe_atom, subscribe_request, connection_actor),
         from(self).to(r).with(_, _, p2));
  // The join goes to the topic actor spawned for the first subscriber.
  expect((join_atom, connection_actor), from(r).to(t).with(_, p2));
  CAF_CHECK(topic_of(r, "a:b:c") == t);
  CAF_CHECK_EQUAL(router_st(r).index.find("a:b:c")->subscribers(), 2u);
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 1);
  publish(r, {make_event("e1", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 1u);
  CAF_CHECK_EQUAL(log2->delivered.size(), 1u);
}

CAF_TEST(publish reaches the matching topics only) {
  auto [exact, exact_log] = spawn_probe();
  auto [star, star_log] = spawn_probe();
  auto [tail, tail_log] = spawn_probe();
  auto [other, other_log] = spawn_probe();
  auto [elsewhere, elsewhere_log] = spawn_probe();
  subscribe("a:b:c", exact);
  subscribe("a:*:c", star);
  subscribe("a:>", tail);
  subscribe("a:b:d", other);
  subscribe("x:>", elsewhere);
  auto ev = make_event("e1", "a:b:c");
  publish(r, {ev});
  expect((publish_atom, pending_events), from(self).to(r).with(_, _));
  expect((deliver_atom, event_ptr), from(r).to(topic_of(r, "a:b:c")));
  expect((deliver_atom, event_ptr), from(r).to(topic_of(r, "a:*:c")));
  expect((deliver_atom, event_ptr), from(r).to(topic_of(r, "a:>")));
  disallow((deliver_atom, event_ptr), from(r).to(topic_of(r, "a:b:d")));
  disallow((deliver_atom, event_ptr), from(r).to(topic_of(r, "x:>")));
  run();
  CAF_REQUIRE_EQUAL(exact_log->delivered.size(), 1u);
  CAF_REQUIRE_EQUAL(star_log->delivered.size(), 1u);
  CAF_REQUIRE_EQUAL(tail_log->delivered.size(), 1u);
  CAF_CHECK_EQUAL(other_log->delivered.size(), 0u);
  CAF_CHECK_EQUAL(elsewhere_log->delivered.size(), 0u);
  // One stamped event, shared by every receiver, never copied.
  CAF_CHECK(exact_log->delivered[0].first.get() == ev.get());
  CAF_CHECK(star_log->delivered[0].first.get() == ev.get());
  CAF_CHECK(tail_log->delivered[0].first.get() == ev.get());
  CAF_CHECK_EQUAL(exact_log->delivered[0].second, pattern_key("a:b:c"));
  CAF_CHECK_EQUAL(star_log->delivered[0].second, pattern_key("a:*:c"));
  CAF_CHECK_EQUAL(tail_log->delivered[0].second, pattern_key("a:>"));
  // `*` is exactly one segment, `>` one or more.
  publish(r, {make_event("e2", "a:q:c"), make_event("e3", "a:b"),
              make_event("e4", "a"), make_event("e5", "a:b:c:d"),
              make_event("e6", "x:y:z")});
  run();
  CAF_CHECK_EQUAL(exact_log->delivered.size(), 1u);
  CAF_CHECK_EQUAL(star_log->delivered.size(), 2u);      // e1, e2
  CAF_CHECK_EQUAL(tail_log->delivered.size(), 4u);      // e1, e2, e3, e5
  CAF_CHECK_EQUAL(other_log->delivered.size(), 0u);     //
  CAF_CHECK_EQUAL(elsewhere_log->delivered.size(), 1u); // e6
  CAF_CHECK_EQUAL(routed_count(r), 6u);
}

CAF_TEST(one subscriber holding several matching patterns gets a copy each) {
  // The router and topics deliver per pattern; at-most-once per connection
  // is the connection's job (see actors.connection).
  auto [p, log] = spawn_probe();
  subscribe("a:b:c", p);
  subscribe("a:*:c", p);
  subscribe("a:>", p);
  publish(r, {make_event("e1", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(keys(*log), (std::multiset<uint64_t>{pattern_key("a:b:c"),
                                                       pattern_key("a:*:c"),
                                                       pattern_key("a:>")}));
}

CAF_TEST(dedup by event id drops a repeated publish) {
  auto [p, log] = spawn_probe();
  subscribe("a:b:c", p);
  publish(r, {make_event("e1", "a:b:c")});
  run();
  // A retry: another event object with the same id.
  publish(r, {make_event("e1", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(log->delivered.size(), 1u);
  CAF_CHECK_EQUAL(ctx->metrics.duplicates.load(), 1u);
  CAF_CHECK_EQUAL(routed_count(r), 1u);
  // Within one batch too.
  publish(r, {make_event("e2", "a:b:c"), make_event("e2", "a:b:c"),
              make_event("e3", "a:b:c")});
  run();
  CAF_REQUIRE_EQUAL(log->delivered.size(), 3u);
  CAF_CHECK_EQUAL(log->delivered[1].first->id, "e2");
  CAF_CHECK_EQUAL(log->delivered[2].first->id, "e3");
  CAF_CHECK_EQUAL(ctx->metrics.duplicates.load(), 2u);
  CAF_CHECK_EQUAL(routed_count(r), 3u);
  // A duplicate does not consume a sequence number.
  CAF_CHECK_EQUAL(log->delivered[2].first->seq, 3u);
}

CAF_TEST(unsubscribe of the last subscriber stops the topic) {
  auto [p1, log1] = spawn_probe();
  auto [p2, log2] = spawn_probe();
  subscribe("a:b:c", p1);
  subscribe("a:b:c", p2);
  auto t = topic_of(r, "a:b:c");
  self->monitor(t);
  self->send(r, unsubscribe_atom::value, std::string{"a:b:c"}, p1);
  expect((unsubscribe_atom, std::string, connection_actor),
         from(self).to(r).with(_, std::string{"a:b:c"}, p1));
  expect((leave_atom, connection_actor), from(r).to(t).with(_, p1));
  disallow((stop_atom), from(r).to(t));
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  publish(r, {make_event("e1", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 0u);
  CAF_CHECK_EQUAL(log2->delivered.size(), 1u);
  self->send(r, unsubscribe_atom::value, std::string{"a:b:c"}, p2);
  expect((unsubscribe_atom, std::string, connection_actor),
         from(self).to(r).with(_, std::string{"a:b:c"}, p2));
  expect((leave_atom, connection_actor), from(r).to(t).with(_, p2));
  expect((stop_atom), from(r).to(t));
  run();
  caf::error reason;
  CAF_CHECK(terminated(t, &reason));
  CAF_CHECK(!reason); // a normal exit
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
  CAF_CHECK(topic_of(r, "a:b:c") == nullptr);
  // The topic quit normally: its link did not take the router down, and a
  // new subscription gets a fresh topic actor.
  subscribe("a:b:c", p1);
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  CAF_CHECK(topic_of(r, "a:b:c") != t);
  publish(r, {make_event("e2", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(log1->delivered.size(), 1u);
  CAF_CHECK_EQUAL(log2->delivered.size(), 1u);
}

CAF_TEST(unsubscribe of an unknown pattern is harmless) {
  auto [p, log] = spawn_probe();
  unsubscribe("a:b:c", p);
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  subscribe("a:b:c", p);
  unsubscribe("a:*:c", p);
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  publish(r, {make_event("e1", "a:b:c")});
  run();
  CAF_CHECK_EQUAL(log->delivered.size(), 1u);
}

CAF_TEST(pos and seq increase per event) {
  auto [p, log] = spawn_probe();
  subscribe("a:>", p);
  publish(r, {make_event("e1", "a:b"), make_event("e2", "a:c")});
  publish(r, {make_event("e3", "a:d")});
  run();
  CAF_REQUIRE_EQUAL(log->delivered.size(), 3u);
  auto& epoch = router_st(r).epoch;
  CAF_CHECK_EQUAL(epoch.size(), 8u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto& ev = *log->delivered[i].first;
    CAF_CHECK_EQUAL(ev.seq, i + 1);
    CAF_CHECK_EQUAL(ev.pos, epoch + "-" + std::to_string(i + 1));
    // The /ws frame is encoded once, at stamping (whole wire frame), and
    // carries the pos.
    CAF_REQUIRE(ev.ws_frame != nullptr);
    auto text = frame_text(*ev.ws_frame);
    CAF_CHECK_EQUAL(json_string(text, "pos"), ev.pos);
    CAF_CHECK_EQUAL(json_string(text, "id"), ev.id);
    CAF_CHECK_EQUAL(json_string(text, "topic"), ev.topic);
    CAF_CHECK_EQUAL(json_string(text, "timestamp"),
                    "2024-01-15T10:30:05.000000Z");
  }
}

CAF_TEST(a restarted router uses a new epoch in its positions) {
  auto other = spawn_router();
  CAF_CHECK_NOT_EQUAL(router_st(r).epoch, router_st(other).epoch);
}

CAF_TEST(an event without a topic is stamped and counted but reaches no topic) {
  auto [p, log] = spawn_probe();
  subscribe("a:>", p);
  auto ev = make_event("e1", "");
  publish(r, {ev});
  run();
  CAF_CHECK_EQUAL(log->delivered.size(), 0u);
  CAF_CHECK_EQUAL(routed_count(r), 1u);
  CAF_CHECK_EQUAL(ev->seq, 1u);
  CAF_CHECK(ev->ws_frame != nullptr);
}

// BUG (actors/router.cpp, subscribe handler): a pattern that does not parse
// is not inserted into the index, so the following find() returns null and
// `entry->holders` dereferences it: the router crashes (and the node
// with it, through the supervisor). Connections validate patterns first, so
// only another caller of the typed handle can trigger it. Enable once the
// router ignores (or reports) such a pattern.
CAF_TEST(a subscribe with an invalid pattern is ignored) {
  auto [p, log] = spawn_probe();
  subscribe("a:>:c", p); // `>` before the end
  subscribe("", p);
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
