// The ThreadSanitizer run's canary (tests/README.md, "Sanitizers"): two
// actors on CAF's real scheduler pass messages back and forth, and both
// write one global with no lock. A TSan run that can see races reports
// exactly that one; a run against an uninstrumented CAF reports the
// mailbox's hand-overs as well (48 reports in one run against Debian's). The
// check, in CMakeLists.txt, wants one report, about this counter.
#include <caf/all.hpp>

#include <string>
#include <vector>

int race_canary_counter = 0; // written by both actors, unguarded: the race

namespace {

caf::behavior adder(caf::event_based_actor*) {
  return {[](const std::string& text, const std::vector<int>& numbers) {
    race_canary_counter += static_cast<int>(numbers.size());
    return text + "!";
  }};
}

void caf_main(caf::actor_system& sys) {
  auto first = sys.spawn(adder);
  auto second = sys.spawn(adder);
  caf::scoped_actor self{sys};
  for (int round = 0; round < 200; ++round) {
    std::vector<int> numbers(static_cast<size_t>(round % 7), round);
    self->send(first, std::to_string(round), numbers);
    self->send(second, std::to_string(round), numbers);
  }
  for (const auto& worker : {first, second})
    self->request(worker, caf::infinite, std::string{"done"},
                  std::vector<int>{})
        .receive([](const std::string&) {}, [](const caf::error&) {});
}

} // namespace

CAF_MAIN()
