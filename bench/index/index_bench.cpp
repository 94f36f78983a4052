// herald-bench-index: the pattern index (protocol/pattern_index.hpp) on its
// own, issue 3 scenario 6. Stored patterns have the shape of
// seeds/topic-subscriptions.rst, 20 per customer:
//   17 x customer_id:c<k>:call:<id>     (exact, 85%)
//    1 x customer_id:c<k>:call:*        (`*`, 5%)
//    1 x agent_id:a<k>:queue:*          (`*` under another scope, 5%)
//    1 x customer_id:c<k>:>             (`>`, 5%)
// Matched topics are 4-segment customer_id:c<k>:call:<id> for random stored
// customers, half of them naming a stored call (3 matches: exact, `*`, `>`),
// half an unknown one (2 matches).
//
//   herald-bench-index [--benchmark_format=json] [--benchmark_filter=Match]
//                      [--benchmark_repetitions=5
//                       --benchmark_report_aggregates_only=true]  (medians)
//
// BM_Match is the figure of issue 3 (time per match, 4-segment topic,
// pre-parsed as the node does once per publish); BM_ParseAndMatch adds
// parse_topic; BM_MatchWarm cycles 16 topics only (cache-warm); insert and
// erase are timed at steady state (BM_InsertErase) and in bulk.

#include "protocol/pattern_index.hpp"
#include "protocol/topic.hpp"

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using herald::protocol::parse_topic;
using herald::protocol::pattern_index;
using herald::protocol::topic_segments;
using index_t = pattern_index<std::uint32_t>;

constexpr std::size_t per_customer = 20;
constexpr std::size_t pool_size = 8192; // distinct topics cycled through

