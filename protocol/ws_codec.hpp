#pragma once

// RFC 6455 framing, server side, as pure functions and one incremental
// reader. The node owns its framing (rather than Beast's stream) so that an
// event's whole wire frame is encoded once and shared by every receiver,
// and a socket can write every frame queued since its last write in one
// gather write.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol::ws {

enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close codes the node sends.
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t protocol_error = 1002;
inline constexpr uint16_t invalid_payload = 1007; // e.g. bad UTF-8
inline constexpr uint16_t policy_violation = 1008;
inline constexpr uint16_t too_big = 1009;
inline constexpr uint16_t internal_error = 1011; // a channel stopped
inline constexpr uint16_t try_again_later = 1013;
} // namespace close_code

/// A complete, unmasked server frame (FIN set): header and payload.
std::string encode_frame(opcode op, std::string_view payload);

/// The payload of an unmasked frame made by encode_frame (tests, logs).
std::string_view frame_payload(std::string_view frame);

/// A close frame with `code` and `reason` (reason cut to fit 125 bytes).
std::string encode_close(uint16_t code, std::string_view reason);

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string accept_key(std::string_view client_key);

/// True for a Sec-WebSocket-Key that is 16 bytes in base64 (RFC 6455
/// §4.2.1): 22 characters of the base64 alphabet, then "==".
bool valid_client_key(std::string_view key);

/// True for a close code a peer may send (RFC 6455 §7.4): 1000-1003,
/// 1007-1014 (the IANA registry) and 3000-4999; never 1005, 1006, 1015.
bool valid_close_code(uint16_t code);

/// What the reader found.
struct message {
  enum class kind { text, binary, ping, pong, close };
  kind what = kind::text;
  std::string payload;     ///< whole message (unmasked); close: the reason
  uint16_t close_code = 0; ///< close: the peer's code, 1005 when none
};

/// Reads client frames incrementally: masked frames, fragmentation with
/// interleaved control frames, size limit, UTF-8 of text messages and
/// close reasons. After an error, `failed()` holds and `error_code()` is
/// the close code to answer with (1002, 1007 or 1009). A fragmented text
/// message is checked fragment by fragment, so bytes that can never become
/// UTF-8 fail at once, while a code point split between two fragments is
/// taken.
class reader {
public:
  explicit reader(std::size_t max_message_bytes);

  /// Consumes `size` bytes; appends each completed message to `out`.
  /// Returns false once the stream is in error (nothing more is read).
  bool feed(const char* data, std::size_t size, std::vector<message>& out);

  bool failed() const { return error_code_ != 0; }
  uint16_t error_code() const { return error_code_; }
  const std::string& error_reason() const { return error_reason_; }

  /// Bytes held for a frame not yet complete (memory accounting).
  std::size_t buffered() const { return partial_.size() + message_.size(); }

private:
  // Parses one frame at the front of [data, data + size); returns bytes
  // used, 0 when incomplete, or sets the error.
  std::size_t parse_one(const char* data, std::size_t size,
                        std::vector<message>& out);
  void fail(uint16_t code, std::string reason);

  std::size_t max_message_;
  std::string partial_; ///< bytes of an incomplete frame
  std::string message_; ///< fragments of an incomplete data message
  bool in_message_ = false;
  opcode message_op_ = opcode::text;
  std::size_t utf8_checked_ = 0; ///< message_ is UTF-8 up to here
  uint16_t error_code_ = 0;
  std::string error_reason_;
};

} // namespace herald::protocol::ws
