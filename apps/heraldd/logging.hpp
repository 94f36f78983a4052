#pragma once

#include "config/settings.hpp"

namespace herald::app {

/// Creates the named loggers (node, net, actors) writing to stderr, as text
/// or as JSON lines per `log.format`, at `log.level`.
void setup_logging(const config::log_settings& settings);

} // namespace herald::app
