#include "plugin_kit.hpp"

#include <ctime>

namespace herald::plugins {

std::string iso8601(int64_t us) {
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ",
                static_cast<int>((us / 1000) % 1000));
  return buf;
}

} // namespace herald::plugins
