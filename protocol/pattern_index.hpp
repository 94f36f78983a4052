#pragma once

// Maps subscription patterns to values and finds, for a concrete topic,
// every pattern that matches it.
//
// Patterns are grouped by *shape*: how many segments they have, which of
// them are `*`, and whether they end in `>`. A topic can only match a
// pattern of a shape that fits its depth, and for a given shape the one
// pattern that could match is the topic with those segments replaced by
// `*` (and cut before `>`). So matching builds that key for each shape in
// use and looks it up in one hash table: the cost is one lookup per shape
// in use (a handful in practice: `a:b:c:d`, `a:b:c:*`, `a:b:>` ...), never
// a walk over the patterns, and with one hash probe instead of a chain of
// tree nodes it stays flat from a thousand patterns to millions.
//
// Not thread-safe: one owner (the router).

#include "protocol/topic.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::protocol {

template <class Value>
class pattern_index {
public:
  /// Inserts `pattern`. Returns false and changes nothing when it is
  /// already present or is not a valid pattern (parse_pattern).
  bool insert(std::string_view pattern, Value value) {
    topic_segments segs;
    if (!parse_pattern(pattern, segs))
      return false;
    auto [it, added] =
        by_pattern_.try_emplace(std::string{pattern}, std::move(value));
    if (!added)
      return false;
    auto s = shape_of(segs);
    auto use = std::find_if(shapes_.begin(), shapes_.end(),
                            [&](const shape_use& u) { return u.what == s; });
    if (use == shapes_.end())
      shapes_.push_back(shape_use{s, 1});
    else
      ++use->count;
    return true;
  }

  /// Removes `pattern`. Returns false when absent.
  bool erase(std::string_view pattern) {
    auto it = by_pattern_.find(std::string{pattern});
    if (it == by_pattern_.end())
      return false;
    topic_segments segs;
    parse_pattern(it->first, segs);
    auto s = shape_of(segs);
    by_pattern_.erase(it);
    auto use = std::find_if(shapes_.begin(), shapes_.end(),
                            [&](const shape_use& u) { return u.what == s; });
    if (use != shapes_.end() && --use->count == 0) {
      *use = shapes_.back();
      shapes_.pop_back();
    }
    return true;
  }

  /// The value stored for exactly this pattern, or nullptr.
  Value* find(std::string_view pattern) {
    auto it = by_pattern_.find(std::string{pattern});
    return it == by_pattern_.end() ? nullptr : &it->second;
  }

  const Value* find(std::string_view pattern) const {
    auto it = by_pattern_.find(std::string{pattern});
    return it == by_pattern_.end() ? nullptr : &it->second;
  }

  /// Calls `fn(const Value&)` once for every stored pattern that matches
  /// the concrete, already parsed `topic`. Does not allocate once the
  /// thread's key buffer has grown to the longest topic.
  template <class F>
  void match(const topic_segments& topic, F&& fn) const {
    thread_local std::string key;
    auto depth = topic.size();
    for (auto& use : shapes_) {
      auto& s = use.what;
      if (s.tail ? depth < s.length : depth != s.length)
        continue;
      std::size_t fixed = s.tail ? s.length - 1u : s.length;
      key.clear();
      for (std::size_t i = 0; i < fixed; ++i) {
        if (i > 0)
          key += ':';
        if ((s.stars >> i) & 1u)
          key += '*';
        else
          key.append(topic[i]);
      }
      if (s.tail) {
        if (fixed > 0)
          key += ':';
        key += '>';
      }
      auto it = by_pattern_.find(key);
      if (it != by_pattern_.end())
        fn(it->second);
    }
  }

  /// Calls `fn(std::string_view pattern, const Value&)` for every entry, in
  /// no particular order (snapshots: interest exchange, the console).
  template <class F>
  void for_each(F&& fn) const {
    for (auto& [pattern, value] : by_pattern_)
      fn(std::string_view{pattern}, value);
  }

  std::size_t size() const { return by_pattern_.size(); }

  bool empty() const { return by_pattern_.empty(); }

  void clear() {
    by_pattern_.clear();
    shapes_.clear();
  }

  /// How many distinct shapes are in use: the number of lookups a match
  /// may cost.
  std::size_t shapes() const { return shapes_.size(); }

private:
  struct shape {
    uint8_t length = 0; ///< segments, including a final `>`
    bool tail = false;  ///< ends in `>`
    uint16_t stars = 0; ///< bit i set: segment i is `*`

    bool operator==(const shape& other) const {
      return length == other.length && tail == other.tail
             && stars == other.stars;
    }
  };

  struct shape_use {
    shape what;
    std::size_t count; ///< patterns of this shape
  };

  static shape shape_of(const topic_segments& segs) {
    shape s;
    s.length = static_cast<uint8_t>(segs.size());
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (segs[i] == "*")
        s.stars |= static_cast<uint16_t>(1u << i);
      else if (segs[i] == ">")
        s.tail = true;
    }
    return s;
  }

  std::unordered_map<std::string, Value> by_pattern_;
  std::vector<shape_use> shapes_;
};

} // namespace herald::protocol
