#define CAF_SUITE actors.connection
#include <caf/test/dsl.hpp>

#include "tests/actors/fixture.hpp"

#include <string>
#include <vector>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using herald::protocol::audience;
using herald::protocol::binary_atom;
using herald::protocol::closed_atom;
using herald::protocol::deliver_atom;
using herald::protocol::event_ptr;
using herald::protocol::frame_atom;
using herald::protocol::identity;
using herald::protocol::publish_atom;
using herald::protocol::unsubscribe_atom;

namespace {

// Alice may read customer c1 (admin) and agent a1.
identity alice() {
  return make_identity("u1", "c1", {"admin"}, "t1", "o1", {"a1"});
}

// A real router, a recording sink per connection. Limits are read from
// ctx: change them before connect().
struct connection_fixture : fixture {
  router_actor r = spawn_router();
  std::shared_ptr<recording_sink> sink = std::make_shared<recording_sink>();

  // Connections, topics and the router hold each other's handles (a
  // topic its subscribers, a connection the router, the router its
  // topics): close what is still open and stop the router, as the node
  // does, or the actor system waits for them forever.
  ~connection_fixture() override {
    for (auto& c : connections_)
      self->send(c, closed_atom::value);
    run();
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    run();
  }

  connection_actor connect(identity who = alice(),
                           std::shared_ptr<recording_sink> to = nullptr) {
    auto c = spawn_connection(sys, ctx, std::move(who), to ? to : sink, r);
    run();
    connections_.push_back(c);
    return c;
  }

  // Sends one client text frame and lets every actor run.
  void frame(const connection_actor& c, std::string text) {
    self->send(c, frame_atom::value, std::move(text));
    run();
  }

  // Subscribes and forgets the answer; the ack is checked elsewhere.
  void subscribe(const connection_actor& c, const strings& topics,
                 std::shared_ptr<recording_sink> from = nullptr) {
    std::string text = R"({"type":"subscribe","topics":[)";
    for (std::size_t i = 0; i < topics.size(); ++i)
      text += (i > 0 ? ",\"" : "\"") + topics[i] + "\"";
    text += "]}";
    frame(c, text);
    auto answers = (from ? from : sink)->take();
    CAF_REQUIRE_EQUAL(answers.size(), 1u);
    CAF_REQUIRE_EQUAL(json_string(answers[0], "type"), "ack");
  }

  // Publishes one event through the router and lets it travel.
  std::shared_ptr<protocol::event> publish_one(const std::string& id,
                                               const std::string& topic,
                                               audience aud = {}) {
    auto ev = make_event(id, topic, std::move(aud));
    publish(r, {ev});
    run();
    return ev;
  }

private:
  std::vector<connection_actor> connections_;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(connection_tests, connection_fixture)

CAF_TEST(subscribe answers an ack echoing the id) {
  auto c = connect();
  CAF_CHECK_EQUAL(ctx->metrics.connections.load(), 1);
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:x1"],)"
           R"("id":"s1"})");
  CAF_CHECK_EQUAL(sink->take(),
                  strings{R"({"type":"ack","action":"subscribe","topics":)"
                          R"(["customer_id:c1:call:x1"],"status":"success",)"
                          R"("id":"s1"})"});
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 1);
  // Without an id the ack has none; a pattern already held is acknowledged
  // again but not subscribed twice.
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:x1"]})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(json_string(answers[0], "type"), "ack");
  CAF_CHECK(!json_has(answers[0], "id"));
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 1);
  CAF_CHECK_EQUAL(
      router_st(r).index.find("customer_id:c1:call:x1")->subscribers(), 1u);
}

