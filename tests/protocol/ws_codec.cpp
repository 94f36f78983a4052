#define CAF_SUITE protocol.ws_codec
#include <caf/test/unit_test.hpp>

#include "protocol/json_util.hpp"
#include "protocol/ws_codec.hpp"

#include <string>
#include <vector>

using namespace herald::protocol::ws;
using herald::protocol::valid_utf8;

namespace {

// A masked client frame, as a browser would send it.
std::string client_frame(uint8_t first_byte, std::string_view payload,
                         bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(
          static_cast<char>((uint64_t{payload.size()} >> shift) & 0xFF));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked)
    out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(masked ? static_cast<char>(payload[i] ^ mask[i & 3])
                         : payload[i]);
  return out;
}

std::string text(std::string_view payload) {
  return client_frame(0x81, payload);
}

std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}

struct fed {
  std::vector<message> messages;
  bool ok;
};

fed feed_all(reader& r, const std::string& bytes) {
  fed out;
  out.ok = r.feed(bytes.data(), bytes.size(), out.messages);
  return out;
}

} // namespace

CAF_TEST(server frames carry the three length forms) {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    auto frame = encode_frame(opcode::text, std::string(n, 'a'));
    auto header = n < 126 ? 2u : n <= 65535 ? 4u : 10u;
    CAF_CHECK_EQUAL(frame.size(), n + header);
    CAF_CHECK_EQUAL(static_cast<uint8_t>(frame[0]), 0x81);
    CAF_CHECK_EQUAL(frame_payload(frame).size(), n);
  }
}

CAF_TEST(close frames hold the code and a bounded reason) {
  auto frame = encode_close(1013, "slow");
  CAF_CHECK_EQUAL(static_cast<uint8_t>(frame[0]), 0x88);
  auto payload = frame_payload(frame);
  CAF_CHECK_EQUAL(payload, close_payload(1013, "slow"));
  auto long_reason = encode_close(1000, std::string(300, 'r'));
  CAF_CHECK_EQUAL(frame_payload(long_reason).size(), 125u);
}

