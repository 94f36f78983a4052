#define CAF_SUITE actors.supervisor
#include <caf/test/dsl.hpp>

#include "tests/actors/fixture.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using herald::protocol::router_atom;
using herald::protocol::subscribe_atom;

namespace {

struct supervisor_fixture : fixture {
  // What on_fatal was called with, in order.
  std::shared_ptr<strings> fatal = std::make_shared<strings>();
  supervisor_actor sup;

  supervisor_fixture() {
    auto log = fatal;
    std::function<void(std::string)> on_fatal = [log](std::string why) {
      log->push_back(std::move(why));
    };
    sup = sys.spawn(root_supervisor, ctx, on_fatal);
    run();
  }

  router_actor router_of_sup() {
    router_actor out;
    auto pending = self->request(sup, caf::infinite, router_atom::value);
    run();
    pending.receive([&](router_actor& r, health_actor&) { out = std::move(r); },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  // Gives the router a topic actor (linked to it) to watch go down with it.
  void give_router_a_topic(const router_actor& r) {
    auto [p, log] = spawn_probe();
    self->send(r, subscribe_atom::value, sub_request({"a:b:c"}), p);
    run();
    CAF_REQUIRE_EQUAL(ctx->metrics.topics.load(), 1);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, supervisor_fixture)

CAF_TEST(the supervisor replies its router) {
  auto r = router_of_sup();
  CAF_REQUIRE(r != nullptr);
  CAF_CHECK(router_of_sup() == r);
  // A live router, ready for use.
  CAF_CHECK_EQUAL(stats(r), (std::pair<uint64_t, uint64_t>{0, 0}));
  CAF_CHECK(fatal->empty());
}

CAF_TEST(a router killed escalates through on_fatal) {
  auto r = router_of_sup();
  give_router_a_topic(r);
  self->monitor(r);
  self->monitor(sup);
  caf::anon_send_exit(r, caf::exit_reason::kill);
  run();
  caf::error reason;
  CAF_CHECK(terminated(r, &reason));
  CAF_CHECK_EQUAL(reason, caf::make_error(caf::exit_reason::kill));
  CAF_REQUIRE_EQUAL(fatal->size(), 1u);
  CAF_CHECK_EQUAL(fatal->front().rfind("router terminated: ", 0), 0u);
  // Its topics, linked to it, went down with it.
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
  // The supervisor does not restart it behind the connections' backs.
  CAF_CHECK(!terminated(sup));
  CAF_CHECK(router_of_sup() == r);
  run();
  CAF_CHECK_EQUAL(fatal->size(), 1u);
}

CAF_TEST(a router stopped by an exit message escalates too) {
  // The router has no exit handler: any non-normal exit stops it.
  auto r = router_of_sup();
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
  CAF_REQUIRE_EQUAL(fatal->size(), 1u);
  CAF_CHECK_EQUAL(fatal->front().rfind("router terminated: ", 0), 0u);
}

CAF_TEST(an exit to the supervisor takes the router down without on_fatal) {
  auto r = router_of_sup();
  give_router_a_topic(r);
  self->monitor(r);
  self->monitor(sup);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  run();
  caf::error sup_reason;
  caf::error router_reason;
  CAF_CHECK(terminated(sup, &sup_reason));
  CAF_CHECK(terminated(r, &router_reason));
  CAF_CHECK_EQUAL(sup_reason, caf::make_error(caf::exit_reason::user_shutdown));
  CAF_CHECK_EQUAL(router_reason,
                  caf::make_error(caf::exit_reason::user_shutdown));
  CAF_CHECK_EQUAL(ctx->metrics.topics.load(), 0);
  CAF_CHECK(fatal->empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