CAF_TEST(mixed topics give one ack and one error per code) {
  auto c = connect();
  frame(c, R"({"type":"subscribe","id":"m1","topics":[)"
           R"("customer_id:c1:call:x1","customer_id:*:call","nope",)"
           R"("customer_id:c2:call:x1","customer_id:c1:>",)"
           R"("agent_id:a2:call","customer_id:c1:call:x2"]})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 3u);
  auto& ack = answers[0];
  CAF_CHECK_EQUAL(json_string(ack, "type"), "ack");
  CAF_CHECK_EQUAL(json_string(ack, "action"), "subscribe");
  CAF_CHECK_EQUAL(json_string(ack, "id"), "m1");
  CAF_CHECK_EQUAL(json_topics(ack), (strings{"customer_id:c1:call:x1",
                                             "customer_id:c1:call:x2"}));
  // Wildcards are refused in the scope id and the resource type, so
  // `customer_id:c1:>` is INVALID_TOPIC (use `customer_id:c1:call:>`).
  auto& invalid = answers[1];
  CAF_CHECK_EQUAL(json_string(invalid, "type"), "error");
  CAF_CHECK_EQUAL(json_string(invalid, "code"), "INVALID_TOPIC");
  CAF_CHECK_EQUAL(json_string(invalid, "action"), "subscribe");
  CAF_CHECK_EQUAL(json_string(invalid, "id"), "m1");
  CAF_CHECK_EQUAL(json_topics(invalid),
                  (strings{"customer_id:*:call", "nope", "customer_id:c1:>"}));
  auto& denied = answers[2];
  CAF_CHECK_EQUAL(json_string(denied, "type"), "error");
  CAF_CHECK_EQUAL(json_string(denied, "code"), "PERMISSION_DENIED");
  CAF_CHECK_EQUAL(json_string(denied, "id"), "m1");
  CAF_CHECK_EQUAL(json_topics(denied),
                  (strings{"customer_id:c2:call:x1", "agent_id:a2:call"}));
  CAF_CHECK(!json_string(denied, "message").empty());
  // Only the accepted topics reached the router.
  CAF_CHECK_EQUAL(topic_count(r), 2u);
  CAF_CHECK_EQUAL(ctx->metrics.frame_errors.load(), 1u);
}

CAF_TEST(a frame with nothing accepted answers errors only) {
  auto c = connect();
  frame(c,
        R"({"type":"subscribe","id":"d1","topics":["customer_id:c2:call"]})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(json_string(answers[0], "code"), "PERMISSION_DENIED");
  CAF_CHECK_EQUAL(topic_count(r), 0u);
}

CAF_TEST(subscriptions past the limit are LIMIT_EXCEEDED) {
  ctx->settings.limits.max_subscriptions = 2;
  auto c = connect();
  frame(c,
        R"({"type":"subscribe","id":"l1","topics":["customer_id:c1:call:x1",)"
        R"("customer_id:c1:call:x2","customer_id:c1:call:x3"]})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 2u);
  CAF_CHECK_EQUAL(json_topics(answers[0]), (strings{"customer_id:c1:call:x1",
                                                    "customer_id:c1:call:x2"}));
  CAF_CHECK_EQUAL(json_string(answers[1], "code"), "LIMIT_EXCEEDED");
  CAF_CHECK_EQUAL(json_string(answers[1], "id"), "l1");
  CAF_CHECK_EQUAL(json_topics(answers[1]), strings{"customer_id:c1:call:x3"});
  CAF_CHECK_EQUAL(topic_count(r), 2u);
  // A pattern already held does not count against the limit.
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:x1"]})");
  answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(json_string(answers[0], "type"), "ack");
  // Unsubscribing makes room again.
  frame(c, R"({"type":"unsubscribe","topics":["customer_id:c1:call:x2"]})");
  sink->take();
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:x3"]})");
  answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(json_string(answers[0], "type"), "ack");
  CAF_CHECK_EQUAL(topic_count(r), 2u);
}

CAF_TEST(unsubscribe answers an ack and releases the topic) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:x1"});
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  frame(c, R"({"type":"unsubscribe","topics":["customer_id:c1:call:x1"],)"
           R"("id":"u1"})");
  CAF_CHECK_EQUAL(sink->take(),
                  strings{R"({"type":"ack","action":"unsubscribe","topics":)"
                          R"(["customer_id:c1:call:x1"],"status":"success",)"
                          R"("id":"u1"})"});
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 0);
  publish_one("e1", "customer_id:c1:call:x1");
  CAF_CHECK(sink->take().empty());
  // Idempotent for a pattern not held; an invalid one is INVALID_TOPIC.
  frame(c, R"({"type":"unsubscribe","id":"u2","topics":[)"
           R"("customer_id:c1:call:zz","a:>:b"]})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 2u);
  CAF_CHECK_EQUAL(json_string(answers[0], "type"), "ack");
  CAF_CHECK_EQUAL(json_topics(answers[0]), strings{"customer_id:c1:call:zz"});
  CAF_CHECK_EQUAL(json_string(answers[1], "code"), "INVALID_TOPIC");
  CAF_CHECK_EQUAL(json_string(answers[1], "action"), "unsubscribe");
  CAF_CHECK_EQUAL(json_topics(answers[1]), strings{"a:>:b"});
}

