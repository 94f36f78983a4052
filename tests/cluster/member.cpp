#define CAF_SUITE cluster.member
#include <caf/test/dsl.hpp>

#include "cluster/member.hpp"
#include "protocol/ring.hpp"
#include "tests/actors/fixture.hpp"

#include <map>
#include <string>

// An in-process cluster on CAF's deterministic coordinator: each node is
// a context, a router and a member actor; members meet by a hello sent
// from the test, as they do after a dial over the middleman. Everything
// between them (interest, hand-over, forwarding, replay, presence) is the
// real code.

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using namespace herald::protocol;

namespace {

struct node {
  context_ptr ctx;
  router_actor router;
  cluster_actor member;
  member_info info;
};

struct cluster_fixture : fixture {
  std::map<std::string, node> nodes;

  // Routers and members keep periodic timers (watermarks, dials): the
  // fixture's run() would fire them forever. These tests run messages
  // only, and stop every node before the fixture's last run().
  void settle() { sched.run(); }

  ~cluster_fixture() {
    for (auto& [name, n] : nodes) {
      caf::anon_send_exit(n.member, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(n.router, caf::exit_reason::user_shutdown);
    }
    settle();
  }

  std::pair<connection_actor, probe_log_ptr> new_probe() {
    auto log = std::make_shared<probe_log>();
    auto p = sys.spawn(probe, log);
    settle();
    return {p, log};
  }

  node& add_node(const std::string& name, uint16_t port) {
    auto c = std::make_shared<node_context>();
    c->settings = ctx->settings;
    c->settings.node_name = name;
    c->settings.cluster.enabled = true;
    c->epoch = "e" + name + "000000";
    auto r = sys.spawn(router, c, uint64_t{0});
    member_info info{name, c->epoch, "127.0.0.1", port};
    auto m = sys.spawn(cluster::member, c, r, info, std::vector<std::string>{});
    settle();
    return nodes[name] = node{c, r, m, info};
  }

  // What a dial does once connected: `from` says hello to `to`.
  void meet(const std::string& from, const std::string& to) {
    auto& a = nodes[from];
    self->send(nodes[to].member, hello_atom::value, a.info,
               caf::actor_cast<caf::strong_actor_ptr>(a.member),
               member_infos{});
    settle();
  }

  void subscribe(const std::string& on, const connection_actor& who,
                 std::vector<std::string> patterns,
                 std::optional<std::string> since = std::nullopt) {
    self->send(nodes[on].router, subscribe_atom::value,
               sub_request(std::move(patterns), std::move(since)), who);
    settle();
  }

  int64_t clock = 0; ///< acceptance times one apart, in publish order

  void publish_on(const std::string& on, const std::string& id,
                  const std::string& topic) {
    auto ev = make_event(id, topic);
    ev->timestamp_us += ++clock;
    publish(nodes[on].router, {ev});
    settle();
  }

  /// A topic of the form `t:<n>` whose owner, among `members`, is `owner`.
  static std::string topic_owned_by(const std::string& owner,
                                    std::vector<std::string> members,
                                    const std::string& prefix = "t") {
    owner_ring ring{std::move(members)};
    for (int i = 0; i < 1000; ++i) {
      auto t = prefix + ":" + std::to_string(i);
      if (ring.owner_of(t) == owner)
        return t;
    }
    return {};
  }

  presence_answer presence(const std::string& on, const std::string& topic) {
    presence_answer out;
    auto pending = self->request(nodes[on].router, caf::infinite,
                                 presence_atom::value, topic);
    settle();
    pending.receive([&](presence_answer& a) { out = std::move(a); },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  static std::vector<std::string> ids(const probe_log& log) {
    std::vector<std::string> out;
    for (auto& d : log.delivered)
      out.push_back(d.first->id);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(member_tests, cluster_fixture)

CAF_TEST(a hello makes both members live and both views list them) {
  add_node("a", 7401);
  add_node("b", 7402);
  CAF_CHECK(nodes["a"].ctx->cluster.get().joined); // no seed: a founder
  meet("b", "a");
  for (auto name : {"a", "b"}) {
    auto view = nodes[name].ctx->cluster.get();
    CAF_CHECK_EQUAL(view.members, (strings{"a", "b"}));
    CAF_CHECK_EQUAL(view.node, name);
  }
  CAF_CHECK_EQUAL(nodes["a"].ctx->metrics.cluster_joins.load(), 1u);
  CAF_CHECK_EQUAL(nodes["b"].ctx->metrics.cluster_joins.load(), 1u);
}

CAF_TEST(a publish reaches subscribers on the other node once) {
  add_node("a", 7401);
  add_node("b", 7402);
  meet("b", "a");
  auto [pa, loga] = new_probe();
  auto [pb, logb] = new_probe();
  subscribe("a", pa, {"t:*"});
  subscribe("b", pb, {"t:*"});
  subscribe("b", pb, {"t:>"}); // a second matching pattern on b
  auto owned_by_a = topic_owned_by("a", {"a", "b"});
  auto owned_by_b = topic_owned_by("b", {"a", "b"});
  publish_on("a", "e1", owned_by_a);
  publish_on("a", "e2", owned_by_b); // handed to b, which owns it
  publish_on("b", "e3", owned_by_a); // handed to a
  CAF_CHECK_EQUAL(ids(*loga), (strings{"e1", "e2", "e3"}));
  // b's probe holds two patterns: one delivery per pattern, as on a lone
  // node (the connection keeps one); the member got each event once.
  CAF_CHECK_EQUAL(logb->delivered.size(), 6u);
  auto& ma = nodes["a"].ctx->metrics;
  auto& mb = nodes["b"].ctx->metrics;
  CAF_CHECK_EQUAL(ma.cluster_owner_hops.load(), 1u);
  CAF_CHECK_EQUAL(mb.cluster_owner_hops.load(), 1u);
  CAF_CHECK_EQUAL(ma.cluster_forwarded.load(), 2u); // e1, e3 to b
  CAF_CHECK_EQUAL(mb.cluster_received.load(), 2u);
  CAF_CHECK_EQUAL(mb.cluster_forwarded.load(), 1u); // e2 to a
  // The owner stamped them: e2 by b, the others by a.
  for (auto& d : loga->delivered)
    CAF_CHECK_EQUAL(d.first->owner,
                    d.first->id == "e2" ? "eb000000" : "ea000000");
}

CAF_TEST(interest is withdrawn when the last subscriber leaves) {
  add_node("a", 7401);
  add_node("b", 7402);
  meet("b", "a");
  auto [pb, logb] = new_probe();
  subscribe("b", pb, {"t:*"});
  auto topic = topic_owned_by("a", {"a", "b"});
  publish_on("a", "e1", topic);
  CAF_CHECK_EQUAL(logb->delivered.size(), 1u);
  CAF_CHECK_EQUAL(nodes["a"].ctx->metrics.cluster_interest.load(), 1);
  self->send(nodes["b"].router, unsubscribe_atom::value, std::string{"t:*"},
             pb);
  settle();
  CAF_CHECK_EQUAL(nodes["a"].ctx->metrics.cluster_interest.load(), 0);
  publish_on("a", "e2", topic);
  CAF_CHECK_EQUAL(nodes["a"].ctx->metrics.cluster_forwarded.load(), 1u);
  CAF_CHECK_EQUAL(nodes["b"].ctx->metrics.cluster_received.load(), 1u);
}

CAF_TEST(a new member gets the whole interest of the others) {
  add_node("a", 7401);
  auto [pa, loga] = new_probe();
  subscribe("a", pa, {"t:*", "u:>"});
  add_node("b", 7402);
  meet("b", "a");
  CAF_CHECK_EQUAL(nodes["b"].ctx->metrics.cluster_interest.load(), 2);
  auto topic = topic_owned_by("b", {"a", "b"});
  publish_on("b", "e1", topic);
  CAF_CHECK_EQUAL(ids(*loga), (strings{"e1"}));
}

CAF_TEST(presence sums the connections of every member) {
  add_node("a", 7401);
  add_node("b", 7402);
  add_node("c", 7403);
  meet("b", "a");
  meet("c", "a");
  meet("c", "b");
  CAF_CHECK_EQUAL(nodes["c"].ctx->cluster.get().members,
                  (strings{"a", "b", "c"}));
  auto [p1, l1] = new_probe();
  auto [p2, l2] = new_probe();
  auto [p3, l3] = new_probe();
  subscribe("a", p1, {"t:*"});
  subscribe("a", p2, {"t:1"});
  subscribe("c", p3, {"t:>"});
  subscribe("c", p3, {"t:*"}); // the same connection twice: counted once
  auto answer = presence("b", "t:1");
  uint64_t total = 0;
  std::map<std::string, uint64_t> per_node;
  for (std::size_t i = 0; i < answer.nodes.size(); ++i) {
    total += answer.counts[i];
    per_node[answer.nodes[i]] = answer.counts[i];
  }
  CAF_CHECK(answer.complete);
  CAF_CHECK_EQUAL(total, 3u);
  CAF_CHECK_EQUAL(per_node["a"], 2u);
  CAF_CHECK_EQUAL(per_node["b"], 0u);
  CAF_CHECK_EQUAL(per_node["c"], 1u);
}

CAF_TEST(a client resumes on another node from its last position) {
  add_node("a", 7401);
  add_node("b", 7402);
  meet("b", "a");
  auto [pa, loga] = new_probe();
  subscribe("a", pa, {"t:*"});
  auto ta = topic_owned_by("a", {"a", "b"});
  auto tb = topic_owned_by("b", {"a", "b"});
  publish_on("a", "e1", ta);
  publish_on("a", "e2", tb);
  CAF_REQUIRE_EQUAL(loga->delivered.size(), 2u);
  auto last = loga->delivered.back().first->pos;
  // The client is gone; more events come, on both owners.
  self->send(nodes["a"].router, unsubscribe_atom::value, std::string{"t:*"},
             pa);
  settle();
  publish_on("b", "e3", ta);
  publish_on("b", "e4", tb);
  publish_on("a", "e5", ta);
  // It comes back on b.
  auto [pb, logb] = new_probe();
  subscribe("b", pb, {"t:*"}, last);
  CAF_REQUIRE_EQUAL(logb->answers.size(), 1u);
  auto& answer = logb->answers.front();
  CAF_CHECK(answer.asked);
  CAF_CHECK(answer.recovered);
  std::vector<std::string> replayed;
  for (auto& ev : answer.events)
    replayed.push_back(ev->id);
  CAF_CHECK_EQUAL(replayed, (strings{"e3", "e4", "e5"}));
  // Each replayed frame carries a position that resumes after it.
  auto again = answer.events.back()->pos;
  auto [pc, logc] = new_probe();
  subscribe("a", pc, {"t:*"}, again);
  CAF_REQUIRE_EQUAL(logc->answers.size(), 1u);
  CAF_CHECK(logc->answers.front().recovered);
  CAF_CHECK(logc->answers.front().events.empty());
}

CAF_TEST(a position naming a departed owner is not recovered) {
  add_node("a", 7401);
  add_node("b", 7402);
  meet("b", "a");
  auto [pa, loga] = new_probe();
  subscribe("a", pa, {"t:*"});
  publish_on("a", "e1", topic_owned_by("b", {"a", "b"}));
  CAF_REQUIRE_EQUAL(loga->delivered.size(), 1u);
  auto last = loga->delivered.back().first->pos;
  self->send(nodes["a"].member, bye_atom::value, std::string{"b"});
  settle();
  CAF_CHECK_EQUAL(nodes["a"].ctx->cluster.get().members, (strings{"a"}));
  auto [p2, log2] = new_probe();
  subscribe("a", p2, {"t:*"}, last);
  CAF_REQUIRE_EQUAL(log2->answers.size(), 1u);
  CAF_CHECK(!log2->answers.front().recovered);
  // b's topics are a's now.
  publish_on("a", "e2", topic_owned_by("b", {"a", "b"}));
  CAF_CHECK_EQUAL(log2->delivered.back().first->owner, "ea000000");
}

CAF_TEST(an SSE stream resumes on another node from its Last - Event - ID) {
  add_node("a", 7401);
  add_node("b", 7402);
  meet("b", "a");
  auto broadcast = [&](const std::string& on, const std::string& id,
                       const std::string& topic) {
    audience aud;
    aud.tenant_id = "t1";
    auto ev = make_event(id, topic, aud);
    ev->broadcast = true;
    ev->timestamp_us += ++clock;
    publish(nodes[on].router, {ev});
    settle();
  };
  auto [pa, loga] = new_probe();
  self->send(nodes["a"].router, sse_atom::value, sse_request{"t1", {}}, pa);
  settle();
  auto tb = topic_owned_by("b", {"a", "b"});
  auto ta = topic_owned_by("a", {"a", "b"});
  broadcast("b", "e1", tb); // owned by b, forwarded to a's SSE tenant
  CAF_REQUIRE_EQUAL(loga->delivered.size(), 1u);
  CAF_CHECK(loga->delivered[0].first->sse_frame != nullptr);
  auto last = loga->delivered.back().first->pos;
  broadcast("a", "e2", ta);
  broadcast("b", "e3", tb);
  auto [pb, logb] = new_probe();
  self->send(nodes["b"].router, sse_atom::value, sse_request{"t1", last}, pb);
  settle();
  CAF_REQUIRE_EQUAL(logb->answers.size(), 1u);
  auto& answer = logb->answers.front();
  CAF_CHECK(answer.recovered);
  std::vector<std::string> replayed;
  for (auto& ev : answer.events)
    replayed.push_back(ev->id);
  CAF_CHECK_EQUAL(replayed, (strings{"e2", "e3"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
