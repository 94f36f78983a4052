#pragma once

// Reads the node's configuration from its command line, its environment and
// one file, merges them over the defaults and validates the result. The keys
// and their rules live in one table (config/schema.cpp) and are documented
// in config/herald.example.jsonc.

#include "config/settings.hpp"

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::config {

/// What heraldd was asked to do, with the configuration to do it with.
struct invocation {
  enum class mode { run, check, help, version } what = mode::run;
  settings cfg;
  std::string config_file; ///< empty: development configuration
};

/// Parses heraldd's command line, the environment (HERALD_* variables) and
/// the configuration file. `args` are the arguments after the program name
/// (argv[1]..argv[argc-1]); `env` is the whole environment (other variables
/// are ignored). Precedence: flag > environment > file > defaults. On error
/// returns ONE line: "config: <dotted.key>: <problem>" (or
/// "config: <file>: <line:col> <parse problem>"); never a secret's value.
/// --help and --version return at once with the defaults in `cfg`.
std::variant<invocation, std::string>
load(const std::vector<std::string>& args,
     const std::map<std::string, std::string>& env);

/// Applies the text of a configuration file (one JSON object; comments and
/// trailing commas allowed) over `cfg`, with the error lines load() gives
/// for the file named `name`. Reads no other file: the RS256 public key and
/// the bound schemas are read by load() alone. Returns empty on success.
std::string apply_file_text(std::string_view text, const std::string& name,
                            settings& cfg);

/// The --help text: the flags, then every key with its type, default,
/// environment variable and doc.
std::string usage();

/// Development defaults: used when no --config/--check-config is given.
inline constexpr const char* dev_hs256_secret = "herald-dev-secret-change-me";
/// The publish API key of the development configuration.
inline constexpr const char* dev_api_key = "dev-api-key";

} // namespace herald::config
