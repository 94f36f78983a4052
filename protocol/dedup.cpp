#include "protocol/dedup.hpp"

namespace herald::protocol {

dedup_window::dedup_window(std::size_t max_entries, int64_t window_us)
    : max_entries_(max_entries), window_us_(window_us) {
  // Ids are unique in the deque (only unseen ids are pushed), so the set
  // and the deque always hold the same ids.
}

bool dedup_window::seen_before(const std::string& id, int64_t now_us) {
  // Entries are pushed in time order, so the expired ones are a prefix.
  while (!order_.empty() && now_us - order_.front().at_us > window_us_) {
    ids_.erase(order_.front().id);
    order_.pop_front();
  }
  if (ids_.count(id) != 0)
    return true;
  if (max_entries_ == 0)
    return false;
  ids_.insert(id);
  order_.push_back({now_us, id});
  while (order_.size() > max_entries_) {
    ids_.erase(order_.front().id);
    order_.pop_front();
  }
  return false;
}

} // namespace herald::protocol
