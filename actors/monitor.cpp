#include "actors/monitor.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"
#include "actors/system_events.hpp"
#include "protocol/json_util.hpp"

#include <caf/all.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

namespace herald::actors {

using namespace protocol;

namespace {

using self_ptr = monitor_actor::stateful_pointer<monitor_state>;

// The breaker runs on CAF's clock, so that deterministic tests move it.
int64_t now_ms(self_ptr self) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
      .count();
}

void publish(self_ptr self, const char* event_type, std::string data_json) {
  auto& st = self->state;
  publish_system_event(self, st.ctx, st.router, service_topic(st.spec),
                       event_type, std::move(data_json));
}

// An event's data: the service and its layer, then what `fill` adds.
template <class Fill>
std::string service_json(const std::string& node, const service_spec& spec,
                         Fill&& fill) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  w.StartObject();
  w.Key("service");
  write_json_string(w, spec.name);
  w.Key("layer");
  write_json_string(w, spec.layer);
  // In a cluster every node probes from where it stands: say which.
  w.Key("node");
  write_json_string(w, node);
  fill(w);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string probe_json(const std::string& node, const service_spec& spec,
                       const probe_result& r, breaker_state state) {
  return service_json(node, spec, [&](json_writer& w) {
    w.Key("ok");
    w.Bool(r.ok);
    w.Key("latency_ms");
    w.Uint(r.latency_ms);
    w.Key("detail");
    write_json_string(w, r.detail);
    w.Key("state");
    w.String(to_string(state));
  });
}

std::string transition_json(const std::string& node, const service_spec& spec,
                            const breaker_transition& t) {
  return service_json(node, spec, [&](json_writer& w) {
    w.Key("from");
    w.String(to_string(t.from));
    w.Key("to");
    w.String(to_string(t.to));
    w.Key("reason");
    write_json_string(w, t.reason);
  });
}

// Tells the health board (docs/monitors.md) what the service looks like.
void report(self_ptr self) {
  auto& st = self->state;
  if (st.health)
    self->send(st.health, service_atom::value, st.status);
  // The console's state line (docs/console.md): once per probe.
  if (st.counters != nullptr)
    st.ctx->registry.set_state(
        self->id(), std::string{"breaker "} + to_string(st.status.state) + ", "
                        + std::to_string(st.status.probes) + " probes, "
                        + std::to_string(st.status.failures) + " failures");
}

// Publishes the breaker's changes and refreshes the status.
void settle(self_ptr self) {
  auto& st = self->state;
  auto& b = *st.breaker;
  for (auto& t : b.take_transitions()) {
    st.ctx->metrics.breaker_transitions.fetch_add(1, std::memory_order_relaxed);
    publish(self, "service.state",
            transition_json(st.ctx->settings.node_name, st.spec, t));
    st.status.reason = t.reason;
    st.status.changed_us = now_us();
  }
  st.status.state = b.state();
  st.status.times_opened = b.times_opened();
  // The breaker's times are CAF's clock (steady in a node, virtual in the
  // tests); the status is read by people, so it carries wall time.
  auto next = b.next_attempt_ms();
  st.status.next_attempt_ms =
      next < 0 ? -1 : now_us() / 1000 + (next - now_ms(self));
}

void record(self_ptr self, probe_result result) {
  auto& st = self->state;
  auto now = now_ms(self);
  ++st.status.probes;
  st.ctx->metrics.monitor_probes.fetch_add(1, std::memory_order_relaxed);
  if (result.ok) {
    st.breaker->record_success(now);
  } else {
    ++st.status.failures;
    st.ctx->metrics.monitor_probe_failures.fetch_add(1,
                                                     std::memory_order_relaxed);
    st.breaker->record_failure(now);
  }
  settle(self);
  publish(self, "service.probe",
          probe_json(st.ctx->settings.node_name, st.spec, result,
                     st.breaker->state()));
  st.status.last = std::move(result);
  report(self);
}

// One probe, if the breaker lets it go out; `done` runs once it is settled
// (at once when the breaker refused it).
template <class Done>
void probe_once(self_ptr self, Done done) {
  auto& st = self->state;
  if (st.probing || !st.breaker->admit(now_ms(self))) {
    settle(self); // admit() may have turned it half-open
    done();
    return;
  }
  settle(self);
  st.probing = true;
  // The prober bounds the probe by the spec's timeout; this bound only
  // catches a prober that never answers.
  auto bound = std::chrono::milliseconds{st.spec.probe.timeout_ms + 1000};
  self->request(st.prober, bound, probe_atom::value, st.spec.probe)
      .then(
          [=](probe_result& r) {
            self->state.probing = false;
            record(self, std::move(r));
            done();
          },
          [=](caf::error& err) {
            self->state.probing = false;
            record(
                self,
                probe_result{
                    false, 0, "prober: " + self->system().render(err), 0, {}});
            done();
          });
}

} // namespace

std::string service_topic(const service_spec& spec) {
  // <scope>:<scope id>:<resource type>:<resource id>, as PROTOCOL §2's
  // topics are: the layer is the scope id, so permission rules can grant
  // one layer, and a subscriber can hold a whole layer with `*`.
  return "system:" + spec.layer + ":service:" + spec.name;
}

monitor_actor::behavior_type
monitor(monitor_actor::stateful_pointer<monitor_state> self, context_ptr ctx,
        service_spec spec, prober_actor prober, router_actor router,
        health_actor health, uint64_t parent) {
  auto& st = self->state;
  st.counters = enroll(self, ctx, actor_kind::monitor, spec.name, parent);
  stoppable_by_admin(self, ctx);
  keep_exception_text(self);
  st.ctx = std::move(ctx);
  st.breaker.emplace(spec.breaker);
  st.status.name = spec.name;
  st.status.layer = spec.layer;
  st.spec = std::move(spec);
  st.prober = std::move(prober);
  st.router = std::move(router);
  st.health = std::move(health);
  st.status.reason = "started";
  st.status.changed_us = now_us();
  // The board learns the (new) monitor's handle, for probes and resets.
  if (st.health)
    self->send(st.health, service_atom::value, st.status,
               caf::actor_cast<monitor_actor>(self));
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        count_message(self, self->state.counters);
        probe_once(self, [] {});
        self->delayed_send(
            self, std::chrono::milliseconds{self->state.spec.interval_ms},
            tick_atom::value);
      },
      [=](probe_atom) -> caf::result<service_status> {
        count_message(self, self->state.counters);
        // Shared: the callbacks that deliver it are copied into CAF's
        // response handlers, which call them const.
        auto rp = std::make_shared<caf::typed_response_promise<service_status>>(
            self->make_response_promise<service_status>());
        probe_once(self, [=] { rp->deliver(self->state.status); });
        return *rp;
      },
      [=](reset_atom, const std::string& who) {
        auto& st = self->state;
        count_message(self, st.counters);
        st.breaker->reset(now_ms(self), "reset by " + who);
        settle(self);
        report(self);
        return st.status;
      },
      [=](status_atom) {
        count_message(self, self->state.counters);
        return self->state.status;
      },
      [=](call_atom) {
        auto& st = self->state;
        count_message(self, st.counters);
        // The same gate as a probe: open refuses, half-open admits its
        // trials (a call may be one).
        bool admitted = st.breaker->admit(now_ms(self));
        settle(self);
        return admitted;
      },
      [=](call_atom, bool ok) {
        auto& st = self->state;
        count_message(self, st.counters);
        auto now = now_ms(self);
        if (ok)
          st.breaker->record_success(now);
        else
          st.breaker->record_failure(now);
        settle(self);
        report(self);
      },
  };
}

} // namespace herald::actors
