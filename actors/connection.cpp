#include "actors/connection.hpp"

#include "actors/clock.hpp"
#include "actors/connection_delivery.hpp"
#include "actors/frame_budget.hpp"
#include "actors/instrument.hpp"
#include "actors/router.hpp"
#include "protocol/frames.hpp"
#include "protocol/permissions.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <string_view>
#include <utility>

namespace herald::actors {

using namespace protocol;

namespace {

using self_ptr = connection_actor::stateful_pointer<connection_state>;

const char* endpoint_name(connection_kind kind) {
  switch (kind) {
  case connection_kind::ws:
    return "/ws";
  case connection_kind::envelope:
    return "/ws/events";
  case connection_kind::sse:
    return "/api/events/stream";
  }
  return "";
}

// Tells the console (docs/console.md) what the connection holds, when a
// frame changed it: a frame only adds (subscribe) or only removes
// (unsubscribe), so the count says whether it did.
void show_subscriptions(connection_state& st, std::size_t held_before) {
  if (st.counters == nullptr || st.subs.size() == held_before)
    return;
  std::vector<std::string> patterns;
  patterns.reserve(st.subs.size());
  for (auto& s : st.subs)
    patterns.push_back(s.pattern);
  st.ctx->registry.set_subscriptions(st.id, std::move(patterns));
}

// Errors of one frame grouped by code, in the order codes first occur.
struct rejections {
  struct group {
    std::string_view code;
    std::vector<std::string> topics;
    std::string message;
  };
  std::vector<group> groups;

