#define CAF_SUITE actors.supervision
// Before CAF's test DSL, which defines a macro named `allow`.
#include "actors/health.hpp"
#include "actors/supervisor.hpp"
#include "actors/tree.hpp"

#include "tests/actors/fixture.hpp"
#include <caf/test/dsl.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using namespace herald::protocol;

namespace {

using boom_atom = caf::atom_constant<caf::atom("boom")>;

// The test actors below take a name: CAF 0.17.6 binds a reference through
// a null tuple when spawning a function actor without arguments, which
// UBSan reports.

// A child that fails when told to.
caf::behavior crasher(caf::event_based_actor* self, std::string) {
  return {
      [=](boom_atom) { self->quit(caf::sec::runtime_error); },
  };
}

// A prober whose probes all succeed.
prober_actor::behavior_type fine_prober(prober_actor::pointer, std::string) {
  return {
      [](probe_atom, const probe_spec&) {
        return probe_result{true, 1, "200", 200, {}};
      },
  };
}

// Records what the board pushes.
health_listener_actor::behavior_type
note_recorder(health_listener_actor::pointer,
              std::shared_ptr<std::vector<health_note>> notes) {
  return {
      [=](health_atom, const health_note& n) { notes->push_back(n); },
  };
}

struct supervision_fixture : fixture {
  router_actor r = spawn_router();
  health_actor board;
  group_supervisor_actor sup;
  // Every child spawned, in order; the last one is the live one.
  std::shared_ptr<std::vector<caf::actor>> spawned =
      std::make_shared<std::vector<caf::actor>>();
  // The availability the supervisor reported, in order.
  std::shared_ptr<strings> changes = std::make_shared<strings>();
  std::shared_ptr<std::vector<health_note>> notes =
      std::make_shared<std::vector<health_note>>();

  // The supervisor and its children keep timers: these tests run messages
  // and move time by hand.
  void settle() { sched.run(); }

  void advance(int ms) {
    sched.advance_time(std::chrono::milliseconds{ms});
    settle();
  }

  supervision_fixture() {
    board = sys.spawn(health_board, ctx, r, uint64_t{0});
    self->send(board, listen_atom::value,
               health_listener_actor{sys.spawn(note_recorder, notes)});
    settle();
  }

  ~supervision_fixture() {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(board, caf::exit_reason::user_shutdown);
    settle();
  }

  void start(restart_settings policy) {
    child_spec c;
    c.name = "drill";
    c.layer = "channels";
    c.kind = "channel";
    c.report_status = true;
    c.spawn = [list = spawned](caf::actor_system& sys, uint64_t) {
      list->push_back(sys.spawn(crasher, std::string{"drill"}));
      return list->back();
    };
    c.on_change = [log = changes](const child_row& row, const caf::actor&) {
      log->push_back(row.state);
    };
    sup = sys.spawn(group_supervisor, ctx,
                    group_spec{"channels", policy, {std::move(c)}}, board,
                    uint64_t{0});
    settle();
  }

  static restart_settings policy() {
    restart_settings p;
    p.max_restarts = 2;
    p.within_ms = 10000;
    p.backoff_initial_ms = 100;
    p.backoff_factor = 2;
    p.backoff_max_ms = 1000;
    p.reset_after_ms = 60000;
    return p;
  }

  void crash_live_child() {
    self->send(spawned->back(), boom_atom::value);
    settle();
  }

