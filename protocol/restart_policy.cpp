#include "protocol/restart_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace herald::protocol {

namespace {

restart_settings clamped(restart_settings s) {
  s.max_restarts = std::min(s.max_restarts, max_restart_intensity);
  s.within_ms = std::max<uint32_t>(s.within_ms, 1);
  s.backoff_max_ms = std::max(s.backoff_max_ms, s.backoff_initial_ms);
  // Written so that NaN becomes 1 too. An infinite factor is left alone:
  // delay_for() caps it.
  if (!(s.backoff_factor >= 1.0))
    s.backoff_factor = 1.0;
  return s;
}

// "1 failure", "6 failures": reasons end up in logs and alerts.
std::string failures(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " failure" : " failures");
}

// b - a for a < b without the signed overflow of far-apart readings.
uint64_t distance(int64_t a, int64_t b) {
  return static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
}

} // namespace

std::string check(const restart_settings& s) {
  if (s.max_restarts > max_restart_intensity)
    return "max_restarts: must be at most "
           + std::to_string(max_restart_intensity);
  if (s.within_ms < 1)
    return "within_ms: must be at least 1";
  if (s.backoff_max_ms < s.backoff_initial_ms)
    return "backoff_max_ms: must be at least backoff_initial_ms";
  // Written so that NaN fails too.
  if (!(s.backoff_factor >= 1.0) || std::isinf(s.backoff_factor))
    return "backoff_factor: must be a number of at least 1";
  return {};
}

restart_policy::restart_policy(restart_settings settings)
    : settings_(clamped(settings)) {
  // The one allocation of the window: a restart beyond max_restarts is
  // never recorded (it gives up instead), so the ring never grows.
  ring_.assign(settings_.max_restarts, 0);
}

restart_decision restart_policy::on_failure(int64_t now_ms,
                                            int64_t started_at_ms) {
  clock_ms_ = elapsed_to(now_ms);
  // Runs on from the new reading even after a step back: clamping to the
  // latest reading instead (as token_bucket does) would stop the window
  // from sliding for as long as the step was, hours after an NTP fix.
  last_ms_ = now_ms;
  seen_clock_ = true;
  if (given_up_)
    return give_up_;
  expire();
  auto window = std::to_string(settings_.within_ms) + " ms";
  if (count_ >= settings_.max_restarts) {
    given_up_ = true;
    give_up_ = {false, 0, count_,
                "gave up: " + failures(count_ + 1) + " within " + window};
    return give_up_;
  }
  // A start after now_ms: the clock stepped back while the child ran, how
  // long it ran is unknown. Counted as quick, so a doubtful reading costs
  // one more backoff step rather than a reset of the backoff.
  uint64_t uptime_ms =
      now_ms > started_at_ms ? distance(started_at_ms, now_ms) : uint64_t{0};
  if (uptime_ms >= settings_.reset_after_ms)
    quick_failures_ = 0;
  auto delay = delay_for(quick_failures_);
  if (quick_failures_ < std::numeric_limits<uint32_t>::max())
    ++quick_failures_;
  ring_[(head_ + count_) % settings_.max_restarts] = clock_ms_;
  ++count_;
  return {true, delay, count_,
          "restart " + std::to_string(count_) + " of "
              + std::to_string(settings_.max_restarts) + " in " + window
              + ", after " + std::to_string(delay) + " ms"};
}

void restart_policy::reset() {
  // The clock is kept: it is a reading of time, not history of the child.
  head_ = 0;
  count_ = 0;
  quick_failures_ = 0;
  given_up_ = false;
  give_up_ = {};
}

uint32_t restart_policy::restarts_in_window(int64_t now_ms) const {
  auto now = elapsed_to(now_ms);
  uint32_t n = 0;
  // Newest first: the ring is in time order, so the first restart outside
  // the window ends the count.
  for (uint32_t i = count_; i > 0; --i) {
    auto at = ring_[(head_ + i - 1) % settings_.max_restarts];
    if (now - at > settings_.within_ms)
      break;
    ++n;
  }
  return n;
}

uint64_t restart_policy::elapsed_to(int64_t now_ms) const {
  if (!seen_clock_ || now_ms <= last_ms_)
    return clock_ms_;
  auto step = distance(last_ms_, now_ms);
  // Saturates instead of wrapping: a wrapped clock would make every
  // restart look fresh again, or every one expired.
  auto max = std::numeric_limits<uint64_t>::max();
  return step > max - clock_ms_ ? max : clock_ms_ + step;
}

void restart_policy::expire() {
  while (count_ > 0 && clock_ms_ - ring_[head_] > settings_.within_ms) {
    head_ = (head_ + 1) % settings_.max_restarts;
    --count_;
  }
}

uint32_t restart_policy::delay_for(uint32_t k) const {
  // Checked first: 0 times an infinite power is NaN, not 0.
  if (settings_.backoff_initial_ms == 0)
    return 0;
  auto delay =
      settings_.backoff_initial_ms * std::pow(settings_.backoff_factor, k);
  // Written so that an infinite (overflowed) delay takes the cap too.
  if (!(delay < settings_.backoff_max_ms))
    return settings_.backoff_max_ms;
  // Rounded: 100 * 1.1^2 is 121.00000000000001, and a factor like 1.1 can
  // as well land just below a whole number.
  return static_cast<uint32_t>(delay + 0.5);
}

} // namespace herald::protocol
