#pragma once

// Which regular expressions RapidJSON 1.1 can build and run, read before
// it is given one (protocol/json_schema_normalizer.hpp): its regex parser
// underflows its operand stack, or its matcher overflows the call stack,
// on shapes it does not refuse itself (tests/fuzz/README.md, finding 4).

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace herald::protocol::schema_internal {

/// Reads a pattern as RapidJSON's regex grammar has it (alternatives of
/// quantified atoms; `^` and `$` anywhere, no content) and says whether
/// RapidJSON can build and run it: every `(` closed, no group or
/// alternative empty (`()`, `(|a)`, `a|`), no quantifier without an atom
/// (`{2}`, `(*a)`), and no unbounded repetition of what can match
/// nothing (`(a*)*`, `a**`, `(a|b?)+`). RapidJSON's parser underflows its
/// operand stack on the first ones; on the last its matcher recurses
/// through the empty loop until the stack overflows, at the first
/// validation.
class regex_shape {
public:
  explicit regex_shape(std::string_view p) : p_(p) {}

  bool ok() {
    bool nullable = false;
    return alternatives(nullable) && i_ == p_.size();
  }

private:
  bool more() const { return i_ < p_.size(); }

  bool alternatives(bool& nullable) {
    nullable = false;
    for (;;) {
      bool n = false;
      if (!sequence(n))
        return false;
      nullable = nullable || n;
      if (!more() || p_[i_] != '|')
        return true;
      ++i_;
    }
  }

  bool sequence(bool& nullable) {
    bool atoms = false;
    nullable = true;
    while (more() && p_[i_] != '|' && p_[i_] != ')') {
      if (p_[i_] == '^' || p_[i_] == '$') {
        ++i_;
        continue;
      }
      bool n = false;
      if (!atom(n))
        return false;
      atoms = true;
      while (more() && std::string_view{"*+?{"}.find(p_[i_]) != p_.npos) {
        bool zero = false, unbounded = false;
        if (!quantifier(zero, unbounded))
          return false;
        if (unbounded && n)
          return false; // a loop over what can match nothing
        n = n || zero;
      }
      nullable = nullable && n;
    }
    return atoms;
  }

  bool atom(bool& nullable) {
    nullable = false;
    char c = p_[i_++];
    switch (c) {
    case '(': {
      if (!alternatives(nullable) || !more() || p_[i_] != ')')
        return false;
      ++i_;
      return true;
    }
    case '*':
    case '+':
    case '?':
    case '{':
      return false; // a quantifier without an atom
    case '[':
      for (; more() && p_[i_] != ']'; ++i_)
        if (p_[i_] == '\\')
          ++i_;
      if (!more())
        return false;
      ++i_;
      return true;
    case '\\':
      if (!more())
        return false;
      ++i_;
      return true;
    default:
      return true;
    }
  }

  bool number(uint64_t& n) {
    if (!more() || p_[i_] < '0' || p_[i_] > '9')
      return false;
    n = 0;
    for (; more() && p_[i_] >= '0' && p_[i_] <= '9'; ++i_)
      n = std::min<uint64_t>(n * 10 + (p_[i_] - '0'), 1u << 20);
    return true;
  }

  bool quantifier(bool& zero, bool& unbounded) {
    char c = p_[i_++];
    if (c != '{') {
      zero = c != '+';
      unbounded = c != '?';
      return true;
    }
    uint64_t low = 0, high = 0;
    if (!number(low))
      return false;
    zero = low == 0;
    if (more() && p_[i_] == ',') {
      ++i_;
      unbounded = more() && p_[i_] == '}';
      if (!unbounded && !number(high))
        return false;
    }
    if (!more() || p_[i_] != '}')
      return false;
    ++i_;
    return true;
  }

  std::string_view p_;
  std::size_t i_ = 0;
};

} // namespace herald::protocol::schema_internal
