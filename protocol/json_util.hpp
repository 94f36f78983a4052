#pragma once

// UTF-8 checks and a JSON string writer shared by every encoder: nothing
// the node writes is ever invalid UTF-8, whatever a caller hands in.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <string_view>

namespace herald::protocol {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Length of the well-formed UTF-8 sequence at `p` (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF), or 0 when it is not one. `n` is
/// the number of bytes available at `p` (at least 1).
std::size_t utf8_sequence(const unsigned char* p, std::size_t n);

/// True when `text` is well-formed UTF-8. ASCII runs cost a word compare
/// per eight bytes.
bool valid_utf8(std::string_view text);

/// Writes `s` as a JSON string; each byte that is not part of a well-formed
/// UTF-8 sequence becomes U+FFFD.
void write_json_string(json_writer& w, std::string_view s);

/// `s` without leading and trailing ASCII whitespace (JavaScript's trim for
/// the characters JSON values carry), as the seeds trim audience fields.
std::string_view trim(std::string_view s);

} // namespace herald::protocol
