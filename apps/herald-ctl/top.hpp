#pragma once

// `top`: the busiest actors of the cluster, by mailbox depth and by message
// rate, redrawn on the whole screen until `q` or Ctrl-C (or one frame with
// --once).

#include "commands.hpp"

namespace herald::ctl {

/// `top [--once] [--interval MS] [--limit N]`.
int run_top(const context& ctx, const command_spec& spec, const arguments& a);

} // namespace herald::ctl
