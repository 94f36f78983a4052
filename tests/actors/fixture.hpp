#pragma once

// Shared by the actor suites: CAF's deterministic test_coordinator_fixture
// with a node context, a recording outbound_sink, a probe that stands in for
// a connection actor, and builders for identities and events. Include after
// `#define CAF_SUITE ...`.

#include "actors/connection.hpp"
#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "actors/router.hpp"
#include "actors/supervisor.hpp"
#include "actors/topic.hpp"
#include "protocol/event.hpp"
#include "protocol/identity.hpp"
#include "protocol/messages.hpp"

#include <caf/test/dsl.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace herald::actors::testing {

/// Deliveries counted on the node, wherever they are kept (the node
/// counters, or the connections' own blocks in the registry).
inline protocol::delivery_counts delivery_totals_of(const context_ptr& ctx) {
  auto live = ctx->registry.connection_totals();
  return {ctx->metrics.deliveries.load() + live.delivered,
          ctx->metrics.audience_filtered.load() + live.filtered,
          ctx->metrics.drops.load() + live.dropped};
}

/// The JSON text of a server frame as the sink receives it (a whole RFC
/// 6455 frame, header included). Checks the header itself rather than
/// trusting the codec that made it: FIN and the text opcode, no mask, a
/// length that matches. Returns "<bad frame>" for anything else.
inline std::string frame_text(const std::string& wire) {
  const std::string bad = "<bad frame>";
  auto byte = [&](std::size_t i) {
    return static_cast<uint64_t>(static_cast<unsigned char>(wire[i]));
  };
  if (wire.size() < 2 || byte(0) != 0x81 || (byte(1) & 0x80) != 0)
    return bad;
  uint64_t len = byte(1) & 0x7f;
  std::size_t at = 2;
  if (len == 126) {
    if (wire.size() < 4)
      return bad;
    len = byte(2) << 8 | byte(3);
    at = 4;
  } else if (len == 127) {
    if (wire.size() < 10)
      return bad;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i)
      len = len << 8 | byte(i);
    at = 10;
  }
  if (wire.size() - at != len)
    return bad;
  return wire.substr(at);
}

/// An outbound_sink that records every frame and close. After close() it
/// refuses frames, as a closing session does; `refuse(true)` simulates a
/// session whose backlog bound was passed.
class recording_sink : public outbound_sink {
public:
  bool send(frame_ptr frame) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || refusing_) {
      ++refused_;
      return false;
    }
    frames_.push_back(std::move(frame));
    return true;
  }

  void close(uint16_t code, std::string reason) override {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    closes_.emplace_back(code, std::move(reason));
  }

  void refuse(bool flag) {
    std::lock_guard<std::mutex> guard{mtx_};
    refusing_ = flag;
  }

  /// The frames queued so far, as shared (to check they are not copied).
  std::vector<frame_ptr> frames() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return frames_;
  }

  /// The JSON text of the frames queued so far.
  std::vector<std::string> texts() const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (auto& f : frames_)
      out.push_back(frame_text(*f));
    return out;
  }

  /// Returns the JSON text of the frames queued since the last call and
  /// forgets them.
  std::vector<std::string> take() {
    auto out = texts();
    std::lock_guard<std::mutex> guard{mtx_};
    frames_.clear();
    return out;
  }

  std::vector<std::pair<uint16_t, std::string>> closes() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return closes_;
  }

  std::size_t refused() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return refused_;
  }

private:
  mutable std::mutex mtx_;
  std::vector<frame_ptr> frames_;
  std::vector<std::pair<uint16_t, std::string>> closes_;
  std::size_t refused_ = 0;
  bool closed_ = false;
  bool refusing_ = false;
};

/// What a probe received: each delivery with the topic key it came with.
struct probe_log {
  std::vector<std::pair<protocol::event_ptr, uint64_t>> delivered;
  std::vector<replay_answer> answers; ///< the router's subscribe answers
  std::size_t closed = 0;
};

using probe_log_ptr = std::shared_ptr<probe_log>;

/// A stand-in connection actor that only records deliveries, for the router
/// and topic suites.
inline connection_actor::behavior_type probe(connection_actor::pointer self,
                                             probe_log_ptr log) {
  return {
      [log](protocol::deliver_atom, const protocol::event_ptr& ev,
            uint64_t key) { log->delivered.emplace_back(ev, key); },
      [](protocol::frame_atom, const std::string&) {},
      [](protocol::binary_atom) {},
      [log](protocol::replay_atom, replay_answer& answer) {
        log->answers.push_back(std::move(answer));
      },
      [self, log](protocol::closed_atom) {
        ++log->closed;
        self->quit();
      },
  };
}

/// An identity whose typed fields and claims map agree.
inline protocol::identity
make_identity(std::string sub, std::string customer_id,
              std::vector<std::string> roles, std::string tenant_id = "t1",
              std::string org_id = "o1",
              std::vector<std::string> agent_ids = {}) {
  protocol::identity who;
  who.sub = std::move(sub);
  who.customer_id = std::move(customer_id);
  who.roles = std::move(roles);
  who.tenant_id = std::move(tenant_id);
  who.org_id = std::move(org_id);
  who.agent_ids = std::move(agent_ids);
  auto scalar = [&](const char* name, const std::string& value) {
    if (!value.empty())
      who.claims[name] = {value};
  };
  scalar("sub", who.sub);
  scalar("customer_id", who.customer_id);
  scalar("tenant_id", who.tenant_id);
  scalar("org_id", who.org_id);
  who.claims["roles"] = who.roles;
  who.claims["agent_ids"] = who.agent_ids;
  return who;
}

