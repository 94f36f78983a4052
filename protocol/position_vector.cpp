#include "protocol/position_vector.hpp"

#include "protocol/history.hpp"

#include <algorithm>

namespace herald::protocol {

std::string encode_position_vector(const position_vector& v) {
  std::string out;
  out.reserve(v.size() * 20);
  for (auto& e : v) {
    if (!out.empty())
      out += '.';
    out += e.epoch;
    out += '-';
    out += std::to_string(e.seq);
  }
  return out;
}

std::optional<position_vector> parse_position_vector(std::string_view text) {
  position_vector v;
  while (!text.empty()) {
    auto dot = text.find('.');
    auto part = text.substr(0, dot);
    auto pos = parse_position(part);
    if (!pos)
      return std::nullopt;
    if (find_entry(v, pos->epoch) != nullptr)
      return std::nullopt;
    v.push_back(position_entry{std::string{pos->epoch}, pos->seq});
    if (dot == std::string_view::npos)
      break;
    text.remove_prefix(dot + 1);
    if (text.empty())
      return std::nullopt;
  }
  if (v.empty())
    return std::nullopt;
  std::sort(v.begin(), v.end(),
            [](auto& a, auto& b) { return a.epoch < b.epoch; });
  return v;
}

const position_entry* find_entry(const position_vector& v,
                                 std::string_view epoch) {
  for (auto& e : v)
    if (e.epoch == epoch)
      return &e;
  return nullptr;
}

void raise_entry(position_vector& v, std::string_view epoch, uint64_t seq) {
  auto i = std::lower_bound(
      v.begin(), v.end(), epoch,
      [](const position_entry& e, std::string_view x) { return e.epoch < x; });
  if (i != v.end() && i->epoch == epoch) {
    i->seq = std::max(i->seq, seq);
    return;
  }
  v.insert(i, position_entry{std::string{epoch}, seq});
}

} // namespace herald::protocol
