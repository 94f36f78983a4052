// The WebSocket frame reader (RFC 6455, protocol/ws_codec.*): client bytes
// fed to a reader whole and to another one cut in pieces whose sizes come
// from the first byte; both must find the same messages and the same error,
// text within the size limit and valid UTF-8. Each message's payload then
// goes through the server's encoders.

#include "fuzz.hpp"

#include "protocol/json_util.hpp"
#include "protocol/ws_codec.hpp"

#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

constexpr std::size_t max_message = 4096;

bool same(const std::vector<ws::message>& a,
          const std::vector<ws::message>& b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].what != b[i].what || a[i].payload != b[i].payload
        || a[i].close_code != b[i].close_code)
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::size_t step = data[0] % 16 + 1;
  auto* bytes = reinterpret_cast<const char*>(data + 1);
  std::size_t n = size - 1;
  ws::reader whole{max_message};
  std::vector<ws::message> got_whole;
  bool ok_whole = whole.feed(bytes, n, got_whole);
  ws::reader pieces{max_message};
  std::vector<ws::message> got_pieces;
  bool ok_pieces = true;
  for (std::size_t at = 0; at < n && ok_pieces;) {
    auto piece = std::min(step, n - at);
    ok_pieces = pieces.feed(bytes + at, piece, got_pieces);
    at += piece;
    step = step % 7 + 1; // vary the cut
  }
  HERALD_FUZZ_CHECK(ok_whole == ok_pieces);
  HERALD_FUZZ_CHECK(whole.error_code() == pieces.error_code());
  // A failed stream stops at the error, wherever the cut fell.
  HERALD_FUZZ_CHECK(same(got_whole, got_pieces));
  if (!ok_whole) {
    auto code = whole.error_code();
    HERALD_FUZZ_CHECK(code == ws::close_code::protocol_error
                      || code == ws::close_code::invalid_payload
                      || code == ws::close_code::too_big);
  }
  for (auto& m : got_whole) {
    HERALD_FUZZ_CHECK(m.payload.size() <= max_message);
    if (m.what == ws::message::kind::text)
      HERALD_FUZZ_CHECK(valid_utf8(m.payload));
    if (m.what == ws::message::kind::close) {
      HERALD_FUZZ_CHECK(m.close_code == 1005
                        || ws::valid_close_code(m.close_code));
      HERALD_FUZZ_CHECK(valid_utf8(m.payload));
      auto close = ws::encode_close(m.close_code == 1005 ? 1000 : m.close_code,
                                    m.payload);
      HERALD_FUZZ_CHECK(close.size() <= 2 + 125);
    }
    if (m.what == ws::message::kind::ping || m.what == ws::message::kind::pong)
      HERALD_FUZZ_CHECK(m.payload.size() <= 125);
    auto frame = ws::encode_frame(ws::opcode::text, m.payload);
    HERALD_FUZZ_CHECK(ws::frame_payload(frame) == m.payload);
  }
  return 0;
}
