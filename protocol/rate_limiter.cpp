#include "protocol/rate_limiter.hpp"

#include <algorithm>

namespace herald::protocol {

token_bucket::token_bucket(double rate_per_second, double burst)
    : rate_per_us_(std::max(0.0, rate_per_second) / 1e6),
      burst_(std::max(0.0, burst)), tokens_(burst_) {
  // Starts full: a client may send its whole burst right after connecting.
}

bool token_bucket::take(int64_t now_us) {
  // A clock that steps backwards refills nothing instead of draining.
  if (last_us_ >= 0 && now_us > last_us_)
    tokens_ = std::min(
        burst_,
        tokens_ + static_cast<double>(now_us - last_us_) * rate_per_us_);
  if (now_us > last_us_)
    last_us_ = now_us;
  if (tokens_ < 1.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

} // namespace herald::protocol
