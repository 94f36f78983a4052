// One publish body (`POST /api/v1/publish`, PROTOCOL §6): parse_publish,
// then every frame the node makes of an accepted event
// (publish_check.hpp).

#include "publish_check.hpp"

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_publish(herald::fuzz::text_of(data, size), 1700000000000000);
  if (auto* ev = std::get_if<event>(&r))
    herald::fuzz::check_event(*ev);
  else
    herald::fuzz::check_error(std::get<publish_error>(r));
  return 0;
}
