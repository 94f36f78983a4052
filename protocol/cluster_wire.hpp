#pragma once

// What members of a cluster send each other over CAF's middleman: plain,
// serializable structs with CAF 0.17 `inspect` overloads, registered on
// every node (apps/heraldd). Events travel without their encoded frames;
// the receiving node encodes its own (its `pos` is its own).

#include "protocol/event.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace herald::protocol {

/// An event between members: what the publisher gave plus the owner stamp.
struct wire_event {
  std::string id;
  std::string topic;
  std::string event_type;
  int64_t timestamp_us = 0;
  std::string data_json;
  std::string tenant_id;
  std::vector<std::string> org_ids;
  std::vector<std::string> user_ids;
  std::vector<std::string> role_ids;
  bool broadcast = false;
  std::string trace_json;
  std::string user_id;
  bool envelope = false;
  std::string owner; ///< owner epoch; empty before the owner stamped it
  uint64_t seq = 0;  ///< owner sequence
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_event& x) {
  return f(caf::meta::type_name("herald::wire_event"), x.id, x.topic,
           x.event_type, x.timestamp_us, x.data_json, x.tenant_id, x.org_ids,
           x.user_ids, x.role_ids, x.broadcast, x.trace_json, x.user_id,
           x.envelope, x.owner, x.seq);
}

using wire_events = std::vector<wire_event>;

wire_event to_wire(const event& ev);
/// A fresh, unstamped-by-this-node event (no frames, no pos).
std::shared_ptr<event> from_wire(wire_event&& w);

/// A member as the others know it.
struct member_info {
  std::string name;
  std::string epoch;   ///< random per start: a restart is a new life
  std::string address; ///< what others dial
  uint16_t port = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("herald::member_info"), x.name, x.epoch,
           x.address, x.port);
}

using member_infos = std::vector<member_info>;

/// A change of a member's interest: the patterns (and SSE tenants, as
/// `sse:tenant=<T>`) its subscribers newly hold or no longer hold.
/// `full`: `added` is the whole interest, replacing what was known.
struct interest_update {
  uint64_t version = 0; ///< consecutive per sender life
  bool full = false;
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interest_update& x) {
  return f(caf::meta::type_name("herald::interest_update"), x.version, x.full,
           x.added, x.removed);
}

/// What a subscribe (or SSE join) asks of one owner: its events after
/// `since` that match `patterns` (or, with `sse_tenant` set, that tenant's
/// SSE events). `asked` false: only the owner's current sequence.
struct replay_query {
  bool asked = false;
  uint64_t since = 0;
  std::vector<std::string> patterns;
  std::string sse_tenant;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replay_query& x) {
  return f(caf::meta::type_name("herald::replay_query"), x.asked, x.since,
           x.patterns, x.sse_tenant);
}

/// One owner's answer: its sequence when it answered (everything above
/// comes live), whether it held the whole range, and the events.
struct replay_part {
  std::string epoch;
  uint64_t live_after = 0;
  bool recovered = false;
  wire_events events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replay_part& x) {
  return f(caf::meta::type_name("herald::replay_part"), x.epoch, x.live_after,
           x.recovered, x.events);
}

using replay_parts = std::vector<replay_part>;

} // namespace herald::protocol
