#include "actors/tree.hpp"

#include "actors/channel.hpp"
#include "actors/channels/common.hpp"
#include "actors/instrument.hpp"
#include "actors/monitor.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

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

namespace {

// A built-in channel's descriptor: its spawn function closes over what the
// node gives built-ins (the health board) and takes the rest from the host.
channel_source
builtin(std::string name,
        std::function<caf::actor(caf::actor_system&, const sdk::host&)> spawn) {
  auto d = std::make_shared<sdk::descriptor>();
  d->name = name;
  d->endpoints.push_back({name, true});
  d->spawn = std::move(spawn);
  channel_source src;
  src.descriptor = std::move(d);
  src.builtin = true;
  return src;
}

// A channel that failed to spawn (its spawn function threw or returned
// nothing) still gives its supervisor a child to watch: one that dies at
// once with the reason, so the restart policy applies as to a crash.
caf::actor failed_child(caf::actor_system& sys, std::string why) {
  return sys.spawn([why](caf::event_based_actor* self) {
    self->quit(caf::make_error(caf::sec::runtime_error, why));
  });
}

sdk::host make_host(const context_ptr& ctx, const channel_source& src,
                    const std::string& endpoint, const channel_wiring& wiring,
                    uint64_t parent) {
  sdk::host h;
  h.endpoint = endpoint;
  h.node_name = ctx->settings.node_name;
  h.supervisor_id = parent;
  h.node = wiring.node;
  h.store = wiring.store;
  h.config = src.config;
  h.make_frame = [](std::string_view type, std::string_view data,
                    const std::optional<std::string>& id) {
    return channel_frame(type, data, id);
  };
  h.make_error = [](std::string_view type, std::string_view code,
                    std::string_view message, std::string_view request,
                    const std::optional<std::string>& id) {
    return channel_error(code, message, request, id, type);
  };
  h.enroll = [ctx, parent](caf::actor a, std::string name) {
    if (!ctx->settings.actor_counters || !a)
      return;
    auto id = a.id();
    ctx->registry.enroll(id, actor_kind::channel, std::move(name), parent);
    a->attach_functor([ctx, id] { ctx->registry.retire(id); });
    // The console may stop it (docs/console.md); its supervisor restarts it.
    ctx->registry.set_stopper(id,
                              [addr = a.address()](const std::string& reason) {
                                exit_with_reason(addr, reason);
                              });
  };
  return h;
}

} // namespace

std::vector<channel_source> builtin_channels(const context_ptr& ctx,
                                             health_actor health) {
  std::vector<channel_source> out;
  auto& ch = ctx->settings.channels;
  if (ch.circuit_breaker)
    out.push_back(builtin("circuit-breaker",
                          [=](caf::actor_system& sys, const sdk::host& h) {
                            return channels::spawn_circuit_breaker_channel(
                                sys, ctx, health, h.supervisor_id);
                          }));
  if (ch.monitor)
    out.push_back(builtin("monitor", [=](caf::actor_system& sys,
                                         const sdk::host& h) {
      return channels::spawn_monitor_channel(sys, ctx, health, h.supervisor_id);
    }));
  if (ch.drill)
    out.push_back(
        builtin("drill", [=](caf::actor_system& sys, const sdk::host& h) {
          return channels::spawn_drill_channel(sys, ctx, h.supervisor_id);
        }));
  return out;
}

std::vector<std::string> builtin_endpoints(const config::settings& cfg) {
  std::vector<std::string> out;
  if (cfg.channels.circuit_breaker)
    out.emplace_back("circuit-breaker");
  if (cfg.channels.monitor)
    out.emplace_back("monitor");
  if (cfg.channels.drill)
    out.emplace_back("drill");
  return out;
}

group_spec channel_group(const context_ptr& ctx,
                         const std::vector<channel_source>& sources,
                         const channel_wiring& wiring) {
  group_spec group{"channels", ctx->settings.supervision, {}};
  for (auto& src : sources) {
    for (auto& ep : src.descriptor->endpoints) {
      child_spec c;
      c.name = ep.name;
      c.layer = "channels";
      c.kind = "channel";
      c.report_status = true;
      auto endpoint = ep.name;
      c.spawn = [=](caf::actor_system& sys, uint64_t parent) -> caf::actor {
        auto host = make_host(ctx, src, endpoint, wiring, parent);
        caf::actor h;
        try {
          h = src.descriptor->spawn(sys, host);
        } catch (const std::exception& e) {
          return failed_child(sys, "spawn threw: " + std::string{e.what()});
        }
        if (!h)
          return failed_child(sys, "spawn returned no actor");
        // Built-ins enroll themselves, with their message counters.
        if (!src.builtin)
          host.enroll(h, src.descriptor->name + ":" + endpoint);
        return h;
      };
      c.on_change = [ctx, endpoint, open = !ep.requires_identity](
                        const child_row& row, const caf::actor& h) {
        using avail = channel_directory::availability;
        channel_directory::entry e;
        e.state = row.state == "running"    ? avail::up
                  : row.state == "given_up" ? avail::tripped
                                            : avail::restarting;
        if (e.state == avail::up)
          e.handle = caf::actor_cast<channel_actor>(h);
        e.requires_identity = !open;
        ctx->channels.set(endpoint, std::move(e));
      };
      group.children.push_back(std::move(c));
    }
  }
  return group;
}

} // namespace herald::actors
