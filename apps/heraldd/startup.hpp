#pragma once

// What heraldd's main() needs before and as it starts listening, kept out
// of main.cpp: the node's own environment, the connection gate of the
// public listeners (docs/limits.md) and the development banner.

#include "config/settings.hpp"
#include "net/net_context.hpp"

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <string>

namespace herald::app {

/// The process environment's HERALD_* variables, for config::load.
std::map<std::string, std::string> herald_environment();

/// The connection limits the public listeners enforce, from limits.* and
/// the open-files limit, with their start-up lines (and a warning when
/// limits.max_connections is more than the descriptors allow).
std::shared_ptr<net::connection_gate> make_gate(const config::settings& cfg,
                                                spdlog::logger& log);

/// The lines a development node prints: the page with a token, the API
/// key, how to publish and mint tokens, the consoles.
void print_development_banner(const config::settings& cfg,
                              const std::string& url,
                              const std::string& admin_url);

} // namespace herald::app
