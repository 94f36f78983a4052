#pragma once

// The commands that watch rather than ask once: wait-cluster polls until
// the cluster has its members, follow prints a stream of events or an
// actor's figures. Both stop on Ctrl-C with exit_interrupted.

#include "commands.hpp"

namespace herald::ctl {

/// `wait-cluster N [--timeout S]`: progress on stderr, exit_timeout when
/// the cluster is still short of N members after S seconds (default 60).
int wait_cluster(const context& ctx, const command_spec& spec,
                 const arguments& a);

/// `follow topic PATTERN` / `follow actor NODE/ID` [--count N]
/// [--interval MS].
int follow(const context& ctx, const command_spec& spec, const arguments& a);

/// A whole number from `text`, or -1 when it is not one.
long long whole_number(const std::string& text);

/// Sleeps up to `ms`, waking early on Ctrl-C; false when interrupted.
bool nap(long long ms);

} // namespace herald::ctl
