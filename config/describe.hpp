#pragma once

// The node's effective settings as JSON, without its secrets: what the
// monitor endpoint's get_system_settings answers (docs/channels.md).

#include "config/settings.hpp"

#include <string>

namespace herald::config {

/// `{"<dotted.key>": value, ...}` for every key of the table, in table
/// order. Secret keys (the HS256 secret, the API keys) are left out; keys
/// holding structures show their shape: the services by name, layer and
/// probe; the permission rules by resource types and scopes; history rules
/// and schema bindings by pattern.
std::string describe_settings(const settings& cfg);

} // namespace herald::config
