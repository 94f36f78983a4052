#pragma once

// Aligned text tables and the number formats the views share.

#include <rapidjson/document.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace herald::ctl {

/// Columns of text, padded to the widest cell; the last column is never
/// padded, so a long state line does not push the others around.
class table {
public:
  /// A header starting with '>' is right-aligned (the '>' is dropped).
  explicit table(std::vector<std::string> headers);

  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }

  /// Cuts cells of the last column to `width` characters (0: no limit).
  void set_last_width(std::size_t width) { last_width_ = width; }

  void print(std::ostream& out) const;

private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
  std::size_t last_width_ = 0;
};

using json_value = rapidjson::Value;

/// `v[key]` as text: strings as they are, numbers without a needless
/// ".0", booleans as yes/no, arrays joined with ",", objects as JSON;
/// `fallback` when missing or null.
std::string text_of(const json_value& v, const char* key,
                    const std::string& fallback = "");

/// A value as text, by the same rules.
std::string text_of(const json_value& v);

/// `v[key]` as a number; 0 when missing or not a number.
double number_of(const json_value& v, const char* key);

/// Compact JSON of a value.
std::string json_text(const json_value& v);

/// A duration in ms for people: 850ms, 12s, 4m12s, 2h05m, 3d04h.
std::string duration(double ms);

/// A rate with one decimal, or an integer when large.
std::string rate(double per_second);

/// An integer with no decimals.
std::string integer(double n);

/// A ms-since-epoch time as local HH:MM:SS.
std::string clock_time(double ms);

/// `a, b, c` from an array of strings (or "-" when empty).
std::string joined(const json_value& v, const char* key);

/// Cuts `text` to `width` characters, ending with "…" when cut.
std::string clip(const std::string& text, std::size_t width);

} // namespace herald::ctl
