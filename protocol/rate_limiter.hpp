#pragma once

#include <cstdint>

namespace herald::protocol {

/// A token bucket: `rate` tokens per second, at most `burst` stored.
/// Not thread-safe; one per connection, owned by its actor.
class token_bucket {
public:
  token_bucket(double rate_per_second, double burst);

  /// Takes one token at time `now_us`; false when the bucket is empty.
  bool take(int64_t now_us);

private:
  double rate_per_us_;
  double burst_;
  double tokens_;
  int64_t last_us_ = -1;
};

} // namespace herald::protocol
