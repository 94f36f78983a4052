#include "actors/plugins/loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace herald::actors {

namespace fs = std::filesystem;

namespace {

std::string exe_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{"."} : exe.parent_path().string();
}

bool valid_endpoint_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return false;
  return true;
}

std::string resolve(const std::string& path,
                    const std::vector<std::string>& dirs) {
  if (path.find('/') != std::string::npos)
    return path;
  for (auto& d : dirs) {
    auto candidate = fs::path{d} / path;
    if (fs::exists(candidate))
      return candidate.string();
  }
  return path;
}

} // namespace

std::vector<std::string> plugin_search_dirs(const config::settings& cfg) {
  if (!cfg.plugins.dir.empty())
    return {cfg.plugins.dir};
  auto dir = exe_dir();
  return {dir + "/plugins", dir + "/../lib/herald/plugins"};
}

std::string check_descriptor(const sdk::descriptor& d) {
  if (d.name.empty())
    return "the descriptor has no name";
  if (d.endpoints.empty())
    return "the descriptor serves no endpoint";
  for (auto& e : d.endpoints)
    if (!valid_endpoint_name(e.name))
      return "endpoint '" + e.name
             + "' is not 1 to 64 characters of [A-Za-z0-9_-]";
  if (!d.spawn)
    return "the descriptor has no spawn function";
  return {};
}

std::variant<std::vector<loaded_plugin>, std::string>
load_plugins(const config::settings& cfg,
             const std::vector<std::string>& taken) {
  std::vector<loaded_plugin> out;
  std::set<std::string> names;
  std::set<std::string> endpoints(taken.begin(), taken.end());
  auto dirs = plugin_search_dirs(cfg);
  auto& list = cfg.plugins.load;
  for (size_t i = 0; i < list.size(); ++i) {
    auto key = "plugins.load[" + std::to_string(i) + "]";
    auto fail = [&](const std::string& why) {
      return key + " (" + list[i].path + "): " + why;
    };
    auto path = resolve(list[i].path, dirs);
    void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* err = ::dlerror();
      std::string where;
      if (list[i].path.find('/') == std::string::npos) {
        where = " (looked in";
        for (auto& d : dirs)
          where += " " + d;
        where += "; plugins.dir sets where)";
      }
      return fail(std::string{"cannot load: "} + (err ? err : "unknown")
                  + where);
    }
    std::shared_ptr<void> handle{lib, [](void*) {
                                   // Kept mapped until exit: a channel's
                                   // code may still run in a dying actor.
                                 }};
    auto entry =
        reinterpret_cast<sdk::entry_function>(::dlsym(lib, sdk::entry_point));
    if (entry == nullptr)
      return fail(std::string{"no "} + sdk::entry_point
                  + " function: not a Herald plugin");
    auto* d = entry();
    if (d == nullptr)
      return fail("its descriptor is null");
    // Only the two leading fields are read before these checks pass.
    if (d->abi_version != sdk::abi_version)
      return fail("built for plugin ABI " + std::to_string(d->abi_version)
                  + ", this node speaks ABI " + std::to_string(sdk::abi_version)
                  + ": rebuild it");
    if (d->caf_version != CAF_VERSION)
      return fail("built against CAF " + std::to_string(d->caf_version)
                  + ", this node runs CAF " + std::to_string(CAF_VERSION)
                  + ": rebuild it");
    if (auto problem = check_descriptor(*d); !problem.empty())
      return fail(problem);
    if (!list[i].name.empty() && list[i].name != d->name)
      return fail("the library is plugin '" + d->name + "', not '"
                  + list[i].name + "'");
    if (!names.insert(d->name).second)
      return fail("a plugin named '" + d->name + "' is loaded already");
    for (auto& e : d->endpoints)
      if (!endpoints.insert(e.name).second)
        return fail("endpoint /api/v69/ws/" + e.name + " is served already");
    loaded_plugin p;
    p.path = path;
    p.descriptor = d;
    p.library = std::move(handle);
    if (d->parse_config) {
      sdk::config_result parsed;
      try {
        parsed = d->parse_config(list[i].config_json);
      } catch (const std::exception& e) {
        parsed = std::string{"threw: "} + e.what();
      }
      if (auto* why = std::get_if<std::string>(&parsed))
        return key + ".config: plugin '" + d->name + "': " + *why;
      p.config = std::get<std::shared_ptr<const void>>(std::move(parsed));
    }
    out.push_back(std::move(p));
  }
  return out;
}

} // namespace herald::actors
