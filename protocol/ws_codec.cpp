#include "protocol/ws_codec.hpp"

#include "protocol/json_util.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

namespace herald::protocol::ws {

namespace {

constexpr std::string_view handshake_guid =
    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t max_control_payload = 125;

void put_header(std::string& out, opcode op, std::size_t length) {
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(op)));
  if (length < 126) {
    out.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((uint64_t{length} >> shift) & 0xFF));
  }
}

} // namespace

std::string encode_frame(opcode op, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  put_header(out, op, payload.size());
  out.append(payload);
  return out;
}

std::string_view frame_payload(std::string_view frame) {
  if (frame.size() < 2)
    return {};
  auto len = static_cast<unsigned char>(frame[1]) & 0x7F;
  std::size_t header = len < 126 ? 2 : len == 126 ? 4 : 10;
  return header <= frame.size() ? frame.substr(header) : std::string_view{};
}

std::string encode_close(uint16_t code, std::string_view reason) {
  if (reason.size() > max_control_payload - 2)
    reason = reason.substr(0, max_control_payload - 2);
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return encode_frame(opcode::close, payload);
}

std::string accept_key(std::string_view client_key) {
  std::string input{client_key};
  input.append(handshake_guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
       digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded),
                     static_cast<std::size_t>(n));
}

bool valid_client_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  for (char c : key.substr(0, 22))
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  return true;
}

bool valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  switch (code) {
  case 1000:
  case 1001:
  case 1002:
  case 1003:
  case 1007:
  case 1008:
  case 1009:
  case 1010:
  case 1011:
  case 1012:
  case 1013:
  case 1014:
    return true;
  default:
    return false;
  }
}

reader::reader(std::size_t max_message_bytes)
    : max_message_(max_message_bytes) {}

void reader::fail(uint16_t code, std::string reason) {
  error_code_ = code;
  error_reason_ = std::move(reason);
  partial_.clear();
  message_.clear();
}

bool reader::feed(const char* data, std::size_t size,
                  std::vector<message>& out) {
  if (failed())
    return false;
  if (!partial_.empty()) {
    // Join the held bytes with the new ones; the common case (whole
    // frames per read) never comes here and never copies.
    partial_.append(data, size);
    std::size_t used = 0;
    while (!failed() && used < partial_.size()) {
      auto n = parse_one(partial_.data() + used, partial_.size() - used, out);
      if (n == 0)
        break;
      used += n;
    }
    if (!failed())
      partial_.erase(0, used);
    return !failed();
  }
  std::size_t used = 0;
  while (!failed() && used < size) {
    auto n = parse_one(data + used, size - used, out);
    if (n == 0)
      break;
    used += n;
  }
  if (!failed() && used < size)
    partial_.assign(data + used, size - used);
  return !failed();
}

std::size_t reader::parse_one(const char* data, std::size_t size,
                              std::vector<message>& out) {
  auto* p = reinterpret_cast<const unsigned char*>(data);
  if (size < 2)
    return 0;
  bool fin = p[0] & 0x80;
  if (p[0] & 0x70) {
    fail(close_code::protocol_error, "reserved bits set");
    return 0;
  }
  auto op = static_cast<opcode>(p[0] & 0x0F);
  bool masked = p[1] & 0x80;
  uint64_t length = p[1] & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (size < 4)
      return 0;
    length = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (length == 127) {
    if (size < 10)
      return 0;
    length = 0;
    for (int k = 0; k < 8; ++k)
      length = (length << 8) | p[2 + k];
    header = 10;
    if (length >> 63) {
      fail(close_code::protocol_error, "bad payload length");
      return 0;
    }
  }
  bool control = static_cast<uint8_t>(op) & 0x8;
  switch (op) {
  case opcode::continuation:
  case opcode::text:
  case opcode::binary:
  case opcode::close:
  case opcode::ping:
  case opcode::pong:
    break;
  default:
    fail(close_code::protocol_error, "reserved opcode");
    return 0;
  }
  if (!masked) {
    fail(close_code::protocol_error, "client frames must be masked");
    return 0;
  }
  if (control && (!fin || length > max_control_payload)) {
    fail(close_code::protocol_error, "bad control frame");
    return 0;
  }
  if (!control) {
    if (op == opcode::continuation && !in_message_) {
      fail(close_code::protocol_error, "continuation without a message");
      return 0;
    }
    if (op != opcode::continuation && in_message_) {
      fail(close_code::protocol_error, "new message inside a fragmented one");
      return 0;
    }
    if (message_.size() + length > max_message_) {
      fail(close_code::too_big, "message too big");
      return 0;
    }
  }
  if (size < header + 4 + length)
    return 0;
  const unsigned char* mask = p + header;
  const unsigned char* body = mask + 4;
  auto unmask_into = [&](std::string& dst) {
    auto base = dst.size();
    dst.resize(base + length);
    for (uint64_t k = 0; k < length; ++k)
      dst[base + k] = static_cast<char>(body[k] ^ mask[k & 3]);
  };
  std::size_t used = header + 4 + static_cast<std::size_t>(length);
  if (control) {
    message m;
    unmask_into(m.payload);
    if (op == opcode::close) {
      m.what = message::kind::close;
      if (m.payload.size() == 1) {
        fail(close_code::protocol_error, "bad close payload");
        return 0;
      }
      if (m.payload.size() >= 2) {
        auto* c = reinterpret_cast<const unsigned char*>(m.payload.data());
        m.close_code = static_cast<uint16_t>((c[0] << 8) | c[1]);
        m.payload.erase(0, 2);
        if (!valid_close_code(m.close_code)) {
          fail(close_code::protocol_error, "bad close code");
          return 0;
        }
        if (!valid_utf8(m.payload)) {
          fail(close_code::invalid_payload, "close reason is not UTF-8");
          return 0;
        }
      } else {
        m.close_code = 1005;
      }
    } else {
      m.what = op == opcode::ping ? message::kind::ping : message::kind::pong;
    }
    out.push_back(std::move(m));
    return used;
  }
  if (op != opcode::continuation)
    message_op_ = op;
  if (fin && !in_message_) {
    // The common case, a whole message in one frame: no staging copy.
    message m;
    m.what = op == opcode::text ? message::kind::text : message::kind::binary;
    unmask_into(m.payload);
    if (m.what == message::kind::text && !valid_utf8(m.payload)) {
      fail(close_code::invalid_payload, "text is not UTF-8");
      return 0;
    }
    out.push_back(std::move(m));
    return used;
  }
  if (!in_message_)
    utf8_checked_ = 0;
  in_message_ = true;
  unmask_into(message_);
  if (message_op_ == opcode::text) {
    // Only the new bytes (and a code point the last fragment cut) are
    // scanned: each byte once, whatever the number of fragments.
    std::size_t tail = 0;
    auto scan = scan_utf8(
        reinterpret_cast<const unsigned char*>(message_.data()) + utf8_checked_,
        message_.size() - utf8_checked_, tail);
    if (scan == utf8_scan::bad || (fin && scan == utf8_scan::incomplete)) {
      fail(close_code::invalid_payload, "text is not UTF-8");
      return 0;
    }
    utf8_checked_ += tail;
  }
  if (fin) {
    message m;
    m.what = message_op_ == opcode::text ? message::kind::text
                                         : message::kind::binary;
    m.payload = std::move(message_);
    message_.clear();
    in_message_ = false;
    out.push_back(std::move(m));
  }
  return used;
}

} // namespace herald::protocol::ws
