#include "actors/registry.hpp"

#include <algorithm>
#include <chrono>

namespace herald::actors {

const char* to_string(actor_kind kind) {
  switch (kind) {
  case actor_kind::router:
    return "router";
  case actor_kind::topic:
    return "topic";
  case actor_kind::connection:
    return "connection";
  case actor_kind::supervisor:
    return "supervisor";
  case actor_kind::monitor:
    return "monitor";
  case actor_kind::channel:
    return "channel";
  }
  return "actor";
}

actor_counters* actor_registry::enroll(uint64_t id, actor_kind kind,
                                       std::string name, uint64_t parent) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, added] = live_.try_emplace(id);
  (void)added; // ids are unique for the actor system's life
  auto& e = i->second;
  e.kind = kind;
  e.name = std::move(name);
  e.parent = parent;
  e.started_ms = now;
  return &e.counters;
}

void actor_registry::set_state(uint64_t id, std::string state) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = live_.find(id); i != live_.end())
    i->second.state = std::move(state);
}

void actor_registry::retire(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = live_.find(id);
  if (i == live_.end())
    return;
  if (i->second.kind == actor_kind::connection) {
    auto& c = i->second.counters;
    retired_.delivered += c.delivered.load(std::memory_order_relaxed);
    retired_.filtered += c.filtered.load(std::memory_order_relaxed);
    retired_.dropped += c.dropped.load(std::memory_order_relaxed);
  }
  live_.erase(i);
}

std::vector<actor_row> actor_registry::list() const {
  std::vector<actor_row> rows;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    rows.reserve(live_.size());
    for (auto& [id, e] : live_) {
      auto& c = e.counters;
      rows.push_back(actor_row{id, e.kind, e.name, e.parent, e.started_ms,
                               c.handled.load(std::memory_order_relaxed),
                               c.delivered.load(std::memory_order_relaxed),
                               c.filtered.load(std::memory_order_relaxed),
                               c.dropped.load(std::memory_order_relaxed),
                               c.mailbox.load(std::memory_order_relaxed),
                               e.state});
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](auto& a, auto& b) { return a.id < b.id; });
  return rows;
}

delivery_totals actor_registry::connection_totals() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto sum = retired_;
  for (auto& [id, e] : live_) {
    if (e.kind != actor_kind::connection)
      continue;
    sum.delivered += e.counters.delivered.load(std::memory_order_relaxed);
    sum.filtered += e.counters.filtered.load(std::memory_order_relaxed);
    sum.dropped += e.counters.dropped.load(std::memory_order_relaxed);
  }
  return sum;
}

size_t actor_registry::count(actor_kind kind) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<size_t>(
      std::count_if(live_.begin(), live_.end(),
                    [kind](auto& kv) { return kv.second.kind == kind; }));
}

} // namespace herald::actors
