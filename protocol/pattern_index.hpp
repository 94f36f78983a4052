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
// a walk over the patterns.
//
// The table is flat (open addressing, linear probing, slots of hash and
// entry index), and a match first computes every key and prefetches every
// slot, then probes: the cache misses of all its lookups overlap instead of
// queueing, so the cost stays near one memory round trip per match from a
// thousand patterns to millions.
//
// Not thread-safe: one owner (the router). A pointer from find() is valid
// until the next insert or erase.

#include "protocol/topic.hpp"

#include <algorithm>
#include <bits/functional_hash.h>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::protocol {

template <class Value>
class pattern_index {
public:
  pattern_index() : seed_(std::random_device{}()) {}

  /// Inserts `pattern`. Returns false and changes nothing when it is
  /// already present or is not a valid pattern (parse_pattern).
  bool insert(std::string_view pattern, Value value) {
    topic_segments segs;
    if (!parse_pattern(pattern, segs) || find(pattern) != nullptr)
      return false;
    if ((entries_.size() + 1) * 2 > slots_.size())
      rehash(std::max<std::size_t>(16, slots_.size() * 2));
    auto h = hash(pattern);
    entries_.push_back(entry{std::string{pattern}, std::move(value), h});
    place(h, static_cast<uint32_t>(entries_.size() - 1));
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
    auto at = slot_of(pattern, hash(pattern));
    if (at == npos)
      return false;
    auto index = slots_[at].index;
    topic_segments segs;
    parse_pattern(entries_[index].key, segs);
    auto s = shape_of(segs);
    auto use = std::find_if(shapes_.begin(), shapes_.end(),
                            [&](const shape_use& u) { return u.what == s; });
    if (use != shapes_.end() && --use->count == 0) {
      *use = shapes_.back();
      shapes_.pop_back();
    }
    remove_slot(at);
    // Keep entries dense: the last one moves into the hole.
    auto last = static_cast<uint32_t>(entries_.size() - 1);
    if (index != last) {
      // Repoint the moved entry's slot (found by its hash and old index).
      auto mask = slots_.size() - 1;
      auto i = entries_[last].hash & mask;
      while (slots_[i].index != last)
        i = (i + 1) & mask;
      slots_[i].index = index;
      entries_[index] = std::move(entries_[last]);
    }
    entries_.pop_back();
    return true;
  }

  /// The value stored for exactly this pattern, or nullptr.
  Value* find(std::string_view pattern) {
    auto at = slot_of(pattern, hash(pattern));
    return at == npos ? nullptr : &entries_[slots_[at].index].value;
  }

  const Value* find(std::string_view pattern) const {
    auto at = slot_of(pattern, hash(pattern));
    return at == npos ? nullptr : &entries_[slots_[at].index].value;
  }

  /// Calls `fn(const Value&)` once for every stored pattern that matches
  /// the concrete, already parsed `topic`. Does not allocate once the
  /// thread's key buffers have grown to the longest topic.
  template <class F>
  void match(const topic_segments& topic, F&& fn) const {
    if (entries_.empty())
      return;
    constexpr std::size_t batch = 8;
    thread_local std::string keys[batch];
    uint64_t hashes[batch];
    std::size_t next = 0;
    while (next < shapes_.size()) {
      // Build up to `batch` keys and prefetch their slots, then probe:
      // the slots' cache misses overlap.
      std::size_t n = 0;
      for (; next < shapes_.size() && n < batch; ++next)
        if (build_key(shapes_[next].what, topic, keys[n])) {
          hashes[n] = hash(keys[n]);
          __builtin_prefetch(&slots_[hashes[n] & (slots_.size() - 1)]);
          ++n;
        }
      for (std::size_t i = 0; i < n; ++i) {
        auto at = slot_of(keys[i], hashes[i]);
        if (at != npos)
          fn(entries_[slots_[at].index].value);
      }
    }
  }

  /// Calls `fn(std::string_view pattern, const Value&)` for every entry, in
  /// no particular order (snapshots: interest exchange, the console).
  template <class F>
  void for_each(F&& fn) const {
    for (auto& e : entries_)
      fn(std::string_view{e.key}, e.value);
  }

  std::size_t size() const { return entries_.size(); }

  bool empty() const { return entries_.empty(); }

  void clear() {
    entries_.clear();
    slots_.clear();
    shapes_.clear();
  }

  /// How many distinct shapes are in use: the number of lookups a match
  /// may cost.
  std::size_t shapes() const { return shapes_.size(); }

private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  static constexpr uint32_t empty_slot = UINT32_MAX;

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

  struct entry {
    std::string key;
    Value value;
    uint64_t hash;
  };

  struct slot {
    uint64_t hash = 0;
    uint32_t index = empty_slot;
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

  // The one pattern of shape `s` that could match `topic`: the topic with
  // the shape's `*` segments in place and cut before its `>`.
  static bool build_key(const shape& s, const topic_segments& topic,
                        std::string& key) {
    auto depth = topic.size();
    if (s.tail ? depth < s.length : depth != s.length)
      return false;
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
    return true;
  }

  // Seeded per index, so that nobody can choose patterns that pile up in
  // one probe run.
  uint64_t hash(std::string_view text) const {
    return std::_Hash_bytes(text.data(), text.size(),
                            static_cast<std::size_t>(seed_));
  }

  std::size_t slot_of(std::string_view key, uint64_t h) const {
    if (slots_.empty())
      return npos;
    auto mask = slots_.size() - 1;
    for (auto i = h & mask;; i = (i + 1) & mask) {
      auto& s = slots_[i];
      if (s.index == empty_slot)
        return npos;
      if (s.hash == h && entries_[s.index].key == key)
        return i;
    }
  }

  void place(uint64_t h, uint32_t index) {
    auto mask = slots_.size() - 1;
    auto i = h & mask;
    while (slots_[i].index != empty_slot)
      i = (i + 1) & mask;
    slots_[i] = slot{h, index};
  }

  void rehash(std::size_t capacity) {
    slots_.assign(capacity, slot{});
    for (uint32_t i = 0; i < entries_.size(); ++i)
      place(entries_[i].hash, i);
  }

  // Linear-probing deletion without tombstones: later members of the probe
  // run move back into the hole when their home slot allows it.
  void remove_slot(std::size_t hole) {
    auto mask = slots_.size() - 1;
    slots_[hole] = slot{};
    for (auto j = (hole + 1) & mask; slots_[j].index != empty_slot;
         j = (j + 1) & mask) {
      auto home = slots_[j].hash & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      bool stays =
          hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        slots_[j] = slot{};
        hole = j;
      }
    }
  }

  uint64_t seed_;
  std::vector<entry> entries_;
  std::vector<slot> slots_;
  std::vector<shape_use> shapes_;
};

} // namespace herald::protocol
