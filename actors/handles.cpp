#include "actors/handles.hpp"

namespace herald::actors {

uint64_t pattern_key(std::string_view pattern) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : pattern) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

} // namespace herald::actors
