#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>

namespace herald::protocol {

/// Remembers event ids for a bounded time and count, so that a publisher's
/// retry with the same id is accepted but not delivered twice.
class dedup_window {
public:
  dedup_window(std::size_t max_entries, int64_t window_us);

  /// True when `id` was seen within the window (nothing changes); otherwise
  /// remembers it and returns false. Expires old entries as it goes, so
  /// each call costs amortized O(1).
  bool seen_before(const std::string& id, int64_t now_us);

  std::size_t size() const { return ids_.size(); }

private:
  struct entry {
    int64_t at_us;
    std::string id;
  };
  std::size_t max_entries_;
  int64_t window_us_;
  std::deque<entry> order_;
  std::unordered_set<std::string> ids_;
};

} // namespace herald::protocol
