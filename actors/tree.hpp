#pragma once

// The groups of the supervision tree the node starts (actors/supervisor.hpp):
// the monitors, one per configured service, and the channels, one per
// endpoint of a built-in channel or a loaded plugin (docs/plugins.md).

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "actors/supervisor.hpp"

#include "herald/sdk.hpp"

#include <memory>
#include <string>
#include <vector>

namespace herald::actors {

/// The monitors' group: one monitor per `ctx->settings.services`.
group_spec monitor_group(const context_ptr& ctx, prober_actor prober,
                         router_actor router, health_actor health);

/// Where a channel comes from: a descriptor, built in or loaded.
struct channel_source {
  std::shared_ptr<const sdk::descriptor> descriptor;
  std::shared_ptr<const void> config; ///< what its parse_config returned;
                                      ///< none for built-ins
  /// Built-in channels enroll themselves in the registry (with their
  /// message counters); a plugin's actor is enrolled by the node.
  bool builtin = false;
};

/// The descriptors of the enabled built-in channels (circuit-breaker,
/// monitor, drill): the same descriptor a plugin exports.
std::vector<channel_source> builtin_channels(const context_ptr& ctx,
                                             health_actor health);

/// The endpoints the built-in channels take, per the settings.
std::vector<std::string> builtin_endpoints(const config::settings& cfg);

/// What plugin channels are given besides their configuration.
struct channel_wiring {
  sdk::node_actor node;
  sdk::store_actor store;
};

/// The channels' group: one child per endpoint of each source; each
/// child's availability goes into `ctx->channels` for the HTTP side.
group_spec channel_group(const context_ptr& ctx,
                         const std::vector<channel_source>& sources,
                         const channel_wiring& wiring);

} // namespace herald::actors
