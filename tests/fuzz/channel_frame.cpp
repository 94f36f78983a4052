// Channel endpoint frames (`/api/v69/ws/<name>`, PROTOCOL §7):
// parse_channel_request and the field readers channels use on it, then the
// answer and error frames that echo its `type` and `id`.

#include "fuzz.hpp"

#include "protocol/channel_frame.hpp"

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = herald::fuzz::text_of(data, size);
  auto parsed = parse_channel_request(text);
  if (auto* err = std::get_if<channel_request_error>(&parsed)) {
    HERALD_FUZZ_CHECK(!err->message.empty());
    HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_channel_error(
        "INVALID_MESSAGE", err->message, err->type, 1700000000000000)));
    return 0;
  }
  auto& req = std::get<channel_request>(parsed);
  HERALD_FUZZ_CHECK(req.doc.IsObject());
  // The members the stock channels read.
  for (auto key : {"type", "id", "symbol", "symbols", "topic", "room", "limit",
                   "offset", "enabled", "key", "value"}) {
    (void)req.string_field(key);
    (void)req.uint_field(key);
    (void)req.bool_field(key);
  }
  HERALD_FUZZ_CHECK(herald::fuzz::is_json(
      encode_channel_frame(req.type, "{}", 1700000000000000, req.id)));
  HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_channel_error(
      "NOT_FOUND", "no such thing", req.type, 1700000000000000, req.id)));
  return 0;
}
