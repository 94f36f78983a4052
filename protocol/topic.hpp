#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace herald::protocol {

/// PROTOCOL §2 limits.
inline constexpr std::size_t max_topic_segments = 16;
inline constexpr std::size_t max_segment_length = 128;
inline constexpr std::size_t max_topic_bytes = 256;

/// The segments of a topic or pattern, as views into the text it was parsed
/// from. Fixed capacity: parsing never allocates.
struct topic_segments {
  std::array<std::string_view, max_topic_segments> items;
  std::size_t count = 0;

  std::string_view operator[](std::size_t i) const { return items[i]; }
  std::size_t size() const { return count; }
  const std::string_view* begin() const { return items.data(); }
  const std::string_view* end() const { return items.data() + count; }
};

/// Splits and validates a concrete topic (no wildcards). On failure returns
/// false and, when `why` is given, a short human-readable reason.
bool parse_topic(std::string_view text, topic_segments& out,
                 std::string* why = nullptr);

/// Splits and validates a subscription pattern: a whole segment may be `*`,
/// the last segment may be `>`. `ab*` and a `>` before the end are invalid.
bool parse_pattern(std::string_view text, topic_segments& out,
                   std::string* why = nullptr);

/// True when the parsed pattern matches the parsed concrete topic.
bool pattern_matches(const topic_segments& pattern,
                     const topic_segments& topic);

/// Convenience form: parses both; false when either does not parse.
bool pattern_matches(std::string_view pattern, std::string_view topic);

} // namespace herald::protocol
