#include "protocol/topic.hpp"

namespace herald::protocol {

namespace {

// A lookup table keeps the per-character check to one load; topics are
// parsed on every publish and subscribe.
struct charset_table {
  bool allowed[256] = {};
  constexpr charset_table() {
    for (int c = 'a'; c <= 'z'; ++c)
      allowed[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c)
      allowed[c] = true;
    for (int c = '0'; c <= '9'; ++c)
      allowed[c] = true;
    allowed[static_cast<unsigned char>('_')] = true;
    allowed[static_cast<unsigned char>('.')] = true;
    allowed[static_cast<unsigned char>('@')] = true;
    allowed[static_cast<unsigned char>('-')] = true;
  }
};

constexpr charset_table charset;

bool fail(std::string* why, const char* reason) {
  if (why != nullptr)
    *why = reason;
  return false;
}

bool fail_at(std::string* why, std::size_t index, const char* reason) {
  if (why != nullptr) {
    *why = "segment ";
    *why += std::to_string(index + 1);
    *why += ": ";
    *why += reason;
  }
  return false;
}

// Shared by both parsers; `wildcards` admits `*` segments anywhere and a `>`
// segment in last position.
bool parse(std::string_view text, topic_segments& out, std::string* why,
           bool wildcards) {
  out.count = 0;
  if (text.empty())
    return fail(why, "empty topic");
  if (text.size() > max_topic_bytes)
    return fail(why, "topic longer than 256 bytes");
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(':', start);
    auto last = end == std::string_view::npos;
    auto seg = text.substr(start, last ? std::string_view::npos : end - start);
    auto index = out.count;
    if (index == max_topic_segments)
      return fail(why, "more than 16 segments");
    if (seg.empty())
      return fail_at(why, index, "empty segment");
    if (seg.size() > max_segment_length)
      return fail_at(why, index, "segment longer than 128 characters");
    if (seg == "*" || seg == ">") {
      if (!wildcards)
        return fail_at(why, index, "wildcard in a concrete topic");
      if (seg == ">" && !last)
        return fail_at(why, index, "'>' is only allowed as the last segment");
    } else {
      for (char ch : seg) {
        if (!charset.allowed[static_cast<unsigned char>(ch)]) {
          if (ch == '*' || ch == '>')
            return fail_at(why, index, "a wildcard must be a whole segment");
          return fail_at(why, index, "character outside [A-Za-z0-9_.@-]");
        }
      }
    }
    out.items[out.count++] = seg;
    if (last)
      break;
    start = end + 1;
  }
  return true;
}

} // namespace

bool parse_topic(std::string_view text, topic_segments& out, std::string* why) {
  return parse(text, out, why, false);
}

bool parse_pattern(std::string_view text, topic_segments& out,
                   std::string* why) {
  return parse(text, out, why, true);
}

bool pattern_matches(const topic_segments& pattern,
                     const topic_segments& topic) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    auto seg = pattern[i];
    if (seg == ">")
      // `>` stands for one or more remaining segments.
      return topic.size() > i;
    if (i >= topic.size())
      return false;
    if (seg != "*" && seg != topic[i])
      return false;
  }
  return pattern.size() == topic.size();
}

bool pattern_matches(std::string_view pattern, std::string_view topic) {
  topic_segments p;
  topic_segments t;
  return parse_pattern(pattern, p) && parse_topic(topic, t)
         && pattern_matches(p, t);
}

} // namespace herald::protocol