CAF_TEST(ping answers pong echoing the id) {
  auto c = connect();
  frame(c, R"({"type":"ping"})");
  frame(c, R"({"type":"ping","id":"p1"})");
  CAF_CHECK_EQUAL(sink->take(), (strings{R"({"type":"pong"})",
                                         R"({"type":"pong","id":"p1"})"}));
  CAF_CHECK_EQUAL(ctx->metrics.frame_errors.load(), 0u);
}

CAF_TEST(garbage frames answer INVALID_MESSAGE) {
  auto c = connect();
  frame(c, "not json");
  frame(c, "[1,2]");
  frame(c, R"({"type":"dance","id":"g1"})");
  frame(c, R"({"type":"subscribe","topics":"customer_id:c1:call:x1"})");
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 4u);
  for (auto& answer : answers) {
    CAF_CHECK_EQUAL(json_string(answer, "type"), "error");
    CAF_CHECK_EQUAL(json_string(answer, "code"), "INVALID_MESSAGE");
    CAF_CHECK(!json_string(answer, "message").empty());
  }
  CAF_CHECK(!json_has(answers[0], "action"));
  CAF_CHECK_EQUAL(json_string(answers[2], "action"), "dance");
  CAF_CHECK_EQUAL(json_string(answers[2], "id"), "g1");
  CAF_CHECK_EQUAL(json_string(answers[3], "action"), "subscribe");
  CAF_CHECK_EQUAL(ctx->metrics.frame_errors.load(), 4u);
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  CAF_CHECK(sink->closes().empty());
}

CAF_TEST(binary frames answer INVALID_MESSAGE) {
  auto c = connect();
  self->send(c, binary_atom::value);
  expect((binary_atom), from(self).to(c));
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(json_string(answers[0], "type"), "error");
  CAF_CHECK_EQUAL(json_string(answers[0], "code"), "INVALID_MESSAGE");
  CAF_CHECK(!json_has(answers[0], "action"));
  CAF_CHECK_EQUAL(ctx->metrics.frame_errors.load(), 1u);
  CAF_CHECK(sink->closes().empty());
}

CAF_TEST(frames past the rate budget are RATE_LIMITED then closed with 1008) {
  // Refill so slow (one token per 1000 s) that no real clock can matter.
  ctx->settings.limits.rate_per_second = 0.001;
  ctx->settings.limits.rate_burst = 2;
  ctx->settings.limits.rate_strikes_to_close = 3;
  auto c = connect();
  frame(c, R"({"type":"ping","id":"p1"})");
  frame(c, R"({"type":"ping","id":"p2"})");
  CAF_CHECK_EQUAL(sink->take(), (strings{R"({"type":"pong","id":"p1"})",
                                         R"({"type":"pong","id":"p2"})"}));
  // Strikes 1 to 3 are answered, echoing action and id when there are some.
  frame(c, R"({"type":"ping","id":"p3"})");
  frame(
      c,
      R"({"type":"subscribe","id":"s4","topics":["customer_id:c1:call:x1"]})");
  self->send(c, binary_atom::value);
  run();
  auto answers = sink->take();
  CAF_REQUIRE_EQUAL(answers.size(), 3u);
  for (auto& answer : answers) {
    CAF_CHECK_EQUAL(json_string(answer, "type"), "error");
    CAF_CHECK_EQUAL(json_string(answer, "code"), "RATE_LIMITED");
  }
  CAF_CHECK_EQUAL(json_string(answers[0], "action"), "ping");
  CAF_CHECK_EQUAL(json_string(answers[0], "id"), "p3");
  CAF_CHECK_EQUAL(json_string(answers[1], "action"), "subscribe");
  CAF_CHECK_EQUAL(json_string(answers[1], "id"), "s4");
  CAF_CHECK(!json_has(answers[2], "action"));
  CAF_CHECK(sink->closes().empty());
  // A refused subscribe did nothing.
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  // Strike 4 closes the connection with 1008, without an answer.
  frame(c, R"({"type":"ping","id":"p6"})");
  CAF_CHECK(sink->take().empty());
  auto closes = sink->closes();
  CAF_REQUIRE_EQUAL(closes.size(), 1u);
  CAF_CHECK_EQUAL(closes[0].first, 1008u);
  CAF_CHECK_EQUAL(ctx->metrics.rate_limited.load(), 4u);
  CAF_CHECK_EQUAL(ctx->metrics.rate_limit_closes.load(), 1u);
  // Once closing, frames are ignored: no answer, no second close.
  frame(c, R"({"type":"ping","id":"p7"})");
  self->send(c, binary_atom::value);
  run();
  CAF_CHECK_EQUAL(sink->closes().size(), 1u);
  CAF_CHECK_EQUAL(sink->refused(), 0u);
  CAF_CHECK_EQUAL(ctx->metrics.rate_limited.load(), 4u);
}

