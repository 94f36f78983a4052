#pragma once

#include <chrono>
#include <cstdint>

namespace herald::actors {

/// Wall-clock microseconds since the epoch (event timestamps, dedup).
inline int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

/// Monotonic microseconds (rate limiting).
inline int64_t steady_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch())
      .count();
}

} // namespace herald::actors