CAF_TEST(accept key matches RFC 6455 section 1.3) {
  CAF_CHECK_EQUAL(accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
                  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

CAF_TEST(utf8 validation) {
  CAF_CHECK(valid_utf8(""));
  CAF_CHECK(valid_utf8("plain ascii that is longer than eight bytes"));
  CAF_CHECK(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CAF_CHECK(!valid_utf8("\xc3"));             // truncated
  CAF_CHECK(!valid_utf8("\xc0\xaf"));         // overlong
  CAF_CHECK(!valid_utf8("\xed\xa0\x80"));     // surrogate
  CAF_CHECK(!valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
  CAF_CHECK(!valid_utf8("\xff"));
  CAF_CHECK(!valid_utf8("abc\x80"));
}

CAF_TEST(a whole text frame in one feed) {
  reader r{1024};
  auto out = feed_all(r, text(R"({"type":"ping"})"));
  CAF_REQUIRE(out.ok);
  CAF_REQUIRE_EQUAL(out.messages.size(), 1u);
  CAF_CHECK(out.messages[0].what == message::kind::text);
  CAF_CHECK_EQUAL(out.messages[0].payload, R"({"type":"ping"})");
  CAF_CHECK_EQUAL(r.buffered(), 0u);
}

CAF_TEST(frames split at every byte) {
  reader r{1024};
  auto bytes = text("hello") + text(std::string(300, 'x'));
  std::vector<message> messages;
  for (char c : bytes)
    CAF_REQUIRE(r.feed(&c, 1, messages));
  CAF_REQUIRE_EQUAL(messages.size(), 2u);
  CAF_CHECK_EQUAL(messages[0].payload, "hello");
  CAF_CHECK_EQUAL(messages[1].payload, std::string(300, 'x'));
}

CAF_TEST(fragmented message with an interleaved ping) {
  reader r{1024};
  auto bytes = client_frame(0x01, "hel") + client_frame(0x89, "p")
               + client_frame(0x00, "lo ") + client_frame(0x80, "world");
  auto out = feed_all(r, bytes);
  CAF_REQUIRE(out.ok);
  CAF_REQUIRE_EQUAL(out.messages.size(), 2u);
  CAF_CHECK(out.messages[0].what == message::kind::ping);
  CAF_CHECK_EQUAL(out.messages[0].payload, "p");
  CAF_CHECK(out.messages[1].what == message::kind::text);
  CAF_CHECK_EQUAL(out.messages[1].payload, "hello world");
}

CAF_TEST(protocol errors close with 1002) {
  auto fails_with = [](const std::string& bytes, uint16_t code) {
    reader r{1024};
    auto out = feed_all(r, bytes);
    return !out.ok && r.failed() && r.error_code() == code;
  };
  CAF_CHECK(fails_with(client_frame(0x81, "x", false), 1002)); // unmasked
  CAF_CHECK(fails_with(client_frame(0xC1, "x"), 1002));        // RSV1
  CAF_CHECK(fails_with(client_frame(0x83, "x"), 1002));        // opcode 3
  CAF_CHECK(fails_with(client_frame(0x8B, "x"), 1002));        // opcode B
  CAF_CHECK(fails_with(client_frame(0x80, "x"), 1002)); // lone continuation
  CAF_CHECK(fails_with(client_frame(0x01, "a") + client_frame(0x81, "b"),
                       1002)); // new message inside a fragmented one
  CAF_CHECK(fails_with(client_frame(0x09, "p"), 1002)); // fragmented ping
  CAF_CHECK(fails_with(client_frame(0x89, std::string(126, 'p')), 1002));
  CAF_CHECK(fails_with(client_frame(0x88, "x"), 1002)); // 1-byte close
  CAF_CHECK(fails_with(client_frame(0x88, close_payload(1005)), 1002));
  CAF_CHECK(fails_with(client_frame(0x88, close_payload(999)), 1002));
}

CAF_TEST(oversized messages close with 1009) {
  reader whole{16};
  CAF_CHECK(!feed_all(whole, text(std::string(17, 'x'))).ok);
  CAF_CHECK_EQUAL(whole.error_code(), 1009);
  reader fragments{16};
  CAF_CHECK(!feed_all(fragments, client_frame(0x01, std::string(10, 'x'))
                                     + client_frame(0x80, std::string(10, 'y')))
                 .ok);
  CAF_CHECK_EQUAL(fragments.error_code(), 1009);
  // A huge announced length fails before any payload arrives.
  reader huge{65536};
  std::string header = "\x81\xff";
  header += std::string("\x00\x00\x00\x01\x00\x00\x00\x00", 8);
  CAF_CHECK(!feed_all(huge, header).ok);
  CAF_CHECK_EQUAL(huge.error_code(), 1009);
}

CAF_TEST(invalid utf8 closes with 1007) {
  reader r{1024};
  CAF_CHECK(!feed_all(r, text("\xc0\xaf")).ok);
  CAF_CHECK_EQUAL(r.error_code(), 1007);
  reader split{1024};
  // A code point cut by a fragment boundary is taken.
  CAF_CHECK(feed_all(split, client_frame(0x01, "\xe2\x82")
                                + client_frame(0x80, "\xac"))
                .ok);
  reader reason{1024};
  CAF_CHECK(
      !feed_all(reason, client_frame(0x88, close_payload(1000, "\xff"))).ok);
  CAF_CHECK_EQUAL(reason.error_code(), 1007);
}

CAF_TEST(close frames report their code) {
  reader r{1024};
  auto out = feed_all(r, client_frame(0x88, close_payload(1001, "bye"))
                             + client_frame(0x88, ""));
  CAF_REQUIRE(out.ok);
  CAF_REQUIRE_EQUAL(out.messages.size(), 2u);
  CAF_CHECK(out.messages[0].what == message::kind::close);
  CAF_CHECK_EQUAL(out.messages[0].close_code, 1001);
  CAF_CHECK_EQUAL(out.messages[0].payload, "bye");
  CAF_CHECK_EQUAL(out.messages[1].close_code, 1005);
}

CAF_TEST(binary messages are reported as binary) {
  reader r{1024};
  auto out = feed_all(r, client_frame(0x82, std::string("\x00\xff", 2)));
  CAF_REQUIRE(out.ok);
  CAF_REQUIRE_EQUAL(out.messages.size(), 1u);
  CAF_CHECK(out.messages[0].what == message::kind::binary);
}

CAF_TEST(fragmented text is checked fragment by fragment) {
  auto outcome = [](const std::string& bytes, std::size_t& messages) {
    reader r{1024};
    auto out = feed_all(r, bytes);
    messages = out.messages.size();
    return out.ok ? 0 : r.error_code();
  };
  std::size_t n = 0;
  // U+1F600 over three fragments (F0 | 9F 98 | 80), then a whole U+20AC.
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "a\xf0")
                              + client_frame(0x00, "\x9f\x98")
                              + client_frame(0x00, "")
                              + client_frame(0x80, "\x80\xe2\x82\xac"),
                          n),
                  0);
  CAF_CHECK_EQUAL(n, 1u);
  // Bytes no continuation can mend fail with the first fragment.
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "ok \xff"), n), 1007);
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xc0\xaf"), n), 1007);
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xe0\x80"), n), 1007);
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xed\xa0"), n), 1007);
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xf4\x90"), n), 1007);
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xf5"), n), 1007);
  // A valid prefix waits for the next fragment...
  CAF_CHECK_EQUAL(outcome(client_frame(0x01, "\xf4\x8f\xbf"), n), 0);
  CAF_CHECK_EQUAL(n, 0u);
  // ...which must complete it,
  CAF_CHECK_EQUAL(
      outcome(client_frame(0x01, "\xe2\x82") + client_frame(0x80, "("), n),
      1007);
  // and the last fragment may not end inside a code point.
  CAF_CHECK_EQUAL(
      outcome(client_frame(0x01, "abc") + client_frame(0x80, "\xe2\x82"), n),
      1007);
  // Binary fragments are not UTF-8 checked.
  CAF_CHECK_EQUAL(
      outcome(client_frame(0x02, "\xff") + client_frame(0x80, "\xc0"), n), 0);
  CAF_CHECK_EQUAL(n, 1u);
}

