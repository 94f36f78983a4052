#pragma once

// What the fuzz targets share: the input as text, cutting it in parts, and
// a check that stops the run as a finding (libFuzzer saves the input).

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace herald::fuzz {

/// The input as text (not NUL-terminated; may hold any byte).
inline std::string_view text_of(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Cuts `text` at every `sep` (at most `max_parts` parts; the last holds
/// the rest), so that one input feeds several arguments.
inline std::vector<std::string_view> split(std::string_view text, char sep,
                                           std::size_t max_parts = 64) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    auto at = text.find(sep);
    if (at == std::string_view::npos)
      break;
    out.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  out.push_back(text);
  return out;
}

/// True when `text` is one JSON value (what every encoder must make).
inline bool is_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError();
}

/// A property the parser promises; a failure aborts, which libFuzzer
/// reports as a crash with the input that caused it.
#define HERALD_FUZZ_CHECK(cond)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

} // namespace herald::fuzz
