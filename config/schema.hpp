#pragma once

// The key table: every configuration key with its type, range, default and
// documentation. One table drives the file reader, the environment, the
// flags, --help and validation (config/loader.cpp). Internal to the config
// module and its tests.

#include "config/settings.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace herald::config::detail {

/// What a key's value looks like.
enum class kind { string, choice, integer, real, boolean, string_list, object };

// `unsigned` fields (threads) and `uint32_t` fields share one alternative.
static_assert(std::is_same_v<unsigned, uint32_t>);

/// The settings field a key writes to.
using field = std::variant<
    std::string*, bool*, uint16_t*, uint32_t*, uint64_t*, int64_t*, double*,
    std::vector<std::string>*, protocol::permission_rules*,
    std::vector<protocol::history_rule>*,
    std::vector<protocol::schema_binding>*,
    std::vector<protocol::service_spec>*, std::vector<plugin_entry>*>;

/// One configuration key.
struct key_spec {
  std::string_view name; ///< dotted, e.g. `listen.port`
  kind type = kind::string;
  std::string_view doc;
  field (*locate)(settings&) = nullptr;
  /// Extra check of a string value; returns the problem or empty.
  std::string (*check)(const std::string&) = nullptr;
  uint64_t min = 0; ///< integer: inclusive range
  uint64_t max = 0;
  double real_min = 0; ///< real: range, lower bound exclusive when asked
  double real_max = 0;
  bool real_min_exclusive = false;
  std::vector<std::string_view> choices; ///< choice: allowed values
  /// A secret's value never appears in messages or --help.
  bool secret = false;
  /// object: parses the value (as compact JSON) into the settings; returns
  /// the problem, its path first (`[1].pattern: ...`), or empty. Without
  /// it, an object is the permission rules.
  std::string (*parse_json)(const std::string& json, settings& cfg) = nullptr;
  /// Shown instead of the kind's own name in messages and --help.
  std::string_view type_note;
  /// Shown by --help instead of the rendered default, when not empty.
  std::string_view default_note;
};

/// The whole table, in documentation order.
const std::vector<key_spec>& keys();

/// The key named `name`, or nullptr.
const key_spec* find_key(std::string_view name);

/// True when some key starts with `prefix` followed by a dot.
bool is_key_prefix(std::string_view prefix);

/// `HERALD_` + the key upper-cased with dots turned into underscores.
std::string env_name(std::string_view key);

/// A short type description for --help: `integer 0..65535`, `string`, ...
std::string type_name(const key_spec& spec);

/// The key's default, rendered for --help.
std::string default_text(const key_spec& spec);

/// Validates `value` against the spec and stores it into `cfg`. Returns
/// empty on success, else `<key>: <problem>` (the key may be refined, e.g.
/// `auth.api_keys[2]` or `permissions.rules[0]`).
std::string apply(const key_spec& spec, const rapidjson::Value& value,
                  settings& cfg);

/// `value` as compact JSON, cut to about `max_len` characters.
std::string render(const rapidjson::Value& value, size_t max_len = 40);

} // namespace herald::config::detail