CAF_TEST(a failed fragmented message leaves the next one unaffected) {
  // The UTF-8 offset restarts with each message.
  reader r{1024};
  auto out = feed_all(
      r, client_frame(0x01, "\xe2\x82") + client_frame(0x80, "\xac")
             + client_frame(0x01, "x") + client_frame(0x80, "\xc3\xa9"));
  CAF_REQUIRE(out.ok);
  CAF_REQUIRE_EQUAL(out.messages.size(), 2u);
  CAF_CHECK_EQUAL(out.messages[0].payload, "\xe2\x82\xac");
  CAF_CHECK_EQUAL(out.messages[1].payload, "x\xc3\xa9");
}

CAF_TEST(close codes a client may send) {
  // Collected, so that a failure names the codes.
  std::vector<int> wrong;
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                   1013, 1014, 3000, 3999, 4000, 4999})
    if (!valid_close_code(static_cast<uint16_t>(code)))
      wrong.push_back(code);
  for (int code :
       {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    if (valid_close_code(static_cast<uint16_t>(code)))
      wrong.push_back(code);
  CAF_CHECK_EQUAL(wrong, std::vector<int>{});
}

CAF_TEST(client keys are 16 bytes in base64) {
  CAF_CHECK(valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CAF_CHECK(valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  CAF_CHECK(valid_client_key("+/+/+/+/+/+/+/+/+/+/zz=="));
  CAF_CHECK(!valid_client_key(""));
  CAF_CHECK(!valid_client_key("abc"));
  CAF_CHECK(!valid_client_key("AAAAAAAAAAAAAAAAAAAAAA"));   // unpadded
  CAF_CHECK(!valid_client_key("AAAAAAAAAAAAAAAAAAAAAAA=")); // 17 bytes
  CAF_CHECK(!valid_client_key("!!!!!!!!!!!!!!!!!!!!!!=="));
  CAF_CHECK(!valid_client_key("AAAAAAAAAAAAAAAAAAAAAA== "));
  CAF_CHECK(!valid_client_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}
