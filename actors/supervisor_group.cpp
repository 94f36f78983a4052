#include "actors/supervisor.hpp"

#include "actors/clock.hpp"
#include "actors/instrument.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <chrono>

namespace herald::actors {

using namespace protocol;

namespace {

using self_ptr =
    group_supervisor_actor::stateful_pointer<group_supervisor_state>;
using child = group_supervisor_state::child;

// Restart timing runs on CAF's clock, so that deterministic tests move it.
int64_t now_ms(self_ptr self) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
      .count();
}

std::shared_ptr<spdlog::logger> log_sup() {
  auto log = spdlog::get("actors");
  return log ? log : spdlog::default_logger();
}

// What the registry shows of the supervisor: each child and its state.
void publish_state(self_ptr self) {
  auto& st = self->state;
  std::string text;
  for (auto& c : st.children) {
    if (!text.empty())
      text += ' ';
    text += c.spec.name + ':' + c.row.state;
    if (c.row.restarts > 0)
      text += '(' + std::to_string(c.row.restarts) + " restarts)";
  }
  st.ctx->registry.set_state(self->id(), std::move(text));
}

void changed(self_ptr self, child& c) {
  if (c.spec.on_change)
    c.spec.on_change(c.row, c.handle);
  publish_state(self);
}

// Tells the board what the child's breaker says (channels).
void report(self_ptr self, const child& c, breaker_state state,
            std::string reason) {
  auto& st = self->state;
  if (!st.health)
    return;
  service_status s;
  s.name = c.spec.name;
  s.layer = c.spec.layer;
  s.kind = c.spec.kind;
  s.state = state;
  s.given_up = c.row.state == "given_up";
  s.reason = std::move(reason);
  s.changed_us = now_us();
  self->send(st.health, service_atom::value, std::move(s));
}

void start(self_ptr self, child& c, const std::string& why) {
  c.handle = c.spec.spawn(self->system(), self->id());
  self->monitor(c.handle);
  c.started_ms = now_ms(self);
  c.row.state = "running";
  c.row.actor_id = c.handle.id();
  c.row.started_us = now_us();
  if (c.spec.report_status || c.row.restarts > 0)
    log_sup()->info("{}: {} {}", self->state.group, c.spec.name, why);
  if (c.spec.report_status)
    report(self, c, breaker_state::closed, why);
  changed(self, c);
}

void on_child_down(self_ptr self, child& c, const caf::error& reason) {
  auto& st = self->state;
  auto& metrics = st.ctx->metrics;
  auto why =
      reason ? self->system().render(reason) : std::string{"exited normally"};
  c.handle = nullptr;
  c.row.actor_id = 0;
  c.row.last_failure = why;
  auto decision = c.policy.on_failure(now_ms(self), c.started_ms);
  c.row.restarts_in_window = decision.restarts_in_window;
  if (st.health)
    self->send(st.health, error_atom::value, std::string{"crash"}, c.spec.name,
               st.group + " child " + c.spec.name + " failed: " + why + "; "
                   + decision.reason);
  if (decision.restart) {
    ++c.row.restarts;
    c.row.state = "restarting";
    metrics.supervisor_restarts.fetch_add(1, std::memory_order_relaxed);
    self->delayed_send(self, std::chrono::milliseconds{decision.delay_ms},
                       restart_atom::value, c.spec.name, ++c.generation);
    changed(self, c);
    return;
  }
  c.row.state = "given_up";
  metrics.supervisor_given_up.fetch_add(1, std::memory_order_relaxed);
  log_sup()->error("{}: gave up on {}: {}", st.group, c.spec.name,
                   decision.reason);
  // The child's breaker, held open until an admin resets it; the board
  // records the give-up and sends the alert.
  report(self, c, breaker_state::open,
         decision.reason + " (last failure: " + why + ")");
  changed(self, c);
}

child* find(self_ptr self, const std::string& name) {
  for (auto& c : self->state.children)
    if (c.spec.name == name)
      return &c;
  return nullptr;
}

} // namespace

group_supervisor_actor::behavior_type group_supervisor(
    group_supervisor_actor::stateful_pointer<group_supervisor_state> self,
    context_ptr ctx, group_spec spec, health_actor health, uint64_t parent) {
  auto& st = self->state;
  enroll(self, ctx, actor_kind::supervisor, spec.name, parent);
  st.ctx = std::move(ctx);
  st.group = spec.name;
  st.health = std::move(health);
  if (st.health)
    self->send(st.health, group_atom::value, st.group,
               caf::actor_cast<group_supervisor_actor>(self));
  st.children.reserve(spec.children.size());
  for (auto& cs : spec.children) {
    child c{std::move(cs), restart_policy{spec.policy}, {}, {}, 0, 0};
    c.row.name = c.spec.name;
    c.row.layer = c.spec.layer;
    st.children.push_back(std::move(c));
  }
  for (auto& c : st.children)
    start(self, c, "started");
  self->set_down_handler([=](caf::down_msg& msg) {
    if (self->state.stopping)
      return;
    for (auto& c : self->state.children)
      if (c.handle && c.handle.address() == msg.source) {
        on_child_down(self, c, msg.reason);
        return;
      }
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    for (auto& c : st.children)
      if (c.handle)
        self->send_exit(c.handle, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](revive_atom, const std::string& name, const std::string& who) {
        auto* c = find(self, name);
        if (c == nullptr || c->row.state != "given_up")
          return false;
        c->policy.reset();
        c->row.restarts_in_window = 0;
        self->state.ctx->metrics.supervisor_revived.fetch_add(
            1, std::memory_order_relaxed);
        start(self, *c, "reset by " + who);
        return true;
      },
      [=](status_atom) {
        std::vector<child_row> rows;
        auto now = now_ms(self);
        for (auto& c : self->state.children) {
          rows.push_back(c.row);
          rows.back().restarts_in_window = c.policy.restarts_in_window(now);
        }
        return rows;
      },
      [=](restart_atom, const std::string& name, uint64_t generation) {
        auto* c = find(self, name);
        if (c == nullptr || c->generation != generation
            || c->row.state != "restarting" || self->state.stopping)
          return;
        start(self, *c, "restarted after: " + c->row.last_failure);
      },
  };
}

} // namespace herald::actors
