#include "plugin_kit.hpp"

#include <chrono>
#include <ctime>
#include <random>

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

std::string make_message_id() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // variant 1
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

std::string parse_uint_config(
    const std::string& json,
    const std::map<std::string, std::pair<uint64_t, uint64_t>>& bounds,
    std::map<std::string, uint64_t>& out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return "must be a JSON object";
  for (auto& m : doc.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    auto b = bounds.find(key);
    if (b == bounds.end()) {
      std::string known;
      for (auto& [k, _] : bounds)
        known += (known.empty() ? "" : ", ") + k;
      return "unknown key '" + key + "' (" + known + ")";
    }
    auto [lo, hi] = b->second;
    if (!m.value.IsUint64() || m.value.GetUint64() < lo
        || m.value.GetUint64() > hi)
      return key + ": must be an integer " + std::to_string(lo) + ".."
             + std::to_string(hi);
    out[key] = m.value.GetUint64();
  }
  return {};
}

} // namespace herald::plugins