CAF_TEST(an event reaches the sink once despite overlapping patterns) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:*", "customer_id:c1:call:x1",
                "customer_id:c1:call:>"});
  CAF_CHECK_EQUAL(topic_count(r), 3u);
  auto ev = publish_one("e1", "customer_id:c1:call:x1");
  auto frames = sink->frames();
  CAF_REQUIRE_EQUAL(frames.size(), 1u);
  // The router's frame itself, not a copy.
  CAF_CHECK(frames[0] == ev->ws_frame);
  CAF_CHECK_EQUAL(json_string(frame_text(*frames[0]), "id"), "e1");
  sink->take();
  publish_one("e2", "customer_id:c1:call:x2");      // `*` and `>`
  publish_one("e3", "customer_id:c1:call:x1:leg2"); // `>` only
  publish_one("e4", "customer_id:c2:call:x1");      // none
  publish_one("e5", "customer_id:c1:message:x1");   // none
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 2u);
  CAF_CHECK_EQUAL(json_string(texts[0], "id"), "e2");
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e3");
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).deliveries, 3u);
}

CAF_TEST(each connection on a topic gets its own copy) {
  auto bob_sink = std::make_shared<recording_sink>();
  auto c1 = connect();
  auto c2 = connect(make_identity("u2", "c1", {"manager"}), bob_sink);
  subscribe(c1, {"customer_id:c1:call:x1"});
  subscribe(c2, {"customer_id:c1:call:*"}, bob_sink);
  subscribe(c2, {"customer_id:c1:call:x1"}, bob_sink);
  auto ev = publish_one("e1", "customer_id:c1:call:x1");
  CAF_CHECK_EQUAL(sink->frames(), std::vector<frame_ptr>{ev->ws_frame});
  CAF_CHECK_EQUAL(bob_sink->frames(), std::vector<frame_ptr>{ev->ws_frame});
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).deliveries, 2u);
}

CAF_TEST(the audience filters deliveries) {
  auto c = connect(); // u1, admin, tenant t1, org o1
  subscribe(c, {"customer_id:c1:call:>"});
  audience other_tenant;
  other_tenant.tenant_id = "t2";
  audience other_org;
  other_org.org_ids = {"o2", "o3"};
  audience other_user;
  other_user.user_ids = {"u2"};
  audience other_role;
  other_role.role_ids = {"viewer"};
  audience all_match;
  all_match.tenant_id = "t1";
  all_match.org_ids = {"o9", "o1"};
  all_match.user_ids = {"u1", "u2"};
  all_match.role_ids = {"viewer", "admin"};
  publish_one("e1", "customer_id:c1:call:x1", other_tenant);
  publish_one("e2", "customer_id:c1:call:x1", other_org);
  publish_one("e3", "customer_id:c1:call:x1", other_user);
  publish_one("e4", "customer_id:c1:call:x1", other_role);
  CAF_CHECK(sink->take().empty());
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).audience_filtered, 4u);
  publish_one("e5", "customer_id:c1:call:x1", all_match);
  publish_one("e6", "customer_id:c1:call:x1");
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 2u);
  CAF_CHECK_EQUAL(json_string(texts[0], "id"), "e5");
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e6");
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).audience_filtered, 4u);
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).deliveries, 2u);
}

