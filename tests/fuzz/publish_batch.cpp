// A batch publish body (`POST /api/v1/publish/batch`, PROTOCOL §6):
// parse_publish_batch with a limit of 16 events, each result checked as a
// single publish is (publish_check.hpp), and the batch answer.

#include "publish_check.hpp"

using namespace herald::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr std::size_t max_events = 16;
  auto r = parse_publish_batch(herald::fuzz::text_of(data, size),
                               1700000000000000, max_events);
  if (auto* err = std::get_if<publish_error>(&r)) {
    herald::fuzz::check_error(*err);
    return 0;
  }
  auto& results = std::get<std::vector<publish_result>>(r);
  HERALD_FUZZ_CHECK(results.size() <= max_events);
  for (auto& one : results) {
    if (auto* ev = std::get_if<event>(&one))
      herald::fuzz::check_event(*ev);
    else
      herald::fuzz::check_error(std::get<publish_error>(one));
  }
  HERALD_FUZZ_CHECK(herald::fuzz::is_json(encode_batch_results(results)));
  return 0;
}
