#pragma once

// What every actor of a node may read: the settings (immutable after start)
// and the metrics (atomic counters).

#include "config/settings.hpp"
#include "protocol/metrics.hpp"

#include <memory>

namespace herald::actors {

struct node_context {
  config::settings settings;
  protocol::node_metrics metrics;
};

using context_ptr = std::shared_ptr<node_context>;

} // namespace herald::actors
