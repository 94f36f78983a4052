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
  case actor_kind::node:
    return "node";
  case actor_kind::store:
    return "store";
  case actor_kind::inspector:
    return "inspector";
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
  e.sampled_ms = now;
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

actor_row actor_registry::row_of(uint64_t id, const entry& e) {
  auto& c = e.counters;
  actor_row r;
  r.id = id;
  r.kind = e.kind;
  r.name = e.name;
  r.parent = e.parent;
  r.started_ms = e.started_ms;
  r.handled = c.handled.load(std::memory_order_relaxed);
  r.delivered = c.delivered.load(std::memory_order_relaxed);
  r.filtered = c.filtered.load(std::memory_order_relaxed);
  r.dropped = c.dropped.load(std::memory_order_relaxed);
  r.mailbox = c.mailbox.load(std::memory_order_relaxed);
  r.gauge = c.gauge.load(std::memory_order_relaxed);
  r.last_seq = c.last_seq.load(std::memory_order_relaxed);
  r.rate = e.rate;
  r.last_active_ms = e.last_active_ms;
  r.state = e.state;
  return r;
}

std::vector<actor_row> actor_registry::list(const row_filter& keep) const {
  std::vector<actor_row> rows;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    rows.reserve(live_.size());
    for (auto& [id, e] : live_)
      if (!keep || keep(e.kind, e.name))
        rows.push_back(row_of(id, e));
  }
  std::sort(rows.begin(), rows.end(),
            [](auto& a, auto& b) { return a.id < b.id; });
  return rows;
}

void actor_registry::set_identity(uint64_t id,
                                  std::shared_ptr<const protocol::identity> who,
                                  std::string remote) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = live_.find(id); i != live_.end()) {
    i->second.who = std::move(who);
    i->second.remote = std::move(remote);
  }
}

void actor_registry::set_subscriptions(uint64_t id,
                                       std::vector<std::string> patterns) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = live_.find(id); i != live_.end()) {
    i->second.counters.gauge.store(patterns.size(), std::memory_order_relaxed);
    i->second.subscriptions = std::move(patterns);
  }
}

void actor_registry::set_stopper(uint64_t id,
                                 std::function<void(const std::string&)> stop) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = live_.find(id); i != live_.end())
    i->second.stopper = std::move(stop);
}

actor_registry::stop_result actor_registry::stop(uint64_t id,
                                                 const std::string& reason) {
  std::function<void(const std::string&)> stopper;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = live_.find(id);
    if (i == live_.end())
      return stop_result::not_found;
    stopper = i->second.stopper;
  }
  if (!stopper)
    return stop_result::refused;
  stopper(reason);
  return stop_result::stopped;
}

void actor_registry::sample(int64_t now_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [id, e] : live_) {
    auto handled = e.counters.handled.load(std::memory_order_relaxed);
    auto elapsed = now_ms - e.sampled_ms;
    if (elapsed <= 0)
      continue;
    if (handled != e.sampled_handled)
      e.last_active_ms = now_ms;
    e.rate = static_cast<double>(handled - e.sampled_handled) * 1000.0
             / static_cast<double>(elapsed);
    e.sampled_handled = handled;
    e.sampled_ms = now_ms;
  }
}

std::optional<actor_row> actor_registry::find(uint64_t id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = live_.find(id);
  if (i == live_.end())
    return std::nullopt;
  auto row = row_of(id, i->second);
  row.who = i->second.who;
  row.remote = i->second.remote;
  row.subscriptions = i->second.subscriptions;
  return row;
}

std::vector<actor_row> actor_registry::children_of(uint64_t id) const {
  std::vector<actor_row> rows;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [child, e] : live_)
      if (e.parent == id && child != id)
        rows.push_back(row_of(child, e));
  }
  std::sort(rows.begin(), rows.end(),
            [](auto& a, auto& b) { return a.id < b.id; });
  return rows;
}

std::vector<actor_row>
actor_registry::holding(const std::string& pattern) const {
  std::vector<actor_row> rows;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [id, e] : live_)
      if (e.kind == actor_kind::connection
          && std::find(e.subscriptions.begin(), e.subscriptions.end(), pattern)
                 != e.subscriptions.end())
        rows.push_back(row_of(id, e));
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
