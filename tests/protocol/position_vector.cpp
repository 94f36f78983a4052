#define CAF_SUITE protocol.position_vector
#include <caf/test/unit_test.hpp>

#include "protocol/position_vector.hpp"

using namespace herald::protocol;

CAF_TEST(a lone node position is the one - entry vector) {
  auto v = parse_position_vector("ab12cd34-17");
  CAF_REQUIRE(v);
  CAF_REQUIRE_EQUAL(v->size(), 1u);
  CAF_CHECK_EQUAL(v->front().epoch, "ab12cd34");
  CAF_CHECK_EQUAL(v->front().seq, 17u);
  CAF_CHECK_EQUAL(encode_position_vector(*v), "ab12cd34-17");
}

CAF_TEST(vectors round - trip sorted by epoch) {
  auto v = parse_position_vector("e2-4.e1-17.e3-0");
  CAF_REQUIRE(v);
  CAF_CHECK_EQUAL(encode_position_vector(*v), "e1-17.e2-4.e3-0");
  CAF_CHECK_EQUAL(find_entry(*v, "e2")->seq, 4u);
  CAF_CHECK(find_entry(*v, "e9") == nullptr);
}

CAF_TEST(malformed positions are refused) {
  for (auto bad : {"", ".", "e1-1.", ".e1-1", "e1-", "-5", "e1-x", "e1-1.e1-2",
                   "e1-1..e2-2", "e1-99999999999999999999999"}) {
    CAF_MESSAGE("refusing " << bad);
    CAF_CHECK(!parse_position_vector(bad));
  }
}

CAF_TEST(raise_entry only raises and keeps the order) {
  position_vector v;
  raise_entry(v, "b", 5);
  raise_entry(v, "a", 3);
  raise_entry(v, "b", 2);
  raise_entry(v, "c", 1);
  CAF_CHECK_EQUAL(encode_position_vector(v), "a-3.b-5.c-1");
}
