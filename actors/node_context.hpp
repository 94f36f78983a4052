#pragma once

// What every actor of a node may read: the settings (immutable after start)
// the metrics (atomic counters) and the registry of live actors.

#include "actors/handles.hpp"
#include "actors/registry.hpp"
#include "config/settings.hpp"
#include "protocol/metrics.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

/// The endpoints and whether each takes sessions now. Written by the
/// channels' supervisor (one writer), read by HTTP sessions at upgrade.
class channel_directory {
public:
  enum class availability : uint8_t { up, restarting, tripped };
  struct entry {
    availability state = availability::restarting;
    channel_actor handle; ///< set while up
    /// false: a public endpoint, open without a token (herald/sdk.hpp).
    bool requires_identity = true;
  };

  void set(const std::string& name, entry e) {
    std::lock_guard<std::mutex> guard{mutex_};
    entries_[name] = std::move(e);
  }
  /// None when no channel serves `name`.
  std::optional<entry> find(const std::string& name) const {
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = entries_.find(name);
    if (it == entries_.end())
      return std::nullopt;
    return it->second;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

struct node_context {
  config::settings settings;
  /// Random per start: positions and owner stamps of a restarted node
  /// never collide with its previous life.
  std::string epoch;
  cluster_view cluster;
  protocol::node_metrics metrics;
  actor_registry registry;
  channel_directory channels;
  /// When the node started (system clock, ms since the epoch).
  int64_t started_ms = 0;
  /// Where the public and admin listeners answer (set once they listen).
  std::string public_url;
  std::string admin_url;
};

using context_ptr = std::shared_ptr<node_context>;

} // namespace herald::actors
