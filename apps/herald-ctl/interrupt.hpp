#pragma once

// Ctrl-C: a flag the handler sets and long-running commands poll (follow,
// top, wait-cluster), so they stop cleanly instead of dying mid-write.

namespace herald::ctl {

/// Installs the SIGINT handler (no SA_RESTART: a blocked read returns).
void install_interrupt_handler();

/// True once Ctrl-C was pressed since the last clear_interrupt().
bool interrupted();

/// Forgets an earlier Ctrl-C (before each command at the prompt).
void clear_interrupt();

} // namespace herald::ctl
