// `/ws` client frames (PROTOCOL §4): parse_client_frame, then what the
// connection does with a frame it accepted (each topic parsed as a
// pattern, `since` as a position) and the answers that echo the frame's
// `id`, `type` and topics, which must stay valid JSON whatever they hold.

#include "fuzz.hpp"

#include "protocol/frames.hpp"
#include "protocol/position_vector.hpp"
#include "protocol/topic.hpp"

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = herald::fuzz::text_of(data, size);
  auto parsed = parse_client_frame(text);
  if (auto* err = std::get_if<client_frame_error>(&parsed)) {
    HERALD_FUZZ_CHECK(!err->message.empty());
    HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_error(
        err->action, {}, codes::invalid_message, err->message, err->id)));
    return 0;
  }
  auto& frame = std::get<client_frame>(parsed);
  if (frame.type == client_frame::kind::ping) {
    HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_pong(frame.id)));
    return 0;
  }
  for (auto& t : frame.topics) {
    topic_segments segs;
    std::string why;
    if (!parse_pattern(t, segs, &why))
      HERALD_FUZZ_CHECK(!why.empty());
  }
  std::optional<bool> recovered;
  if (frame.since)
    recovered = parse_position_vector(*frame.since).has_value();
  auto action =
      frame.type == client_frame::kind::subscribe ? "subscribe" : "unsubscribe";
  HERALD_FUZZ_CHECK(herald::fuzz::is_json(
      encode_ack(action, frame.topics, frame.id, recovered)));
  HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_error(
      action, frame.topics, codes::invalid_topic, "bad", frame.id)));
  return 0;
}
