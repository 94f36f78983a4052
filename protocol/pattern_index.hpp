#pragma once

// A trie over topic segments mapping subscription patterns to values.
// Matching a concrete topic walks the exact child, the `*` child and the `>`
// child at each level, so its cost grows with the topic's depth (and the
// wildcards present on that path), not with the number of patterns stored.

#include "protocol/topic.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace herald::protocol {

template <class Value>
class pattern_index {
public:
  /// Inserts `pattern` (already valid per parse_pattern). Returns false and
  /// changes nothing when it is already present.
  bool insert(std::string_view pattern, Value value);

  /// Removes `pattern`. Returns false when absent. Prunes empty nodes.
  bool erase(std::string_view pattern);

  /// The value stored for exactly this pattern, or nullptr.
  Value* find(std::string_view pattern);

  /// Calls `fn(const Value&)` once for every stored pattern that matches
  /// the concrete, already parsed `topic`.
  template <class F>
  void match(const topic_segments& topic, F&& fn) const;

  std::size_t size() const { return size_; }

private:
  struct node;
  // Implementation provided below by the implementer of this header.
  std::size_t size_ = 0;
};

} // namespace herald::protocol