CAF_TEST(a frame the sink refuses is counted as a drop) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:x1"});
  sink->refuse(true);
  publish_one("e1", "customer_id:c1:call:x1");
  CAF_CHECK_EQUAL(sink->refused(), 1u);
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).drops, 1u);
  CAF_CHECK_EQUAL(delivery_totals_of(ctx).deliveries, 0u);
}

CAF_TEST(closed quits and releases every subscription) {
  auto bob_sink = std::make_shared<recording_sink>();
  auto c = connect();
  auto bob = connect(make_identity("u2", "c1", {"manager"}), bob_sink);
  subscribe(c, {"customer_id:c1:call:x1", "customer_id:c1:call:*",
                "agent_id:a1:call"});
  subscribe(bob, {"customer_id:c1:call:x1"}, bob_sink);
  CAF_CHECK_EQUAL(topic_count(r), 3u);
  CAF_CHECK_EQUAL(ctx->metrics.connections.load(), 2);
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 4);
  self->monitor(c);
  self->send(c, closed_atom::value);
  expect((closed_atom), from(self).to(c));
  // One unsubscribe per pattern it held.
  expect((unsubscribe_atom, std::string, connection_actor),
         from(c).to(r).with(_, std::string{"customer_id:c1:call:x1"}, c));
  expect((unsubscribe_atom, std::string, connection_actor),
         from(c).to(r).with(_, std::string{"customer_id:c1:call:*"}, c));
  expect((unsubscribe_atom, std::string, connection_actor),
         from(c).to(r).with(_, std::string{"agent_id:a1:call"}, c));
  run();
  CAF_CHECK(terminated(c));
  // Bob still holds the shared pattern; the other two topics are gone.
  CAF_CHECK_EQUAL(topic_count(r), 1u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 1);
  CAF_CHECK_EQUAL(ctx->metrics.connections.load(), 1);
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 1);
  publish_one("e1", "customer_id:c1:call:x1");
  CAF_CHECK(sink->take().empty());
  CAF_CHECK_EQUAL(bob_sink->take().size(), 1u);
  // The last one out releases the topic too.
  self->send(bob, closed_atom::value);
  run();
  CAF_CHECK_EQUAL(topic_count(r), 0u);
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
  CAF_CHECK_EQUAL(ctx->metrics.connections.load(), 0);
  CAF_CHECK_EQUAL(ctx->metrics.subscriptions.load(), 0);
}

// BUG (actors/connection.cpp, deliver handler): the at-most-once check is
// skipped when the connection holds at most one subscription, so copies
// still in flight from a pattern just unsubscribed are delivered as well.
// Enable once fixed.
CAF_TEST(an unsubscribe racing a delivery does not duplicate it) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:*", "customer_id:c1:call:x1"});
  auto star = topic_of(r, "customer_id:c1:call:*");
  auto exact = topic_of(r, "customer_id:c1:call:x1");
  // The event is routed to both topics, which both hand it to the
  // connection; the client's unsubscribe is already in its mailbox.
  publish(r, {make_event("e1", "customer_id:c1:call:x1")});
  self->send(c, frame_atom::value,
             std::string{R"({"type":"unsubscribe",)"
                         R"("topics":["customer_id:c1:call:*"]})"});
  expect((publish_atom, pending_events), from(self).to(r).with(_, _));
  expect((deliver_atom, event_ptr), from(r).to(star).with(_, _));
  expect((deliver_atom, event_ptr), from(r).to(exact).with(_, _));
  expect((frame_atom, std::string), from(self).to(c).with(_, _));
  expect((deliver_atom, event_ptr, uint64_t),
         from(star).to(c).with(_, _, pattern_key("customer_id:c1:call:*")));
  expect((deliver_atom, event_ptr, uint64_t),
         from(exact).to(c).with(_, _, pattern_key("customer_id:c1:call:x1")));
  run();
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 2u); // the ack and one event
  CAF_CHECK_EQUAL(json_string(texts[0], "type"), "ack");
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e1");
}

// -- since: replay on subscribe -----------------------------------------------

