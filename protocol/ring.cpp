#include "protocol/ring.hpp"

#include <algorithm>

namespace herald::protocol {

uint64_t ring_hash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // splitmix64's finalizer: FNV-1a alone clusters keys that differ only in
  // their last bytes (topic ids), which a ring of few points would show.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

owner_ring::owner_ring(std::vector<std::string> members, unsigned points)
    : members_(std::move(members)) {
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
  points_.reserve(members_.size() * points);
  for (uint32_t m = 0; m < members_.size(); ++m)
    for (unsigned p = 0; p < points; ++p)
      points_.emplace_back(ring_hash(members_[m] + '#' + std::to_string(p)), m);
  std::sort(points_.begin(), points_.end());
}

const std::string& owner_ring::owner_of(std::string_view key) const {
  auto h = ring_hash(key);
  auto i = std::lower_bound(points_.begin(), points_.end(),
                            std::make_pair(h, uint32_t{0}));
  if (i == points_.end())
    i = points_.begin();
  return members_[i->second];
}

} // namespace herald::protocol
