#pragma once

// The frame budget of a client connection (PROTOCOL §4), shared by `/ws`
// connections and channel sessions: a token bucket, RATE_LIMITED answers,
// and a close with 1008 after too many of them in a row.

#include "actors/clock.hpp"
#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "protocol/rate_limiter.hpp"
#include "protocol/ws_codec.hpp"

#include <cstdint>

namespace herald::actors {

enum class budget_verdict : uint8_t {
  pass,   ///< within budget
  refuse, ///< over: answer RATE_LIMITED
  closed, ///< over too often: the sink is closing with 1008
};

/// Spends one token for a client frame; counts refusals and closes.
inline budget_verdict spend_frame_budget(protocol::token_bucket& bucket,
                                         uint32_t& strikes, node_context& ctx,
                                         outbound_sink& sink) {
  if (bucket.take(steady_us())) {
    strikes = 0;
    return budget_verdict::pass;
  }
  ctx.metrics.rate_limited.fetch_add(1, std::memory_order_relaxed);
  if (++strikes <= ctx.settings.limits.rate_strikes_to_close)
    return budget_verdict::refuse;
  ctx.metrics.rate_limit_closes.fetch_add(1, std::memory_order_relaxed);
  sink.close(protocol::ws::close_code::policy_violation, "rate limit exceeded");
  return budget_verdict::closed;
}

} // namespace herald::actors
