#pragma once

// Loading channel plugins at start (docs/plugins.md): dlopen each library
// the configuration lists, check its ABI, parse its configuration once,
// and refuse duplicate names and endpoints. Any failure is one line naming
// the plugin and the configuration key, and the node does not start.

#include "config/settings.hpp"

#include "herald/sdk.hpp"

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace herald::actors {

/// A plugin in memory, ready to spawn its channels.
struct loaded_plugin {
  std::string path; ///< as resolved
  const sdk::descriptor* descriptor = nullptr;
  std::shared_ptr<const void> config; ///< what parse_config returned
  /// Keeps the library mapped (never unloaded before exit: its code runs
  /// in actors until then).
  std::shared_ptr<void> library;
};

/// Where a relative plugin path is looked for: `plugins.dir` when set,
/// else `<dir of heraldd>/plugins` then `<dir of heraldd>/../lib/herald/
/// plugins`.
std::vector<std::string> plugin_search_dirs(const config::settings& cfg);

/// Loads every plugin of `cfg.plugins`. `taken` are the endpoints of the
/// built-in channels, which no plugin may claim. Returns the plugins, or
/// the start-up error line.
std::variant<std::vector<loaded_plugin>, std::string>
load_plugins(const config::settings& cfg,
             const std::vector<std::string>& taken);

/// Checks a descriptor against this node (abi and CAF versions, a name,
/// endpoints named like path segments, the two functions); returns the
/// problem or empty. Used by load_plugins, and by tests on built-in ones.
std::string check_descriptor(const sdk::descriptor& d);

} // namespace herald::actors