/// An unstamped event, as the publish API hands it to the router.
inline std::shared_ptr<protocol::event>
make_event(std::string id, std::string topic, protocol::audience aud = {}) {
  auto ev = std::make_shared<protocol::event>();
  ev->id = std::move(id);
  ev->topic = std::move(topic);
  ev->event_type = "call.status";
  ev->timestamp_us = 1705314605000000; // 2024-01-15T10:30:05Z
  ev->data_json = R"({"status":"ringing"})";
  ev->aud = std::move(aud);
  return ev;
}

/// A top-level string member of a JSON frame, or "" when absent.
inline std::string json_string(const std::string& frame, const char* key) {
  rapidjson::Document doc;
  doc.Parse(frame.data(), frame.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto i = doc.FindMember(key);
  if (i == doc.MemberEnd() || !i->value.IsString())
    return {};
  return {i->value.GetString(), i->value.GetStringLength()};
}

/// True when the JSON frame has a top-level member `key`.
inline bool json_has(const std::string& frame, const char* key) {
  rapidjson::Document doc;
  doc.Parse(frame.data(), frame.size());
  return !doc.HasParseError() && doc.IsObject() && doc.HasMember(key);
}

/// The `topics` array of a JSON frame (empty when absent).
inline std::vector<std::string> json_topics(const std::string& frame) {
  std::vector<std::string> out;
  rapidjson::Document doc;
  doc.Parse(frame.data(), frame.size());
  if (doc.HasParseError() || !doc.IsObject())
    return out;
  auto i = doc.FindMember("topics");
  if (i == doc.MemberEnd() || !i->value.IsArray())
    return out;
  for (auto& t : i->value.GetArray())
    if (t.IsString())
      out.emplace_back(t.GetString(), t.GetStringLength());
  return out;
}

using strings = std::vector<std::string>;

/// The deterministic actor system plus a node context with small limits.
/// Settings are read when an actor is spawned: change them before.
struct fixture : test_coordinator_fixture<> {
  context_ptr ctx = std::make_shared<node_context>();

  fixture() {
    ctx->settings.limits.max_subscriptions = 16;
    ctx->settings.dedup.max_entries = 1000;
    // make_event stamps a fixed 2024 time: keep such events in history.
    ctx->settings.history.max_age_seconds = 4000000000u;
  }

  /// A router subscribe request for patterns, replaying from `since`.
  static subscribe_request
  sub_request(std::vector<std::string> patterns,
              std::optional<std::string> since = std::nullopt) {
    subscribe_request req;
    req.patterns = std::move(patterns);
    req.since = std::move(since);
    return req;
  }

  router_actor spawn_router() {
    auto r = sys.spawn(router, ctx, uint64_t{0});
    run();
    return r;
  }

  std::pair<connection_actor, probe_log_ptr> spawn_probe() {
    auto log = std::make_shared<probe_log>();
    auto p = sys.spawn(probe, log);
    run();
    return {p, log};
  }

  /// Topic actors alive and events routed, as the router reports them.
  std::pair<uint64_t, uint64_t> stats(const router_actor& r) {
    // Not the fixture's request<T...>(): in CAF 0.17.6 it names an
    // undefined FAIL macro.
    std::pair<uint64_t, uint64_t> out{~uint64_t{0}, ~uint64_t{0}};
    auto pending = self->request(r, caf::infinite, protocol::stats_atom::value);
    run();
    pending.receive(
        [&](uint64_t topics, uint64_t routed) {
          out = {topics, routed};
        },
        [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  uint64_t topic_count(const router_actor& r) { return stats(r).first; }

  uint64_t routed_count(const router_actor& r) { return stats(r).second; }

  /// The router's state, white-box, for handles of its topic actors.
  router_state& router_st(const router_actor& r) {
    using impl =
        std::remove_pointer_t<router_actor::stateful_pointer<router_state>>;
    return deref<impl>(r).state;
  }

  /// The topic actor the router holds for `pattern` (null when none).
  topic_actor topic_of(const router_actor& r, const std::string& pattern) {
    auto* entry = router_st(r).index.find(pattern);
    return entry != nullptr ? entry->actor : topic_actor{};
  }

  void publish(const router_actor& r,
               std::vector<std::shared_ptr<protocol::event>> events) {
    self->send(r, protocol::publish_atom::value,
               pending_events{std::move(events)});
  }

  /// Whether `whom`, monitored by `self`, has terminated; `reason` gets its
  /// exit reason. The test scheduler fills the scoped actor's mailbox
  /// synchronously, so what is not there yet has not happened.
  template <class Handle>
  bool terminated(const Handle& whom, caf::error* reason = nullptr) {
    for (bool more = true; more;)
      self->receive(
          [&](caf::down_msg& msg) { downs_[msg.source] = msg.reason; },
          caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    auto i = downs_.find(caf::actor_cast<caf::actor_addr>(whom));
    if (i == downs_.end())
      return false;
    if (reason != nullptr)
      *reason = i->second;
    return true;
  }

private:
  std::map<caf::actor_addr, caf::error> downs_;
};

} // namespace herald::actors::testing