std::string call_id(std::uint64_t n) {
  // A 16-hex-digit id, scattered so that neighbours do not share prefixes.
  std::uint64_t x = n * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

std::string call_topic(std::size_t customer, std::uint64_t call) {
  return "customer_id:c" + std::to_string(customer) + ":call:" + call_id(call);
}

// Pattern i of a population; calls of customer k are k * 20 + slot.
std::string pattern(std::size_t i) {
  std::size_t k = i / per_customer, slot = i % per_customer;
  std::string c = std::to_string(k);
  switch (slot) {
  case 17:
    return "customer_id:c" + c + ":call:*";
  case 18:
    return "agent_id:a" + c + ":queue:*";
  case 19:
    return "customer_id:c" + c + ":>";
  default:
    return call_topic(k, i);
  }
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

struct population {
  index_t index;
  std::size_t heap_bytes = 0;
  std::vector<std::string> topics; // the match pool (owns the text)
  std::vector<topic_segments> parsed;
  std::vector<std::string> fresh; // patterns absent from the index
};

population& get(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<population>> cache;
  auto& slot = cache[n];
  if (slot)
    return *slot;
  slot = std::make_unique<population>();
  auto& p = *slot;
  auto before = heap_in_use();
  for (std::size_t i = 0; i < n; ++i)
    p.index.insert(pattern(i), static_cast<std::uint32_t>(i));
  p.heap_bytes = heap_in_use() - before;
  std::mt19937_64 rng{42};
  std::size_t customers = (n + per_customer - 1) / per_customer;
  p.topics.reserve(pool_size);
  for (std::size_t j = 0; j < pool_size; ++j) {
    std::size_t k = rng() % customers;
    std::uint64_t call = k * per_customer + rng() % 17; // a stored call
    if (j % 2 == 1 || call >= n)
      call = n + j; // one no pattern names exactly
    p.topics.push_back(call_topic(k, call));
    p.fresh.push_back(call_topic(k, n + pool_size + j));
  }
  p.parsed.resize(pool_size);
  for (std::size_t j = 0; j < pool_size; ++j)
    if (!parse_topic(p.topics[j], p.parsed[j]))
      std::abort();
  return p;
}

// Cycles through `pool` topics: the whole pool (8192 random customers, the
// realistic case, mostly cache misses at large N) or 16 (cache-warm: the
// algorithm's own cost, which should stay flat as N grows).
void match_loop(benchmark::State& state, std::size_t pool) {
  auto& p = get(static_cast<std::size_t>(state.range(0)));
  std::size_t j = 0, matches = 0;
  for (auto _ : state) {
    p.index.match(p.parsed[j], [&](std::uint32_t v) {
      benchmark::DoNotOptimize(v);
      ++matches;
    });
    j = (j + 1) & (pool - 1);
  }
  state.counters["patterns"] = static_cast<double>(p.index.size());
  state.counters["matches_per_topic"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations());
  state.counters["heap_bytes_per_pattern"] =
      static_cast<double>(p.heap_bytes) / static_cast<double>(p.index.size());
}

void BM_Match(benchmark::State& state) {
  match_loop(state, pool_size);
}

void BM_MatchWarm(benchmark::State& state) {
  match_loop(state, 16);
}

void BM_ParseAndMatch(benchmark::State& state) {
  auto& p = get(static_cast<std::size_t>(state.range(0)));
  std::size_t j = 0, matches = 0;
  topic_segments segs;
  for (auto _ : state) {
    if (parse_topic(p.topics[j], segs))
      p.index.match(segs, [&](std::uint32_t v) {
        benchmark::DoNotOptimize(v);
        ++matches;
      });
    j = (j + 1) & (pool_size - 1);
  }
  state.counters["patterns"] = static_cast<double>(p.index.size());
  state.counters["matches_per_topic"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations());
}

// Steady state at size N: subscribe one new exact pattern, then drop it.
void BM_InsertErase(benchmark::State& state) {
  auto& p = get(static_cast<std::size_t>(state.range(0)));
  std::size_t j = 0;
  for (auto _ : state) {
    bool in = p.index.insert(p.fresh[j], 1);
    bool out = p.index.erase(p.fresh[j]);
    benchmark::DoNotOptimize(in && out);
    j = (j + 1) & (pool_size - 1);
  }
  state.counters["patterns"] = static_cast<double>(p.index.size());
}

// Building an index of N patterns from empty: time per insert.
void BM_Insert(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::string> pats;
  pats.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    pats.push_back(pattern(i));
  for (auto _ : state) {
    auto idx = std::make_unique<index_t>();
    for (std::size_t i = 0; i < n; ++i)
      idx->insert(pats[i], static_cast<std::uint32_t>(i));
    state.PauseTiming();
    idx.reset();
    state.ResumeTiming();
  }
  // Seconds per insert (the console shows e.g. "350ns").
  state.counters["per_insert"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate
                                  | benchmark::Counter::kInvert);
}

// Emptying an index of N patterns one by one: time per erase.
void BM_Erase(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::string> pats;
  pats.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    pats.push_back(pattern(i));
  std::mt19937_64 rng{7};
  std::shuffle(pats.begin(), pats.end(), rng);
  for (auto _ : state) {
    state.PauseTiming();
    auto idx = std::make_unique<index_t>();
    for (std::size_t i = 0; i < n; ++i)
      idx->insert(pats[i], static_cast<std::uint32_t>(i));
    state.ResumeTiming();
    for (std::size_t i = 0; i < n; ++i)
      idx->erase(pats[i]);
    benchmark::DoNotOptimize(idx->size());
  }
  // Seconds per erase (the console shows e.g. "350ns").
  state.counters["per_erase"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate
                                  | benchmark::Counter::kInvert);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (long n : {1000L, 10000L, 100000L, 1000000L})
    b->Arg(n);
}

} // namespace

BENCHMARK(BM_Match)->Apply(sizes);
BENCHMARK(BM_MatchWarm)->Apply(sizes);
BENCHMARK(BM_ParseAndMatch)->Apply(sizes);
BENCHMARK(BM_InsertErase)->Apply(sizes);
BENCHMARK(BM_Insert)->Apply(sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Erase)->Apply(sizes)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
