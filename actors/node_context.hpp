#pragma once

// What every actor of a node may read: the settings (immutable after start)
// the metrics (atomic counters) and the registry of live actors.

#include "actors/registry.hpp"
#include "config/settings.hpp"
#include "protocol/metrics.hpp"

#include <memory>

namespace herald::actors {

struct node_context {
  config::settings settings;
  protocol::node_metrics metrics;
  actor_registry registry;
};

using context_ptr = std::shared_ptr<node_context>;

} // namespace herald::actors
