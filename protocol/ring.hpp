#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol {

/// The consistent-hash ring that names each topic's owner among the live
/// members (docs/cluster.md, "Ownership"). Each member has `points`
/// virtual points, so a change of members moves only the keys of the
/// member that came or went, about 1/n of them. Every node builds the same
/// ring from the same member names.
class owner_ring {
public:
  explicit owner_ring(std::vector<std::string> members, unsigned points = 64);

  /// The owner of `key`; the ring must have at least one member.
  const std::string& owner_of(std::string_view key) const;

  const std::vector<std::string>& members() const { return members_; }
  bool empty() const { return members_.empty(); }

private:
  std::vector<std::pair<uint64_t, uint32_t>> points_; ///< hash, member
  std::vector<std::string> members_;                  ///< sorted
};

/// FNV-1a over the bytes, then a 64-bit finalizer so that near keys
/// spread over the whole ring.
uint64_t ring_hash(std::string_view key);

} // namespace herald::protocol
