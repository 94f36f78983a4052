#pragma once

// What every actor of a node may read: the settings (immutable after start)
// the metrics (atomic counters) and the registry of live actors.

#include "actors/registry.hpp"
#include "config/settings.hpp"
#include "protocol/metrics.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::actors {

/// What /readyz and /metrics show of the cluster; written by the member
/// actor when members change, read by HTTP handlers.
class cluster_view {
public:
  struct snapshot {
    bool enabled = false;
    bool joined = false;
    std::string node;
    std::vector<std::string> members; ///< live, sorted, this node included
  };
  snapshot get() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return state_;
  }
  void set(snapshot s) {
    std::lock_guard<std::mutex> guard{mutex_};
    state_ = std::move(s);
  }

private:
  mutable std::mutex mutex_;
  snapshot state_;
};

struct node_context {
  config::settings settings;
  /// Random per start: positions and owner stamps of a restarted node
  /// never collide with its previous life.
  std::string epoch;
  cluster_view cluster;
  protocol::node_metrics metrics;
  actor_registry registry;
};

using context_ptr = std::shared_ptr<node_context>;

} // namespace herald::actors
