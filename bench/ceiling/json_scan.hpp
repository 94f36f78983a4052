#pragma once

// A minimal JSON scanner for the ceiling server: it checks structure and
// returns raw spans (values exactly as received), never building a DOM.
// Good enough for well-formed load-generator traffic; it is not a validator
// of number syntax or of UTF-8.

#include <cstddef>
#include <string_view>

namespace ceiling::json {

inline const char* skip_ws(const char* p, const char* e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    ++p;
  return p;
}

/// `p` at the opening quote. Returns the position after the closing quote,
/// or nullptr.
inline const char* skip_string(const char* p, const char* e) {
  for (++p; p < e; ++p) {
    if (*p == '"')
      return p + 1;
    if (*p == '\\' && ++p == e)
      return nullptr;
    if (static_cast<unsigned char>(*p) < 0x20)
      return nullptr;
  }
  return nullptr;
}

/// `p` at the first character of a value. Returns the position after it, or
/// nullptr when it is not well formed.
inline const char* skip_value(const char* p, const char* e, int depth = 0) {
  if (p >= e || depth > 64)
    return nullptr;
  switch (*p) {
  case '"':
    return skip_string(p, e);
  case '{':
  case '[': {
    char close = *p == '{' ? '}' : ']';
    bool object = *p == '{';
    p = skip_ws(p + 1, e);
    if (p < e && *p == close)
      return p + 1;
    for (;;) {
      if (object) {
        if (p >= e || *p != '"' || !(p = skip_string(p, e)))
          return nullptr;
        p = skip_ws(p, e);
        if (p >= e || *p != ':')
          return nullptr;
        p = skip_ws(p + 1, e);
      }
      if (!(p = skip_value(p, e, depth + 1)))
        return nullptr;
      p = skip_ws(p, e);
      if (p < e && *p == ',') {
        p = skip_ws(p + 1, e);
        continue;
      }
      if (p < e && *p == close)
        return p + 1;
      return nullptr;
    }
  }
  default: {
    const char* s = p;
    while (p < e
           && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-'
               || *p == '+' || *p == '.' || *p == 'E'))
      ++p;
    return p == s ? nullptr : p;
  }
  }
}

/// Calls `fn(key, value)` for every member of the object `text` (the key
/// without its quotes, the value raw). Returns false when `text` is not one
/// well-formed object (with nothing but blanks around it).
template <class F>
bool for_each_member(std::string_view text, F&& fn) {
  const char* p = skip_ws(text.data(), text.data() + text.size());
  const char* e = text.data() + text.size();
  if (p >= e || *p != '{')
    return false;
  p = skip_ws(p + 1, e);
  if (p < e && *p == '}')
    return skip_ws(p + 1, e) == e;
  for (;;) {
    const char* k = p;
    if (p >= e || *p != '"' || !(p = skip_string(p, e)))
      return false;
    std::string_view key{k + 1, static_cast<std::size_t>(p - k - 2)};
    p = skip_ws(p, e);
    if (p >= e || *p != ':')
      return false;
    const char* v = skip_ws(p + 1, e);
    if (!(p = skip_value(v, e)))
      return false;
    fn(key, std::string_view{v, static_cast<std::size_t>(p - v)});
    p = skip_ws(p, e);
    if (p < e && *p == ',') {
      p = skip_ws(p + 1, e);
      continue;
    }
    return p < e && *p == '}' && skip_ws(p + 1, e) == e;
  }
}

/// Calls `fn(element)` for every element of the (already well-formed) array
/// `text`, each raw. Returns false when `text` is not an array.
template <class F>
bool for_each_element(std::string_view text, F&& fn) {
  const char* p = text.data();
  const char* e = p + text.size();
  if (p >= e || *p != '[')
    return false;
  p = skip_ws(p + 1, e);
  if (p < e && *p == ']')
    return true;
  for (;;) {
    const char* v = p;
    if (!(p = skip_value(v, e)))
      return false;
    fn(std::string_view{v, static_cast<std::size_t>(p - v)});
    p = skip_ws(p, e);
    if (p < e && *p == ',') {
      p = skip_ws(p + 1, e);
      continue;
    }
    return p < e && *p == ']';
  }
}

/// The content of a raw string value without its quotes, or false when the
/// value is not a string or holds escapes (topics never need them).
inline bool plain_string(std::string_view raw, std::string_view& out) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"')
    return false;
  out = raw.substr(1, raw.size() - 2);
  return out.find('\\') == std::string_view::npos;
}

} // namespace ceiling::json
