#include "protocol/breaker.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

namespace herald::protocol {

namespace {

breaker_settings clamped(breaker_settings s) {
  s.window = std::clamp<uint32_t>(s.window, 1, max_breaker_window);
  s.half_open_trials = std::max<uint32_t>(s.half_open_trials, 1);
  s.close_after = std::clamp<uint32_t>(s.close_after, 1, s.half_open_trials);
  return s;
}

// "1 success", "2 successes": reasons end up in logs and events.
std::string counted(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + ' ' + (n == 1 ? one : many);
}

} // namespace

std::string check(const breaker_settings& s) {
  if (s.failure_threshold < 1)
    return "failure_threshold: must be at least 1";
  // Written so that NaN fails too.
  if (!(s.failure_ratio > 0.0 && s.failure_ratio <= 1.0))
    return "failure_ratio: must be above 0 and at most 1";
  if (s.window < 1)
    return "window: must be at least 1";
  if (s.window > max_breaker_window)
    return "window: must be at most " + std::to_string(max_breaker_window);
  if (s.min_results < 1)
    return "min_results: must be at least 1";
  if (s.min_results > s.window)
    return "min_results: must be at most window";
  if (s.open_ms < 1)
    return "open_ms: must be at least 1";
  if (s.half_open_trials < 1)
    return "half_open_trials: must be at least 1";
  if (s.close_after < 1)
    return "close_after: must be at least 1";
  if (s.close_after > s.half_open_trials)
    return "close_after: must be at most half_open_trials";
  return {};
}

const char* to_string(breaker_state state) {
  switch (state) {
  case breaker_state::closed:
    return "closed";
  case breaker_state::open:
    return "open";
  case breaker_state::half_open:
    return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(breaker_settings settings)
    : settings_(clamped(settings)),
      last_ms_(std::numeric_limits<int64_t>::min()) {
  // The one allocation of the ratio window; consecutive mode never reads it
  // but a byte per result is not worth a second code path.
  window_.assign(settings_.window, 0);
}

bool circuit_breaker::admit(int64_t now_ms) {
  observe(now_ms);
  switch (state_) {
  case breaker_state::closed:
    return true;
  case breaker_state::open: {
    if (held_)
      return false;
    auto elapsed = now_ms - opened_at_ms_;
    if (elapsed < static_cast<int64_t>(settings_.open_ms))
      return false;
    enter(breaker_state::half_open, now_ms,
          "open for " + std::to_string(elapsed) + " ms");
    ++in_flight_;
    return true;
  }
  case breaker_state::half_open:
    if (in_flight_ >= settings_.half_open_trials)
      return false;
    ++in_flight_;
    return true;
  }
  return false;
}

void circuit_breaker::record_success(int64_t now_ms) {
  observe(now_ms);
  ++total_successes_;
  switch (state_) {
  case breaker_state::closed:
    record_closed(false, now_ms);
    break;
  case breaker_state::open:
    break;
  case breaker_state::half_open:
    // No trial unsettled: an answer to a call admitted before the breaker
    // opened. It says nothing about the service now.
    if (in_flight_ == 0)
      break;
    --in_flight_;
    if (++trial_successes_ >= settings_.close_after)
      enter(breaker_state::closed, now_ms,
            counted(trial_successes_, "success", "successes")
                + " in half-open");
    break;
  }
}

void circuit_breaker::record_failure(int64_t now_ms) {
  observe(now_ms);
  ++total_failures_;
  switch (state_) {
  case breaker_state::closed:
    record_closed(true, now_ms);
    break;
  case breaker_state::open:
    break;
  case breaker_state::half_open:
    if (in_flight_ == 0)
      break;
    enter(breaker_state::open, now_ms, "failure in half-open");
    break;
  }
}

void circuit_breaker::reset(int64_t now_ms, std::string reason) {
  observe(now_ms);
  enter(breaker_state::closed, now_ms, std::move(reason));
}

void circuit_breaker::force_open(int64_t now_ms, std::string reason) {
  observe(now_ms);
  enter(breaker_state::open, now_ms, std::move(reason));
  held_ = true;
}

std::vector<breaker_transition> circuit_breaker::take_transitions() {
  std::vector<breaker_transition> out;
  out.swap(transitions_);
  return out;
}

int64_t circuit_breaker::opened_at_ms() const {
  return state_ == breaker_state::closed ? -1 : opened_at_ms_;
}

int64_t circuit_breaker::next_attempt_ms() const {
  if (state_ != breaker_state::open || held_)
    return -1;
  return opened_at_ms_ + settings_.open_ms;
}

void circuit_breaker::observe(int64_t now_ms) {
  // A clock stepping back counts as no time passed: the open period keeps
  // the time it had already served and runs on from the new reading.
  // Clamping to the latest reading instead (as token_bucket does) would
  // keep a breaker open for as long as the step was, hours after an NTP
  // fix.
  if (now_ms < last_ms_ && state_ != breaker_state::closed)
    opened_at_ms_ -= last_ms_ - now_ms;
  last_ms_ = now_ms;
}

void circuit_breaker::record_closed(bool failed, int64_t now_ms) {
  consecutive_ = failed ? consecutive_ + 1 : 0;
  if (settings_.trip == breaker_settings::trip_rule::consecutive) {
    if (consecutive_ >= settings_.failure_threshold)
      enter(
          breaker_state::open, now_ms,
          counted(consecutive_, "consecutive failure", "consecutive failures"));
    return;
  }
  // Ratio: O(1) per result, the ring overwrites its oldest slot.
  if (window_count_ == settings_.window)
    window_failures_ -= window_[window_next_];
  else
    ++window_count_;
  window_[window_next_] = failed ? 1 : 0;
  window_failures_ += failed ? 1 : 0;
  window_next_ = (window_next_ + 1) % settings_.window;
  // Checked after a success too: the success that brings the window up to
  // min_results may find the ratio already at the threshold.
  if (window_count_ < settings_.min_results)
    return;
  auto ratio = static_cast<double>(window_failures_) / window_count_;
  if (ratio < settings_.failure_ratio)
    return;
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", ratio);
  enter(breaker_state::open, now_ms,
        std::string{"failure ratio "} + text + " over "
            + counted(window_count_, "result", "results"));
}

void circuit_breaker::enter(breaker_state to, int64_t now_ms,
                            std::string reason) {
  auto from = state_;
  transitions_.push_back({from, to, std::move(reason), now_ms});
  state_ = to;
  held_ = false;
  in_flight_ = 0;
  trial_successes_ = 0;
  switch (to) {
  case breaker_state::closed:
    opened_at_ms_ = -1;
    consecutive_ = 0;
    clear_window();
    break;
  case breaker_state::open:
    opened_at_ms_ = now_ms;
    if (from != breaker_state::open)
      ++times_opened_;
    break;
  case breaker_state::half_open:
    break;
  }
}

void circuit_breaker::clear_window() {
  // No need to zero the bytes: a slot is only read back once the ring is
  // full, by then every slot was written since this clear.
  window_next_ = 0;
  window_count_ = 0;
  window_failures_ = 0;
}

} // namespace herald::protocol
