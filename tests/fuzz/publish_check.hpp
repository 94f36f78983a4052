#pragma once

// What the publish targets check of each accepted event: that it is what
// PROTOCOL §6 promises, and that every frame the node encodes from it (the
// `/ws` frame, the SSE frame, the envelope frame and the 202 answer) is
// valid JSON however odd the publisher's strings were.

#include "fuzz.hpp"

#include "protocol/audience.hpp"
#include "protocol/envelope.hpp"
#include "protocol/frames.hpp"
#include "protocol/publish.hpp"
#include "protocol/sse.hpp"
#include "protocol/topic.hpp"

namespace herald::fuzz {

inline void check_event(const protocol::event& ev) {
  using namespace protocol;
  HERALD_FUZZ_CHECK(!ev.id.empty());
  HERALD_FUZZ_CHECK(!ev.event_type.empty());
  if (!ev.topic.empty()) {
    topic_segments segs;
    HERALD_FUZZ_CHECK(parse_topic(ev.topic, segs));
  }
  rapidjson::Document data;
  data.Parse(ev.data_json.data(), ev.data_json.size());
  HERALD_FUZZ_CHECK(!data.HasParseError() && data.IsObject());
  if (!ev.trace_json.empty())
    HERALD_FUZZ_CHECK(is_json(ev.trace_json));
  HERALD_FUZZ_CHECK(is_json(encode_publish_accepted(ev)));
  HERALD_FUZZ_CHECK(is_json(encode_ws_event(ev)));
  HERALD_FUZZ_CHECK(is_json(encode_envelope_event(ev)));
  HERALD_FUZZ_CHECK(is_json(sse::encode_data(ev, false)));
  HERALD_FUZZ_CHECK(is_json(sse::encode_data(ev, true)));
  // One SSE event: no blank line inside, whatever the strings held.
  if (auto frame = sse::encode_frame(ev))
    HERALD_FUZZ_CHECK(frame->frame.find("\n\n") == frame->frame.size() - 2);
  identity who;
  who.sub = "u1";
  who.tenant_id = "t1";
  (void)audience_allows(ev.aud, who);
}

inline void check_error(const protocol::publish_error& err) {
  HERALD_FUZZ_CHECK(err.status == 400 || err.status == 422);
  HERALD_FUZZ_CHECK(!err.code.empty() && !err.message.empty());
  HERALD_FUZZ_CHECK(is_json(protocol::encode_error_body(err)));
}

} // namespace herald::fuzz
