#pragma once

// The interactive console: a `herald> ` prompt with GNU readline's line
// editing, a history kept in ~/.herald_ctl_history, and completion of
// command names, flags, actor ids, topic patterns and service names.

#include "commands.hpp"

namespace herald::ctl {

/// Runs the prompt until quit, exit or Ctrl-D; returns exit_ok.
int run_console(context& ctx);

} // namespace herald::ctl
