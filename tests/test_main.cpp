// The one translation unit per test binary that holds CAF's test engine and
// main(). Suites live in the other files, one `CAF_SUITE` each.
#define CAF_SUITE main
#include <caf/test/unit_test_impl.hpp>
