#define CAF_SUITE actors.monitor
// Before CAF's test DSL, which defines a macro named `allow`, as the
// breaker names a member function.
#include "actors/monitor.hpp"

#include "tests/actors/fixture.hpp"
#include <caf/test/dsl.hpp>

#include <deque>
#include <memory>
#include <string>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using namespace herald::protocol;

namespace {

using script = std::shared_ptr<std::deque<probe_result>>;

// A prober that answers from a script (ok once it runs out) and counts.
prober_actor::behavior_type scripted_prober(prober_actor::pointer,
                                            script results,
                                            std::shared_ptr<int> asked) {
  return {
      [=](probe_atom, const probe_spec&) {
        ++*asked;
        if (results->empty())
          return probe_result{true, 3, "200", 200, {}};
        auto r = results->front();
        results->pop_front();
        return r;
      },
  };
}

struct monitor_fixture : fixture {
  router_actor r = spawn_router();
  script results = std::make_shared<std::deque<probe_result>>();
  std::shared_ptr<int> asked = std::make_shared<int>(0);
  prober_actor prober = sys.spawn(scripted_prober, results, asked);
  monitor_actor m;
  probe_log_ptr events;

  // The monitor keeps a periodic timer: the fixture's run() would fire it
  // forever. These tests run messages and move time by hand.
  void settle() { sched.run(); }

  void advance(int ms) {
    sched.advance_time(std::chrono::milliseconds{ms});
    settle();
  }

  ~monitor_fixture() {
    caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
    settle();
  }

  void start(service_spec spec) {
    auto [p, log] = spawn_probe();
    events = log;
    self->send(r, subscribe_atom::value, sub_request({"system:>"}), p);
    settle();
    m = sys.spawn(monitor, ctx, spec, prober, r, health_actor{}, uint64_t{0});
    settle();
  }

  static service_spec db() {
    service_spec s;
    s.name = "db";
    s.layer = "data";
    s.probe.how = probe_spec::kind::tcp;
    s.probe.host = "127.0.0.1";
    s.probe.port = 5432;
    s.probe.timeout_ms = 500;
    s.interval_ms = 1000;
    s.breaker.failure_threshold = 2;
    s.breaker.open_ms = 5000;
    s.breaker.half_open_trials = 1;
    s.breaker.close_after = 1;
    return s;
  }

  service_status status() {
    service_status out;
    auto pending = self->request(m, caf::infinite, status_atom::value);
    settle();
    pending.receive([&](service_status& s) { out = std::move(s); },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  // event_type and, for state changes, "from>to", of what was published.
  std::vector<std::string> published() {
    std::vector<std::string> out;
    for (auto& d : events->delivered) {
      auto& ev = *d.first;
      if (ev.event_type == "service.state")
        out.push_back("state " + json_string(ev.data_json, "from") + ">"
                      + json_string(ev.data_json, "to"));
      else
        out.push_back(ev.event_type + " "
                      + (ev.data_json.find("\"ok\":true") != std::string::npos
                             ? "ok"
                             : "fail"));
    }
    events->delivered.clear();
    return out;
  }
};

probe_result fail(std::string why = "connection refused") {
  return probe_result{false, 1, std::move(why), 0, {}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(monitor_tests, monitor_fixture)

CAF_TEST(a monitor opens then half opens then closes as probes change) {
  results->assign({fail(), fail()});
  start(db());
  // The first probe goes out at start, the next after interval_ms.
  CAF_CHECK_EQUAL(*asked, 1);
  CAF_CHECK_EQUAL(published(), (strings{"service.probe fail"}));
  advance(1000);
  CAF_CHECK_EQUAL(*asked, 2);
  CAF_CHECK_EQUAL(published(),
                  (strings{"state closed>open", "service.probe fail"}));
  CAF_CHECK(status().state == breaker_state::open);
  // Open: no probe goes out until open_ms has passed.
  advance(1000);
  advance(1000);
  advance(1000);
  advance(1000);
  CAF_CHECK_EQUAL(*asked, 2);
  CAF_CHECK(published().empty());
  advance(1000); // 5 s after opening: a trial probe, which succeeds
  CAF_CHECK_EQUAL(*asked, 3);
  CAF_CHECK_EQUAL(published(),
                  (strings{"state open>half_open", "state half_open>closed",
                           "service.probe ok"}));
  auto s = status();
  CAF_CHECK(s.state == breaker_state::closed);
  CAF_CHECK_EQUAL(s.probes, 3u);
  CAF_CHECK_EQUAL(s.failures, 2u);
  CAF_CHECK_EQUAL(s.times_opened, 1u);
  CAF_CHECK_EQUAL(ctx->metrics.breaker_transitions.load(), 3u);
  CAF_CHECK_EQUAL(ctx->metrics.monitor_probe_failures.load(), 2u);
}

CAF_TEST(a failed trial reopens the breaker) {
  results->assign({fail(), fail(), fail("timeout after 500 ms")});
  start(db());
  advance(1000);
  published();
  advance(5000);
  CAF_CHECK_EQUAL(published(),
                  (strings{"state open>half_open", "state half_open>open",
                           "service.probe fail"}));
  auto s = status();
  CAF_CHECK(s.state == breaker_state::open);
  CAF_REQUIRE(s.last.has_value());
  CAF_CHECK_EQUAL(s.last->detail, "timeout after 500 ms");
}

CAF_TEST(an admin reset closes an open breaker and says who) {
  results->assign({fail(), fail()});
  start(db());
  advance(1000);
  published();
  auto pending =
      self->request(m, caf::infinite, reset_atom::value, std::string{"ops"});
  settle();
  pending.receive(
      [&](service_status& s) { CAF_CHECK(s.state == breaker_state::closed); },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(events->delivered.size(), 1u);
  auto& ev = *events->delivered.front().first;
  CAF_CHECK_EQUAL(ev.topic, "system:data:service:db");
  CAF_CHECK_EQUAL(json_string(ev.data_json, "reason"), "reset by ops");
}

CAF_TEST(a health check probes now and answers with the result) {
  start(db());
  published();
  results->assign({fail("503")});
  auto pending = self->request(m, caf::infinite, probe_atom::value);
  settle();
  pending.receive(
      [&](service_status& s) {
        CAF_CHECK_EQUAL(s.probes, 2u);
        CAF_REQUIRE(s.last.has_value());
        CAF_CHECK(!s.last->ok);
        CAF_CHECK_EQUAL(s.last->detail, "503");
      },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
}

CAF_TEST(calls made for a client fail fast while the breaker is open) {
  auto spec = db();
  spec.interval_ms = 3600000; // no probe in the way of the trial call
  start(spec);
  published();
  auto may_call = [&] {
    bool out = false;
    auto pending = self->request(m, caf::infinite, call_atom::value);
    settle();
    pending.receive([&](bool ok) { out = ok; },
                    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  };
  CAF_CHECK(may_call());
  // Two failed calls open the breaker (failure_threshold 2), as probes do.
  self->send(m, call_atom::value, false);
  self->send(m, call_atom::value, false);
  settle();
  CAF_CHECK(status().state == breaker_state::open);
  CAF_CHECK(!may_call());
  // After open_ms one trial may go out; its success closes the breaker.
  sched.advance_time(std::chrono::milliseconds{5000});
  CAF_CHECK(may_call());
  self->send(m, call_atom::value, true);
  settle();
  CAF_CHECK(status().state == breaker_state::closed);
}

CAF_TEST_FIXTURE_SCOPE_END()
