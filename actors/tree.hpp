#pragma once

// The groups of the supervision tree the node starts (actors/supervisor.hpp):
// the monitors, one per configured service, and the channels, one per
// enabled endpoint.

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "actors/supervisor.hpp"

namespace herald::actors {

/// The monitors' group: one monitor per `ctx->settings.services`.
group_spec monitor_group(const context_ptr& ctx, prober_actor prober,
                         router_actor router, health_actor health);

/// The channels' group: one channel per enabled endpoint; each child's
/// availability goes into `ctx->channels` for the HTTP side.
group_spec channel_group(const context_ptr& ctx, health_actor health);

} // namespace herald::actors
