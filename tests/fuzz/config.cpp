// The configuration file (config/herald.example.jsonc): its text applied
// over the defaults by config::apply_file_text, which walks every key of the
// table and runs each key's own parser (the permission rules, services,
// history rules, schema bindings, plugins.load). An error is one line
// naming the key; an accepted file's settings describe themselves as JSON.

#include "fuzz.hpp"

#include "config/describe.hpp"
#include "config/loader.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herald::config::settings cfg;
  auto err = herald::config::apply_file_text(herald::fuzz::text_of(data, size),
                                             "fuzz.jsonc", cfg);
  if (!err.empty()) {
    HERALD_FUZZ_CHECK(err.rfind("config: ", 0) == 0);
    HERALD_FUZZ_CHECK(err.find('\n') == std::string::npos);
    return 0;
  }
  HERALD_FUZZ_CHECK(
      herald::fuzz::is_json(herald::config::describe_settings(cfg)));
  return 0;
}
