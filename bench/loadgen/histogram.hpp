// A log-bucket latency histogram in the manner of HdrHistogram: 64 linear
// sub-buckets per power of two (relative error under 1.6%), fixed size
// (3,776 counters), O(1) record, never a sorted vector of samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace loadgen {

class histogram {
public:
  void record(int64_t value) {
    auto v = static_cast<uint64_t>(std::max<int64_t>(value, 0));
    ++counts_[index(v)];
    ++total_;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return total_ ? max_ : 0; }
  uint64_t min() const { return total_ ? min_ : 0; }

  // The value at quantile q (0..1): the highest value of the bucket holding
  // it, clamped to the largest value recorded.
  uint64_t quantile(double q) const {
    if (total_ == 0)
      return 0;
    auto target = static_cast<uint64_t>(q * static_cast<double>(total_));
    target = std::clamp<uint64_t>(target, 1, total_);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= target)
        return std::min(max_, lower(i + 1) - 1);
    }
    return max_;
  }

private:
  static constexpr int sub_bits = 6;
  static constexpr uint64_t sub = uint64_t{1} << sub_bits;

  static std::size_t index(uint64_t v) {
    if (v < sub)
      return static_cast<std::size_t>(v);
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - sub_bits;
    return static_cast<std::size_t>((shift + 1) * sub + ((v >> shift) - sub));
  }
  static uint64_t lower(std::size_t i) {
    if (i < sub)
      return i;
    auto shift = i / sub - 1;
    if (shift >= 58)
      return UINT64_MAX;
    return (i % sub + sub) << shift;
  }

  std::vector<uint64_t> counts_ =
      std::vector<uint64_t>((64 - sub_bits + 1) * sub);
  uint64_t total_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

} // namespace loadgen
