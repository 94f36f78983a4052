#include "protocol/json_util.hpp"

#include <algorithm>
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

utf8_scan scan_utf8(const unsigned char* p, std::size_t n, std::size_t& tail) {
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
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0; // overlong
      else if (c == 0xED)
        hi = 0x9F; // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90; // overlong
      else if (c == 0xF4)
        hi = 0x8F; // above U+10FFFF
    } else {
      return utf8_scan::bad;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= n) {
        tail = i;
        return utf8_scan::incomplete;
      }
      unsigned char b = p[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
        return utf8_scan::bad;
    }
    i += len;
  }
  tail = n;
  return utf8_scan::whole;
}

bool valid_utf8(std::string_view text) {
  std::size_t tail;
  return scan_utf8(reinterpret_cast<const unsigned char*>(text.data()),
                   text.size(), tail)
         == utf8_scan::whole;
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

std::optional<std::string> guard_full_precision(std::string_view json) {
  std::optional<std::string> out;
  auto digit = [&](std::size_t i) {
    return i < json.size() && json[i] >= '0' && json[i] <= '9';
  };
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && !digit(i))
      continue;
    // One number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, its
    // digits all zeros or not.
    auto start = i;
    if (c == '-')
      ++i;
    bool zeros = true, well_formed = digit(i), more = false;
    if (well_formed && json[i] == '0' && digit(i + 1))
      well_formed = false; // a leading zero: no JSON number
    // The decimal magnitude: digits before the point from the first
    // non-zero one, minus zeros after the point before it, plus exponent.
    int64_t magnitude = 0;
    // Significant digits that start with 2^64 - 1 and go on with a digit
    // of 5 or more make its rounding overflow the significand to zero.
    constexpr std::string_view max64 = "18446744073709551615";
    std::size_t significant = 0, round_at = 0;
    bool max64_prefix = true;
    auto count = [&](std::size_t at) {
      if (zeros)
        return;
      if (significant < max64.size())
        max64_prefix = max64_prefix && json[at] == max64[significant];
      else if (significant == max64.size())
        round_at = at;
      ++significant;
    };
    for (; digit(i); ++i) {
      zeros = zeros && json[i] == '0';
      magnitude += zeros ? 0 : 1;
      count(i);
    }
    int64_t fraction = 0, exponent = 0;
    if (i < json.size() && json[i] == '.') {
      more = true;
      well_formed = well_formed && digit(i + 1);
      for (++i; digit(i); ++i, ++fraction) {
        if (zeros && json[i] == '0')
          --magnitude;
        zeros = zeros && json[i] == '0';
        count(i);
      }
    }
    if (max64_prefix && significant > max64.size() && json[round_at] >= '5') {
      // The digit after twenty is far below a double's precision: 4 reads
      // as the same double.
      if (!out)
        out.emplace(json);
      (*out)[round_at] = '4';
    }
    bool minus = false;
    if (i < json.size() && (json[i] == 'e' || json[i] == 'E')) {
      more = true;
      ++i;
      minus = i < json.size() && json[i] == '-';
      if (i < json.size() && (json[i] == '+' || json[i] == '-'))
        ++i;
      well_formed = well_formed && digit(i);
      for (; digit(i); ++i)
        exponent = std::min<int64_t>(exponent * 10 + (json[i] - '0'), 1 << 30);
      // RapidJSON refuses `0e400` (NumberTooBig) before the bug: keep that.
      if (!minus && exponent > 308 + fraction)
        well_formed = false;
    }
    magnitude += minus ? -exponent : exponent;
    // Below the smallest double (4.9e-324) it also reads outside that
    // table: such a number is 0, and is written as a zero (below).
    if (!zeros && magnitude < -324)
      zeros = true;
    // Beyond the doubles (`1111...1e308`, 97 ones) its DiyFp code reads
    // past its table of powers of ten: make the number no JSON (an `x`).
    if (well_formed && !zeros && magnitude > 309) {
      if (!out)
        out.emplace(json);
      (*out)[start] = 'x';
      --i;
      continue;
    }
    // A zero with a fraction or an exponent becomes `0.0` (a double, as
    // before) and spaces; `0.0` itself is left alone. Followed by what
    // could go on a number (`0e0e308`, no JSON), it becomes `0` and spaces,
    // so that it cannot join what follows into a new number.
    auto number = json.substr(start, i - start);
    auto sign = c == '-' ? 1u : 0u;
    if (well_formed && zeros && more && number.substr(sign) != "0.0") {
      if (!out)
        out.emplace(json);
      bool joins =
          i < json.size()
          && std::string_view{".eE+-"}.find(json[i]) != std::string_view::npos;
      auto at = start + sign;
      auto keep = joins ? std::string_view{"0"} : std::string_view{"0.0"};
      for (auto k = at; k < i; ++k)
        (*out)[k] = k - at < keep.size() ? keep[k - at] : ' ';
    }
    --i; // the loop's ++i looks at the character after the number
  }
  return out;
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
