// What members of a cluster send each other (protocol/cluster_wire.hpp),
// as CAF 0.17's binary deserializer reads it through the structs'
// `inspect`. The first byte picks the type; the rest is its bytes. What
// decodes encodes back to bytes that decode to the same thing, and goes on
// as the node takes it: an event through from_wire, interest patterns and
// replay patterns through parse_pattern.

#include "fuzz.hpp"

#include "protocol/cluster_wire.hpp"
#include "protocol/topic.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <string>
#include <vector>

using namespace herald::protocol;

namespace {

template <class T>
bool decode(const char* data, std::size_t size, T& out) {
  caf::binary_deserializer source{nullptr, data, size};
  return !source(out);
}

template <class T>
std::vector<char> encode(T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  HERALD_FUZZ_CHECK(!sink(x));
  return buf;
}

// Decodes, and checks that the bytes it re-encodes to read back the same.
template <class T>
bool round_trip(const char* data, std::size_t size, T& out) {
  if (!decode(data, size, out))
    return false;
  auto bytes = encode(out);
  T again;
  HERALD_FUZZ_CHECK(decode(bytes.data(), bytes.size(), again));
  HERALD_FUZZ_CHECK(encode(again) == bytes);
  return true;
}

void patterns(const std::vector<std::string>& ps) {
  for (auto& p : ps) {
    topic_segments segs;
    (void)parse_pattern(p, segs);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto* bytes = reinterpret_cast<const char*>(data + 1);
  auto n = size - 1;
  switch (data[0] % 6) {
  case 0: {
    wire_event w;
    if (round_trip(bytes, n, w)) {
      auto ev = from_wire(std::move(w));
      HERALD_FUZZ_CHECK(to_wire(*ev).seq == ev->seq);
    }
    break;
  }
  case 1: {
    wire_events ws;
    if (round_trip(bytes, n, ws))
      for (auto& w : ws)
        (void)from_wire(std::move(w));
    break;
  }
  case 2: {
    member_infos ms;
    (void)round_trip(bytes, n, ms);
    break;
  }
  case 3: {
    interest_update u;
    if (round_trip(bytes, n, u)) {
      patterns(u.added);
      patterns(u.removed);
    }
    break;
  }
  case 4: {
    replay_query q;
    if (round_trip(bytes, n, q))
      patterns(q.patterns);
    break;
  }
  default: {
    replay_parts ps;
    if (round_trip(bytes, n, ps))
      for (auto& p : ps)
        for (auto& w : p.events)
          (void)from_wire(std::move(w));
  }
  }
  return 0;
}