CAF_TEST(subscribe with since acks recovered then replays in order) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:*"});
  auto e1 = publish_one("e1", "customer_id:c1:call:x1");
  publish_one("e2", "customer_id:c1:call:x2");
  publish_one("e3", "customer_id:c1:message:m"); // another pattern
  publish_one("e4", "customer_id:c1:call:x3");
  sink->take();
  // A second connection comes back from e1's position.
  auto sink2 = std::make_shared<recording_sink>();
  auto d = connect(alice(), sink2);
  frame(d, R"({"type":"subscribe","topics":["customer_id:c1:call:*"],)"
           R"("id":"r","since":")"
               + e1->pos + R"("})");
  auto texts = sink2->take();
  CAF_REQUIRE_EQUAL(texts.size(), 3u);
  CAF_CHECK_EQUAL(texts[0], R"({"type":"ack","action":"subscribe","topics":)"
                            R"(["customer_id:c1:call:*"],"status":"success",)"
                            R"("id":"r","recovered":true})");
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e2");
  CAF_CHECK_EQUAL(json_string(texts[2], "id"), "e4");
  // Then live, once.
  publish_one("e5", "customer_id:c1:call:x1");
  texts = sink2->take();
  CAF_REQUIRE_EQUAL(texts.size(), 1u);
  CAF_CHECK_EQUAL(json_string(texts[0], "id"), "e5");
}

CAF_TEST(since from another life of the node is not recovered) {
  auto c = connect();
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:*"],)"
           R"("since":"deadbeef-1"})");
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 1u);
  CAF_CHECK(texts[0].find(R"("recovered":false)") != std::string::npos);
  publish_one("e1", "customer_id:c1:call:x1");
  CAF_CHECK_EQUAL(sink->take().size(), 1u); // live all the same
}

CAF_TEST(a replay skips what a live subscription already delivered) {
  auto c = connect();
  subscribe(c, {"customer_id:c1:call:x1"});
  auto e0 = publish_one("e0", "customer_id:c1:message:m");
  publish_one("e1", "customer_id:c1:call:x1"); // delivered live
  publish_one("e2", "customer_id:c1:call:x2"); // not covered yet
  CAF_CHECK_EQUAL(sink->take().size(), 1u);
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:*"],)"
           R"("since":")"
               + e0->pos + R"("})");
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 2u); // the ack and e2 only
  CAF_CHECK(texts[0].find(R"("recovered":true)") != std::string::npos);
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e2");
}

CAF_TEST(the replay passes the audience filter) {
  auto c = connect();
  auto e0 = publish_one("e0", "customer_id:c1:call:x1");
  audience other;
  other.tenant_id = "t2";
  publish_one("e1", "customer_id:c1:call:x1", other);
  publish_one("e2", "customer_id:c1:call:x1");
  frame(c, R"({"type":"subscribe","topics":["customer_id:c1:call:*"],)"
           R"("since":")"
               + e0->pos + R"("})");
  auto texts = sink->take();
  CAF_REQUIRE_EQUAL(texts.size(), 2u);
  CAF_CHECK_EQUAL(json_string(texts[1], "id"), "e2");
}

// -- SSE connections
// ------------------------------------------------------------

CAF_TEST(an SSE connection gets broadcast events of its tenant only) {
  auto sse_sink = std::make_shared<recording_sink>();
  sse_options opts;
  opts.patterns = {"sales.*"};
  auto s = spawn_sse_connection(sys, ctx, alice(), sse_sink, r, opts);
  run();
  CAF_CHECK_EQUAL(ctx->metrics.sse_connections.load(), 1);
  auto broadcast = [&](std::string id, std::string type, std::string tenant) {
    auto ev = make_event(std::move(id), "", audience{});
    ev->event_type = std::move(type);
    ev->broadcast = true;
    ev->aud.tenant_id = std::move(tenant);
    publish(r, {ev});
    run();
  };
  broadcast("b1", "sales.order", "t1");
  broadcast("b2", "sales.order", "t2");   // another tenant
  broadcast("b3", "billing.order", "t1"); // another pattern
  broadcast("b4", "sales.refund", "t1");
  auto frames = sse_sink->frames();
  CAF_REQUIRE_EQUAL(frames.size(), 2u);
  CAF_CHECK(frames[0]->rfind("id: ", 0) == 0);
  CAF_CHECK(frames[0]->find(R"("id":"sales.order")") != std::string::npos);
  CAF_CHECK(frames[1]->find(R"("id":"sales.refund")") != std::string::npos);
  self->send(s, closed_atom::value);
  run();
  CAF_CHECK_EQUAL(ctx->metrics.sse_connections.load(), 0);
  CAF_CHECK(router_st(r).sse_tenants.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