  void add(std::string_view code, const std::string& topic,
           const std::string& why) {
    auto i = std::find_if(groups.begin(), groups.end(),
                          [&](const group& g) { return g.code == code; });
    if (i == groups.end()) {
      groups.push_back(group{code, {}, {}});
      i = groups.end() - 1;
    }
    if (!i->message.empty())
      i->message += "; ";
    i->message += topic;
    i->message += ": ";
    i->message += why;
    i->topics.push_back(topic);
  }
};

// `defer_ack`: the ack goes out later, with the replay (subscribe with
// `since`); errors go out now.
void answer(connection_state& st, std::string_view action,
            const std::vector<std::string>& accepted,
            const rejections& rejected, const std::optional<std::string>& id,
            bool defer_ack = false) {
  if (!defer_ack && (!accepted.empty() || rejected.groups.empty()))
    push(st, encode_ack(action, accepted, id));
  for (auto& g : rejected.groups)
    push(st, encode_error(action, g.topics, g.code, g.message, id));
  if (!rejected.groups.empty())
    st.ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
}

void subscribe(self_ptr self, const client_frame& frame) {
  auto& st = self->state;
  auto& limits = st.ctx->settings.limits;
  std::vector<std::string> accepted;
  std::vector<std::string> joined;
  std::vector<std::string> held;
  rejections rejected;
  for (auto& topic : frame.topics) {
    if (std::find(accepted.begin(), accepted.end(), topic) != accepted.end())
      continue; // repeated within this frame
    auto verdict = check_subscribe(st.ctx->settings.permissions, topic, st.who);
    if (verdict.result == permission_result::invalid_topic) {
      rejected.add(codes::invalid_topic, topic, verdict.message);
      continue;
    }
    if (verdict.result == permission_result::denied) {
      rejected.add(codes::permission_denied, topic, verdict.message);
      continue;
    }
    if (find_subscription(st, topic) == nullptr) {
      if (st.subs.size() >= limits.max_subscriptions) {
        rejected.add(codes::limit_exceeded, topic,
                     "at most " + std::to_string(limits.max_subscriptions)
                         + " subscriptions per connection");
        continue;
      }
      st.subs.push_back(subscription{topic, pattern_key(topic), {}, true, {}});
      st.ctx->metrics.subscriptions.fetch_add(1, std::memory_order_relaxed);
      joined.push_back(topic);
    } else {
      held.push_back(topic);
    }
    accepted.push_back(topic);
  }
  // In a cluster a new pattern must reach every member before the ack
  // promises that publishes anywhere arrive: the ack waits for the router.
  bool deferred = !accepted.empty()
                  && (frame.since.has_value()
                      || (st.ctx->settings.cluster.enabled && !joined.empty()));
  if (!joined.empty() || deferred) {
    // One message for the whole frame: the router joins the topics and
    // takes the replay in one step, so nothing falls between the two. It
    // handles this before any publish the client can make after reading
    // our ack, so without `since` the ack may go out at once.
    pending_subscribe p;
    p.ticket = st.next_ticket++;
    p.patterns = joined;
    p.deferred_ack = deferred;
    if (deferred) {
      p.accepted = accepted;
      p.id = frame.id;
    }
    subscribe_request req;
    req.patterns = std::move(joined);
    req.since = frame.since;
    req.ticket = p.ticket;
    if (frame.since)
      req.also_replay = std::move(held);
    st.pending.push_back(std::move(p));
    self->send(st.router, subscribe_atom::value, std::move(req),
               connection_actor{self});
  }
  answer(st, "subscribe", accepted, rejected, frame.id, deferred);
}

void unsubscribe(self_ptr self, const client_frame& frame) {
  auto& st = self->state;
  std::vector<std::string> accepted;
  rejections rejected;
  for (auto& topic : frame.topics) {
    topic_segments segments;
    std::string why;
    if (!parse_pattern(topic, segments, &why)) {
      rejected.add(codes::invalid_topic, topic, why);
      continue;
    }
    auto i = std::find_if(st.subs.begin(), st.subs.end(),
                          [&](auto& sub) { return sub.pattern == topic; });
    if (i != st.subs.end()) {
      st.subs.erase(i);
      st.ctx->metrics.subscriptions.fetch_sub(1, std::memory_order_relaxed);
      self->send(st.router, unsubscribe_atom::value, topic,
                 connection_actor{self});
    }
    // Unsubscribing from a pattern not held is acknowledged: idempotent.
    accepted.push_back(topic);
  }
  answer(st, "unsubscribe", accepted, rejected, frame.id);
}

// Returns false when the frame is over budget (and answers it).
bool within_budget(self_ptr self, std::string_view text) {
  auto& st = self->state;
  switch (spend_frame_budget(*st.budget, st.strikes, *st.ctx, *st.sink)) {
  case budget_verdict::pass:
    return true;
  case budget_verdict::closed:
    st.closing = true;
    return false;
  case budget_verdict::refuse:
    break;
  }
  // Echo the frame's action and id when it has them; parsing a frame is
  // what the client could make us do anyway.
  std::string action;
  std::optional<std::string> id;
  auto parsed = parse_client_frame(text);
  if (auto* ok = std::get_if<client_frame>(&parsed)) {
    id = ok->id;
    action = ok->type == client_frame::kind::subscribe     ? "subscribe"
             : ok->type == client_frame::kind::unsubscribe ? "unsubscribe"
                                                           : "ping";
  }
  push(st, encode_error(action, {}, codes::rate_limited,
                        "too many frames; slow down", id));
  return false;
}

void on_frame(self_ptr self, const std::string& text) {
  auto& st = self->state;
  if (st.closing || !within_budget(self, text))
    return;
  auto parsed = parse_client_frame(text);
  if (auto* err = std::get_if<client_frame_error>(&parsed)) {
    st.ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
    push(st, encode_error(err->action, {}, codes::invalid_message, err->message,
                          err->id));
    return;
  }
  auto& frame = std::get<client_frame>(parsed);
  switch (frame.type) {
  case client_frame::kind::subscribe:
    subscribe(self, frame);
    break;
  case client_frame::kind::unsubscribe:
    unsubscribe(self, frame);
    break;
  case client_frame::kind::ping:
    push(st, encode_pong(frame.id));
    break;
  }
}

void release_subscriptions(self_ptr self) {
  auto& st = self->state;
  if (st.kind == connection_kind::sse) {
    if (!st.subs.empty())
      self->send(st.router, sse_atom::value, leave_atom::value,
                 st.who.tenant_id, connection_actor{self});
    st.subs.clear();
    return;
  }
  for (auto& sub : st.subs)
    self->send(st.router, unsubscribe_atom::value, sub.pattern,
               connection_actor{self});
  st.ctx->metrics.subscriptions.fetch_sub(static_cast<int64_t>(st.subs.size()),
                                          std::memory_order_relaxed);
  st.subs.clear();
}

// The gauge this connection counts itself in.
protocol::node_metrics::gauge& open_gauge(connection_state& st) {
  return st.kind == connection_kind::sse ? st.ctx->metrics.sse_connections
                                         : st.ctx->metrics.connections;
}

} // namespace

connection_actor::behavior_type
connection(connection_actor::stateful_pointer<connection_state> self,
           context_ptr ctx, protocol::identity who, sink_ptr sink,
           router_actor router, connection_kind kind, sse_options sse) {
  auto& st = self->state;
  st.kind = kind;
  st.sse = std::move(sse);
  auto& limits = ctx->settings.limits;
  st.budget.emplace(limits.rate_per_second, limits.rate_burst);
  st.ctx = std::move(ctx);
  st.who = std::move(who);
  st.sink = std::move(sink);
  st.router = std::move(router);
  st.counters = enroll(self, st.ctx, actor_kind::connection, st.who.sub);
  st.id = self->id();
  describe_connection(self, st.ctx,
                      std::make_shared<const protocol::identity>(st.who),
                      endpoint_name(st.kind), st.sink);
  open_gauge(st).fetch_add(1, std::memory_order_relaxed);
  if (st.kind == connection_kind::sse) {
    // One pseudo-subscription, the tenant's fan-out, so deliveries take
    // the single-subscription path.
    auto name = sse_fanout_name(st.who.tenant_id);
    st.subs.push_back(subscription{name, pattern_key(name), {}, true, {}});
    self->send(st.router, sse_atom::value,
               sse_request{st.who.tenant_id, st.sse.last_event_id},
               connection_actor{self});
    show_subscriptions(st, 0);
  }
  // A handler that throws must not leave subscriptions behind in topic
  // actors nor a socket nobody reads: release both while the state still
  // exists, then let the actor die.
  self->set_exception_handler([=](std::exception_ptr&) -> caf::error {
    auto& st = self->state;
    release_subscriptions(self);
    open_gauge(st).fetch_sub(1, std::memory_order_relaxed);
    if (st.sink)
      st.sink->close(1011, "internal error");
    return caf::exit_reason::unhandled_exception;
  });
  return {
      [=](deliver_atom, const event_ptr& ev, uint64_t key) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (st.closing)
          return;
        on_deliver(st, ev, key);
      },
      [=](frame_atom, const std::string& text) {
        count_message(self, self->state.counters);
        auto held = self->state.subs.size();
        on_frame(self, text);
        show_subscriptions(self->state, held);
      },
      [=](binary_atom) {
        auto& st = self->state;
        count_message(self, st.counters);
        if (st.closing || !within_budget(self, {}))
          return;
        st.ctx->metrics.frame_errors.fetch_add(1, std::memory_order_relaxed);
        push(st, encode_error({}, {}, codes::invalid_message,
                              "binary frames are not accepted; send JSON text",
                              std::nullopt));
      },
      [=](replay_atom, replay_answer& answer) {
        count_message(self, self->state.counters);
        on_replay(self->state, answer);
      },
      [=](closed_atom) {
        count_message(self, self->state.counters);
        release_subscriptions(self);
        open_gauge(self->state).fetch_sub(1, std::memory_order_relaxed);
        self->state.sink.reset();
        self->quit();
      },
  };
}

connection_actor spawn_connection(caf::actor_system& sys, context_ptr ctx,
                                  protocol::identity who, sink_ptr sink,
                                  router_actor router, connection_kind kind) {
  return sys.spawn(connection, std::move(ctx), std::move(who), std::move(sink),
                   std::move(router), kind, sse_options{});
}

connection_actor spawn_sse_connection(caf::actor_system& sys, context_ptr ctx,
                                      protocol::identity who, sink_ptr sink,
                                      router_actor router, sse_options opts) {
  return sys.spawn(connection, std::move(ctx), std::move(who), std::move(sink),
                   std::move(router), connection_kind::sse, std::move(opts));
}

} // namespace herald::actors
