// Positions, as a client hands them back: the `since` of a subscribe frame
// and SSE's `Last-Event-ID` header (or `?last_event_id=`), both read by
// parse_position_vector (docs/cluster.md, "Positions"). What parses
// encodes to a canonical form that parses to the same vector.

#include "fuzz.hpp"

#include "protocol/position_vector.hpp"

#include <string>

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = parse_position_vector(herald::fuzz::text_of(data, size));
  if (!v)
    return 0;
  HERALD_FUZZ_CHECK(!v->empty());
  for (std::size_t i = 0; i < v->size(); ++i) {
    HERALD_FUZZ_CHECK(!(*v)[i].epoch.empty());
    HERALD_FUZZ_CHECK(find_entry(*v, (*v)[i].epoch) == &(*v)[i]);
    if (i > 0)
      HERALD_FUZZ_CHECK((*v)[i - 1].epoch < (*v)[i].epoch);
  }
  auto text = encode_position_vector(*v);
  auto again = parse_position_vector(text);
  HERALD_FUZZ_CHECK(again && encode_position_vector(*again) == text);
  // Raising keeps the vector sorted and never lowers an entry.
  auto raised = *v;
  raise_entry(raised, v->front().epoch, 0);
  HERALD_FUZZ_CHECK(raised.size() == v->size());
  HERALD_FUZZ_CHECK(raised.front().seq == v->front().seq);
  raise_entry(raised, v->back().epoch + "~", 1);
  HERALD_FUZZ_CHECK(raised.size() == v->size() + 1);
  HERALD_FUZZ_CHECK(encode_position_vector(raised).rfind(text, 0) == 0);
  return 0;
}
