#include "cluster/interest.hpp"

#include "protocol/topic.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

namespace herald::cluster {

using namespace protocol;

namespace {

// SSE tenants travel as the name of their fan-out, `sse:tenant=<T>`.
constexpr std::string_view sse_prefix = "sse:tenant=";

bool is_sse(const std::string& p) {
  return p.compare(0, sse_prefix.size(), sse_prefix) == 0;
}

void add_bit(member_state& st, const std::string& p, uint64_t bit) {
  if (is_sse(p)) {
    st.remote_sse[p.substr(sse_prefix.size())] |= bit;
  } else if (auto* mask = st.remote.find(p)) {
    *mask |= bit;
  } else if (!st.remote.insert(p, bit)) {
    return; // not a pattern: nothing a member could hold
  }
  st.ctx->metrics.cluster_interest.fetch_add(1, std::memory_order_relaxed);
}

void remove_bit(member_state& st, const std::string& p, uint64_t bit) {
  if (is_sse(p)) {
    auto i = st.remote_sse.find(p.substr(sse_prefix.size()));
    if (i == st.remote_sse.end() || (i->second & bit) == 0)
      return;
    if ((i->second &= ~bit) == 0)
      st.remote_sse.erase(i);
  } else {
    auto* mask = st.remote.find(p);
    if (mask == nullptr || (*mask & bit) == 0)
      return;
    if ((*mask &= ~bit) == 0)
      st.remote.erase(p);
  }
  st.ctx->metrics.cluster_interest.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace

void local_interest_changed(member_actor_ptr self,
                            std::vector<std::string>& added,
                            std::vector<std::string>& removed) {
  auto& st = self->state;
  for (auto& p : added)
    st.local_interest.insert(p);
  for (auto& p : removed)
    st.local_interest.erase(p);
  interest_update update;
  update.version = ++st.local_version;
  update.added = std::move(added);
  update.removed = std::move(removed);
  for (auto& [name, m] : st.members)
    if (m.live)
      self->send(m.handle, interest_atom::value, st.me.name, update);
}

void send_full_interest(member_actor_ptr self, const member_entry& to) {
  auto& st = self->state;
  interest_update update;
  update.version = st.local_version;
  update.full = true;
  update.added.assign(st.local_interest.begin(), st.local_interest.end());
  self->send(to.handle, interest_atom::value, st.me.name, std::move(update));
}

void drop_interest(member_state& st, member_entry& m) {
  for (auto& p : m.interest)
    remove_bit(st, p, m.bit);
  m.interest.clear();
}

void remote_interest_changed(member_actor_ptr self, const std::string& from,
                             interest_update& update) {
  auto& st = self->state;
  auto i = st.members.find(from);
  // A late update of a departed member: its snapshot comes with its hello.
  if (i == st.members.end() || !i->second.live)
    return;
  auto& m = i->second;
  if (update.full) {
    drop_interest(st, m);
  } else if (update.version != m.interest_version + 1) {
    // Deltas between two members travel in order over one connection; a
    // gap means a bug, not the network. Ask for a snapshot by saying
    // hello again (the answer carries the full interest).
    spdlog::warn("cluster: interest of {} jumped from version {} to {}", from,
                 m.interest_version, update.version);
  }
  m.interest_version = update.version;
  for (auto& p : update.removed)
    if (m.interest.erase(p) > 0)
      remove_bit(st, p, m.bit);
  for (auto& p : update.added)
    if (m.interest.insert(p).second)
      add_bit(st, p, m.bit);
}

void forward_to_members(member_actor_ptr self, std::vector<event_ptr>& events) {
  auto& st = self->state;
  if (st.remote.size() == 0 && st.remote_sse.empty())
    return;
  // One batch per member: an event goes once to each member whose
  // interest matches, however many of its patterns (or subscribers) do.
  std::vector<std::pair<member_entry*, wire_events>> batches;
  for (auto& [name, m] : st.members)
    if (m.live)
      batches.emplace_back(&m, wire_events{});
  if (batches.empty())
    return;
  uint64_t sent = 0;
  for (auto& ev : events) {
    uint64_t mask = 0;
    topic_segments topic;
    if (!ev->topic.empty() && parse_topic(ev->topic, topic))
      st.remote.match(topic, [&](uint64_t bits) { mask |= bits; });
    if (ev->sse_frame) {
      auto i = st.remote_sse.find(ev->aud.tenant_id);
      if (i != st.remote_sse.end())
        mask |= i->second;
    }
    if (mask == 0)
      continue;
    for (auto& [m, batch] : batches)
      if ((mask & m->bit) != 0) {
        batch.push_back(to_wire(*ev));
        ++sent;
      }
  }
  for (auto& [m, batch] : batches)
    if (!batch.empty())
      self->send(m->handle, forward_atom::value, std::move(batch));
  st.ctx->metrics.cluster_forwarded.fetch_add(sent, std::memory_order_relaxed);
}

} // namespace herald::cluster
