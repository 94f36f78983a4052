#pragma once

// A trie over topic segments mapping subscription patterns to values.
// Matching a concrete topic walks the exact child, the `*` child and the `>`
// child at each level, so its cost grows with the topic's depth (and the
// wildcards present on that path), not with the number of patterns stored.

#include "protocol/topic.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace herald::protocol {

template <class Value>
class pattern_index {
public:
  /// Inserts `pattern` (already valid per parse_pattern). Returns false and
  /// changes nothing when it is already present or does not parse.
  bool insert(std::string_view pattern, Value value);

  /// Removes `pattern`. Returns false when absent. Prunes empty nodes.
  bool erase(std::string_view pattern);

  /// The value stored for exactly this pattern, or nullptr.
  Value* find(std::string_view pattern);

  /// The value stored for exactly this pattern, or nullptr.
  const Value* find(std::string_view pattern) const;

  /// Calls `fn(const Value&)` once for every stored pattern that matches
  /// the concrete, already parsed `topic`. Does not allocate.
  template <class F>
  void match(const topic_segments& topic, F&& fn) const;

  /// Calls `fn(std::string_view pattern, const Value&)` for every stored
  /// pattern, in no particular order. Allocates one buffer for the text;
  /// meant for snapshots (interest exchange, the console), not the hot path.
  template <class F>
  void for_each(F&& fn) const;

  std::size_t size() const { return size_; }

  bool empty() const { return size_ == 0; }

  /// Removes every pattern.
  void clear() {
    root_ = node{};
    size_ = 0;
  }

private:
  struct node {
    // This node's segment. The parent's map keys are views into it, which
    // stay valid because nodes live on the heap and never move; that lets
    // lookups by std::string_view (C++17 has no heterogeneous lookup for
    // unordered_map) run without building a std::string.
    std::string segment;
    std::unordered_map<std::string_view, std::unique_ptr<node>> children;
    std::unique_ptr<node> star; // `*`: exactly one segment
    std::unique_ptr<node> gt;   // `>`: one or more segments; always a leaf
    std::optional<Value> value;

    bool prunable() const { return !value && children.empty() && !star && !gt; }
  };

  const node* find_node(const topic_segments& segs) const;

  template <class F>
  static void match_at(const node& n, const topic_segments& topic,
                       std::size_t i, F& fn);

  // Returns true when the child at `i` became empty and may be dropped.
  bool erase_at(node& n, const topic_segments& segs, std::size_t i);

  template <class F>
  static void for_each_at(const node& n, std::string& text, F& fn);

  node root_;
  std::size_t size_ = 0;
};

template <class Value>
bool pattern_index<Value>::insert(std::string_view pattern, Value value) {
  topic_segments segs;
  if (!parse_pattern(pattern, segs))
    return false;
  // Walk first so that a duplicate leaves the trie as it was (no empty
  // nodes created on the way).
  if (find_node(segs) != nullptr)
    return false;
  node* cur = &root_;
  for (auto seg : segs) {
    std::unique_ptr<node>* slot;
    if (seg == "*") {
      slot = &cur->star;
    } else if (seg == ">") {
      slot = &cur->gt;
    } else {
      auto i = cur->children.find(seg);
      if (i != cur->children.end()) {
        cur = i->second.get();
        continue;
      }
      auto child = std::make_unique<node>();
      child->segment.assign(seg);
      std::string_view key = child->segment;
      cur = cur->children.emplace(key, std::move(child)).first->second.get();
      continue;
    }
    if (!*slot) {
      *slot = std::make_unique<node>();
      (*slot)->segment.assign(seg);
    }
    cur = slot->get();
  }
  cur->value.emplace(std::move(value));
  ++size_;
  return true;
}

template <class Value>
bool pattern_index<Value>::erase(std::string_view pattern) {
  topic_segments segs;
  if (!parse_pattern(pattern, segs) || find_node(segs) == nullptr)
    return false;
  erase_at(root_, segs, 0);
  --size_;
  return true;
}

template <class Value>
bool pattern_index<Value>::erase_at(node& n, const topic_segments& segs,
                                    std::size_t i) {
  if (i == segs.size()) {
    n.value.reset();
    return n.prunable();
  }
  auto seg = segs[i];
  if (seg == "*" || seg == ">") {
    auto& slot = seg == "*" ? n.star : n.gt;
    if (erase_at(*slot, segs, i + 1))
      slot.reset();
  } else {
    auto it = n.children.find(seg);
    if (erase_at(*it->second, segs, i + 1))
      n.children.erase(it);
  }
  return n.prunable();
}

template <class Value>
const typename pattern_index<Value>::node*
pattern_index<Value>::find_node(const topic_segments& segs) const {
  const node* cur = &root_;
  for (auto seg : segs) {
    if (seg == "*") {
      cur = cur->star.get();
    } else if (seg == ">") {
      cur = cur->gt.get();
    } else {
      auto i = cur->children.find(seg);
      cur = i == cur->children.end() ? nullptr : i->second.get();
    }
    if (cur == nullptr)
      return nullptr;
  }
  return cur->value ? cur : nullptr;
}

template <class Value>
Value* pattern_index<Value>::find(std::string_view pattern) {
  return const_cast<Value*>(std::as_const(*this).find(pattern));
}

template <class Value>
const Value* pattern_index<Value>::find(std::string_view pattern) const {
  topic_segments segs;
  if (!parse_pattern(pattern, segs))
    return nullptr;
  auto n = find_node(segs);
  return n != nullptr ? &*n->value : nullptr;
}

template <class Value>
template <class F>
void pattern_index<Value>::match(const topic_segments& topic, F&& fn) const {
  if (topic.size() == 0)
    return;
  match_at(root_, topic, 0, fn);
}

template <class Value>
template <class F>
void pattern_index<Value>::match_at(const node& n, const topic_segments& topic,
                                    std::size_t i, F& fn) {
  if (i == topic.size()) {
    if (n.value)
      fn(*n.value);
    return;
  }
  // At least one segment remains, which is all `>` asks for.
  if (n.gt && n.gt->value)
    fn(*n.gt->value);
  if (!n.children.empty()) {
    auto it = n.children.find(topic[i]);
    if (it != n.children.end())
      match_at(*it->second, topic, i + 1, fn);
  }
  if (n.star)
    match_at(*n.star, topic, i + 1, fn);
}

template <class Value>
template <class F>
void pattern_index<Value>::for_each(F&& fn) const {
  std::string text;
  text.reserve(max_topic_bytes);
  for_each_at(root_, text, fn);
}

template <class Value>
template <class F>
void pattern_index<Value>::for_each_at(const node& n, std::string& text,
                                       F& fn) {
  if (n.value)
    fn(std::string_view{text}, *n.value);
  auto visit = [&](const node& child) {
    auto mark = text.size();
    if (!text.empty())
      text += ':';
    text += child.segment;
    for_each_at(child, text, fn);
    text.resize(mark);
  };
  for (auto& kv : n.children)
    visit(*kv.second);
  if (n.star)
    visit(*n.star);
  if (n.gt)
    visit(*n.gt);
}

} // namespace herald::protocol