  child_row row() {
    child_row out;
    auto pending = self->request(sup, caf::infinite, status_atom::value);
    settle();
    pending.receive(
        [&](std::vector<child_row>& rows) {
          CAF_REQUIRE_EQUAL(rows.size(), 1u);
          out = rows.front();
        },
        [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  service_status board_status(const std::string& name) {
    service_status out;
    auto pending =
        self->request(board, caf::infinite, status_atom::value, name);
    settle();
    pending.receive([&](service_status& s) { out = std::move(s); },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  size_t notes_of(health_note::kind k) {
    size_t n = 0;
    for (auto& note : *notes)
      n += note.what == k ? 1 : 0;
    return n;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervision_tests, supervision_fixture)

CAF_TEST(a crashing child is restarted after a growing backoff) {
  start(policy());
  CAF_REQUIRE_EQUAL(spawned->size(), 1u);
  CAF_CHECK_EQUAL(row().state, "running");
  CAF_CHECK_EQUAL(board_status("drill").state, breaker_state::closed);

  crash_live_child();
  CAF_CHECK_EQUAL(row().state, "restarting");
  CAF_CHECK_EQUAL(ctx->metrics.supervisor_restarts.load(), 1u);
  advance(99);
  CAF_CHECK_EQUAL(spawned->size(), 1u); // not before the backoff
  advance(1);
  CAF_CHECK_EQUAL(spawned->size(), 2u);
  CAF_CHECK_EQUAL(row().state, "running");
  CAF_CHECK_EQUAL(row().restarts, 1u);

  // The second quick failure waits twice as long.
  crash_live_child();
  advance(199);
  CAF_CHECK_EQUAL(spawned->size(), 2u);
  advance(1);
  CAF_CHECK_EQUAL(spawned->size(), 3u);
  CAF_CHECK_EQUAL(*changes, (strings{"running", "restarting", "running",
                                     "restarting", "running"}));
  // Each crash went into the recent-errors ring.
  CAF_CHECK_EQUAL(notes_of(health_note::kind::error), 2u);
}

CAF_TEST(past the intensity limit the child is given up and its breaker held) {
  start(policy());
  crash_live_child();
  advance(100);
  crash_live_child();
  advance(200);
  CAF_REQUIRE_EQUAL(spawned->size(), 3u);
  crash_live_child(); // the third failure within 10 s: max_restarts is 2
  advance(5000);
  CAF_CHECK_EQUAL(spawned->size(), 3u); // no restart
  auto r = row();
  CAF_CHECK_EQUAL(r.state, "given_up");
  CAF_CHECK_EQUAL(r.actor_id, 0u);
  CAF_CHECK_EQUAL(ctx->metrics.supervisor_given_up.load(), 1u);
  auto s = board_status("drill");
  CAF_CHECK_EQUAL(s.state, breaker_state::open);
  CAF_CHECK(s.given_up);
  CAF_CHECK_EQUAL(s.reason.rfind("gave up: 3 failures within 10000 ms", 0), 0u);
  // An alert, and the channels layer went down.
  CAF_CHECK_EQUAL(notes_of(health_note::kind::alert), 1u);
  CAF_CHECK_EQUAL(changes->back(), "given_up");
}

CAF_TEST(an admin reset through the board revives a given - up child) {
  start(policy());
  for (int i = 0; i < 3; ++i) {
    crash_live_child();
    advance(1000);
  }
  CAF_REQUIRE_EQUAL(row().state, "given_up");
  service_status answer;
  auto pending = self->request(board, caf::infinite, reset_atom::value,
                               std::string{"drill"}, std::string{"ops"});
  settle();
  pending.receive([&](service_status& s) { answer = std::move(s); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(answer.state, breaker_state::closed);
  CAF_CHECK(!answer.given_up);
  CAF_CHECK_EQUAL(answer.reason, "reset by ops");
  CAF_CHECK_EQUAL(spawned->size(), 4u);
  CAF_CHECK_EQUAL(row().state, "running");
  CAF_CHECK_EQUAL(ctx->metrics.supervisor_revived.load(), 1u);
  // A clean history: it may fail max_restarts times again.
  crash_live_child();
  advance(100);
  CAF_CHECK_EQUAL(row().state, "running");
}

CAF_TEST(a reset of an unknown service is an error) {
  start(policy());
  auto pending = self->request(board, caf::infinite, reset_atom::value,
                               std::string{"nope"}, std::string{"ops"});
  settle();
  pending.receive([&](service_status&) { CAF_FAIL("reset accepted"); },
                  [&](caf::error& err) {
                    CAF_CHECK(is(err, health_errc::unknown_service));
                  });
}

CAF_TEST(an exit to the supervisor stops its children without restarts) {
  start(policy());
  auto child = spawned->back();
  self->monitor(child);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  settle();
  advance(1000);
  CAF_CHECK_EQUAL(spawned->size(), 1u);
  CAF_CHECK_EQUAL(ctx->metrics.supervisor_restarts.load(), 0u);
}

CAF_TEST(a layer is healthy or degraded or down with its services) {
  auto report = [&](std::string name, breaker_state state) {
    service_status s;
    s.name = std::move(name);
    s.layer = "core";
    s.state = state;
    self->send(board, service_atom::value, s);
    settle();
  };
  auto layer_notes = [&] {
    strings out;
    for (auto& n : *notes)
      if (n.what == health_note::kind::layer)
        out.push_back(json_string(*n.data, "status"));
    notes->clear();
    return out;
  };
  report("a", breaker_state::closed);
  report("b", breaker_state::closed);
  CAF_CHECK_EQUAL(layer_notes(), (strings{"healthy"}));
  report("a", breaker_state::open);
  CAF_CHECK_EQUAL(layer_notes(), (strings{"degraded"}));
  report("b", breaker_state::half_open);
  CAF_CHECK_EQUAL(layer_notes(), (strings{"down"}));
  report("b", breaker_state::closed);
  report("a", breaker_state::closed);
  CAF_CHECK_EQUAL(layer_notes(), (strings{"degraded", "healthy"}));
}

CAF_TEST(the recent errors ring keeps the newest) {
  ctx->settings.health.recent_errors = 3;
  for (int i = 1; i <= 5; ++i)
    self->send(board, error_atom::value, std::string{"crash"}, std::string{"x"},
               "failure " + std::to_string(i));
  settle();
  std::vector<error_entry> got;
  auto pending =
      self->request(board, caf::infinite, errors_atom::value, uint32_t{10});
  settle();
  pending.receive([&](std::vector<error_entry>& e) { got = std::move(e); },
                  [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(got.size(), 3u);
  CAF_CHECK_EQUAL(got[0].message, "failure 5");
  CAF_CHECK_EQUAL(got[2].message, "failure 3");
  CAF_CHECK_EQUAL(got[0].seq, 5u);
  CAF_CHECK_EQUAL(ctx->metrics.health_errors.load(), 5u);
}

CAF_TEST(the registry shows each supervisor with its children) {
  start(policy());
  for (int i = 0; i < 3; ++i) {
    crash_live_child();
    advance(1000);
  }
  std::string state;
  for (auto& row : ctx->registry.list())
    if (row.kind == actor_kind::supervisor && row.name == "channels")
      state = row.state;
  CAF_CHECK_EQUAL(state, "drill:given_up(2 restarts)");
}

CAF_TEST(a killed monitor is restarted and the board reaches the new one) {
  protocol::service_spec db;
  db.name = "db";
  db.layer = "data";
  db.probe.how = probe_spec::kind::tcp;
  db.probe.host = "127.0.0.1";
  db.probe.port = 5432;
  db.interval_ms = 3600000;
  ctx->settings.services = {db};
  ctx->settings.supervision = policy();
  auto prober = sys.spawn(fine_prober, std::string{"prober"});
  auto group = monitor_group(ctx, prober, r, board);
  CAF_REQUIRE_EQUAL(group.children.size(), 1u);
  // Keep each monitor the group spawns, to kill it.
  auto inner = group.children[0].spawn;
  group.children[0].spawn = [inner, list = spawned](caf::actor_system& sys,
                                                    uint64_t parent) {
    list->push_back(inner(sys, parent));
    return list->back();
  };
  sup = sys.spawn(group_supervisor, ctx, std::move(group), board, uint64_t{0});
  settle();
  auto probe_via_board = [&] {
    service_status out;
    auto pending = self->request(board, caf::infinite, probe_atom::value,
                                 std::string{"db"});
    settle();
    pending.receive([&](service_status& s) { out = std::move(s); },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  };
  CAF_CHECK_EQUAL(probe_via_board().probes, 2u); // start + this one
  auto first = row().actor_id;
  CAF_REQUIRE_EQUAL(spawned->size(), 1u);
  caf::anon_send_exit(spawned->back(), caf::exit_reason::kill);
  settle();
  CAF_CHECK_EQUAL(row().state, "restarting");
  advance(100);
  CAF_CHECK_EQUAL(row().state, "running");
  CAF_CHECK_NOT_EQUAL(row().actor_id, first);
  // The new monitor told the board its handle: a fresh breaker, probing.
  auto s = probe_via_board();
  CAF_CHECK_EQUAL(s.probes, 2u);
  CAF_CHECK_EQUAL(s.state, breaker_state::closed);
  caf::anon_send_exit(prober, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
