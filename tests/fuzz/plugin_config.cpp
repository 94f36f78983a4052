// Plugin configurations (docs/plugins.md): the `config` section of a
// `plugins.load` entry, handed as JSON text to each stock plugin's
// `descriptor::parse_config` once at load. The plugins are compiled into
// this target with their entry points renamed (tests/fuzz/CMakeLists.txt);
// the first byte picks the plugin, the rest is the section. The answer is a
// parsed configuration or a reason, never a throw.

#include "fuzz.hpp"

#include "herald/sdk.hpp"

#include <string>
#include <variant>

#define HERALD_FUZZ_PLUGIN(name)                                               \
  extern "C" const herald::sdk::descriptor* herald_plugin_descriptor_##name();
HERALD_FUZZ_PLUGIN(market)
HERALD_FUZZ_PLUGIN(system_settings)
HERALD_FUZZ_PLUGIN(notifications)
HERALD_FUZZ_PLUGIN(chat)
HERALD_FUZZ_PLUGIN(contest)
HERALD_FUZZ_PLUGIN(analytics)
HERALD_FUZZ_PLUGIN(skyduel)
#undef HERALD_FUZZ_PLUGIN

namespace {

using entry = const herald::sdk::descriptor* (*)();

const entry plugins[] = {
    herald_plugin_descriptor_market,
    herald_plugin_descriptor_system_settings,
    herald_plugin_descriptor_notifications,
    herald_plugin_descriptor_chat,
    herald_plugin_descriptor_contest,
    herald_plugin_descriptor_analytics,
    herald_plugin_descriptor_skyduel,
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  constexpr std::size_t count = sizeof(plugins) / sizeof(plugins[0]);
  auto* d = plugins[data[0] % count]();
  HERALD_FUZZ_CHECK(d != nullptr && d->parse_config);
  std::string json{herald::fuzz::text_of(data + 1, size - 1)};
  auto r = d->parse_config(json);
  if (auto* why = std::get_if<std::string>(&r))
    HERALD_FUZZ_CHECK(!why->empty());
  else
    HERALD_FUZZ_CHECK(std::get<std::shared_ptr<const void>>(r) != nullptr);
  return 0;
}
