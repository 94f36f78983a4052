#pragma once

namespace herald::protocol {

/// The node's version, as `heraldd --version` and the monitor endpoint
/// show it.
inline constexpr const char* version = "0.1.0";

} // namespace herald::protocol
