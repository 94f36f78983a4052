#include "protocol/json_util.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace herald::protocol {

std::size_t utf8_sequence(const unsigned char* p, std::size_t n) {
  if (p[0] < 0x80)
    return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    len = 2;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    len = 3;
    lo = p[0] == 0xE0 ? 0xA0 : 0x80;
    hi = p[0] == 0xED ? 0x9F : 0xBF;
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    len = 4;
    lo = p[0] == 0xF0 ? 0x90 : 0x80;
    hi = p[0] == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi)
    return 0;
  for (std::size_t i = 2; i < len; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return len;
}

bool valid_utf8(std::string_view text) {
  auto p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    auto len = utf8_sequence(p + i, n - i);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

void write_json_string(json_writer& w, std::string_view s) {
  std::string fixed;
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  bool dirty = false;
  for (std::size_t i = 0; i < s.size();) {
    auto len = utf8_sequence(p + i, s.size() - i);
    if (len == 0 && !dirty) {
      fixed.assign(s.data(), i);
      dirty = true;
    }
    if (dirty) {
      if (len == 0)
        fixed += "\xEF\xBF\xBD";
      else
        fixed.append(s.data() + i, len);
    }
    i += len == 0 ? 1 : len;
  }
  if (dirty)
    s = fixed;
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
           || c == '\v';
  };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

} // namespace herald::protocol
