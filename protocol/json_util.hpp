#pragma once

// UTF-8 checks and a JSON string writer shared by every encoder: nothing
// the node writes is ever invalid UTF-8, whatever a caller hands in.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace herald::protocol {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Length of the well-formed UTF-8 sequence at `p` (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF), or 0 when it is not one. `n` is
/// the number of bytes available at `p` (at least 1).
std::size_t utf8_sequence(const unsigned char* p, std::size_t n);

enum class utf8_scan { whole, incomplete, bad };

/// Checks [p, p + n) from the start of a code point: `whole` when it is
/// UTF-8, `incomplete` when it is UTF-8 up to a code point cut at the end
/// (`tail` is where that code point starts: the WebSocket reader checks
/// fragments as they come), `bad` when no further bytes could make it
/// UTF-8. RFC 3629's rules, as utf8_sequence. ASCII runs cost a word
/// compare per eight bytes.
utf8_scan scan_utf8(const unsigned char* p, std::size_t n, std::size_t& tail);

/// True when `text` is well-formed UTF-8 (scan_utf8 says `whole`).
bool valid_utf8(std::string_view text);

/// The JSON text that `write(json_writer&)` writes.
template <class F>
std::string write_json(F&& write) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  write(w);
  return {buf.GetString(), buf.GetSize()};
}

/// Writes `s` as a JSON string; each byte that is not part of a well-formed
/// UTF-8 sequence becomes U+FFFD.
void write_json_string(json_writer& w, std::string_view s);

/// What RapidJSON 1.1 needs to parse `json` with kParseFullPrecisionFlag
/// safely (found by tests/fuzz, tests/fuzz/README.md):
/// - a number whose digits are all zeros reads as garbage when it has a
///   large exponent or a long fraction (`{"x":0e100}` came out as
///   `{"x":-1.99792e146}`: the zero significand reaches clz(0)); each zero
///   with a fraction or an exponent is written `0.0` padded with spaces
///   (the same value, a double as before);
/// - a number beyond the doubles (`1111...1e308`) or below them
///   (`4.4e-338`) makes it read outside its table of powers of ten; the
///   first is made no JSON (an `x`), so the text is refused as not JSON,
///   the second is written as a zero (what it rounds to);
/// - significant digits `18446744073709551615` (2^64 - 1) followed by a
///   digit of 5 or more overflow its significand to zero while rounding,
///   and the number reads as garbage; that digit is written `4`, which
///   reads as the same double.
/// Returns the copy, of the same length, or nullopt when `json` needs
/// neither. One scan; strings are skipped.
std::optional<std::string> guard_full_precision(std::string_view json);

/// `s` without leading and trailing ASCII whitespace (JavaScript's trim for
/// the characters JSON values carry), as the seeds trim audience fields.
std::string_view trim(std::string_view s);

} // namespace herald::protocol
