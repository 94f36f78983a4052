// Plugins the loader must refuse (tests/e2e/plugins.test.mjs): one built
// for another ABI, one claiming a name already taken, one claiming a
// built-in endpoint, one whose spawn throws. Each is this file built with a
// different TEST_PLUGIN_KIND.

#include "herald/sdk.hpp"

#include <caf/all.hpp>

#include <stdexcept>

namespace {

caf::behavior echo(caf::event_based_actor*) {
  return {[](herald::sdk::open_atom, herald::sdk::client&) {},
          [](herald::sdk::frame_atom, uint64_t, std::string&) {},
          [](herald::sdk::closed_atom, uint64_t) {}};
}

herald::sdk::descriptor make() {
  herald::sdk::descriptor d;
#if TEST_PLUGIN_KIND == 1
  d.abi_version = herald::sdk::abi_version + 1;
  d.name = "future";
  d.endpoints = {{"future", true}};
#elif TEST_PLUGIN_KIND == 2
  d.name = "market"; // the stock plugin's name
  d.endpoints = {{"market-copy", true}};
#elif TEST_PLUGIN_KIND == 4
  d.name = "squatter";
  d.endpoints = {{"monitor", true}}; // the built-in monitor's endpoint
#else
  d.name = "thrower";
  d.endpoints = {{"thrower", true}};
#endif
  d.parse_config = [](const std::string&) -> herald::sdk::config_result {
    return std::shared_ptr<const void>{};
  };
  d.spawn = [](caf::actor_system& sys, const herald::sdk::host&) {
#if TEST_PLUGIN_KIND == 3
    throw std::runtime_error("thrower: no actor today");
#endif
    return sys.spawn(echo);
  };
  return d;
}

} // namespace

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d = make();
  return &d;
}
