#include "actors/tree.hpp"

#include "actors/channels/common.hpp"
#include "actors/monitor.hpp"

#include <caf/all.hpp>

namespace herald::actors {

group_spec monitor_group(const context_ptr& ctx, prober_actor prober,
                         router_actor router, health_actor health) {
  group_spec group{"monitors", ctx->settings.supervision, {}};
  for (auto& spec : ctx->settings.services) {
    child_spec c;
    c.name = spec.name;
    c.layer = spec.layer;
    c.kind = "upstream";
    c.spawn = [=](caf::actor_system& sys, uint64_t parent) {
      return caf::actor_cast<caf::actor>(
          sys.spawn(monitor, ctx, spec, prober, router, health, parent));
    };
    group.children.push_back(std::move(c));
  }
  return group;
}

group_spec channel_group(const context_ptr& ctx, health_actor health) {
  group_spec group{"channels", ctx->settings.supervision, {}};
  auto add = [&](std::string name,
                 std::function<caf::actor(caf::actor_system&, uint64_t)> fn) {
    child_spec c;
    c.name = name;
    c.layer = "channels";
    c.kind = "channel";
    c.report_status = true;
    c.spawn = std::move(fn);
    c.on_change = [ctx, name](const child_row& row, const caf::actor& h) {
      using avail = channel_directory::availability;
      channel_directory::entry e;
      e.state = row.state == "running"    ? avail::up
                : row.state == "given_up" ? avail::tripped
                                          : avail::restarting;
      if (e.state == avail::up)
        e.handle = caf::actor_cast<channel_actor>(h);
      ctx->channels.set(name, std::move(e));
    };
    group.children.push_back(std::move(c));
  };
  auto& ch = ctx->settings.channels;
  if (ch.circuit_breaker)
    add("circuit-breaker", [=](caf::actor_system& sys, uint64_t parent) {
      return channels::spawn_circuit_breaker_channel(sys, ctx, health, parent);
    });
  if (ch.monitor)
    add("monitor", [=](caf::actor_system& sys, uint64_t parent) {
      return channels::spawn_monitor_channel(sys, ctx, health, parent);
    });
  if (ch.drill)
    add("drill", [=](caf::actor_system& sys, uint64_t parent) {
      return channels::spawn_drill_channel(sys, ctx, parent);
    });
  return group;
}

} // namespace herald::actors
