#include "actors/admin_follow.hpp"

#include "protocol/admin_query.hpp"
#include "protocol/frames.hpp"
#include "protocol/json_util.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace herald::actors {

using namespace protocol;

namespace {

frame_ptr sse_frame(const char* event, const std::string& json) {
  return std::make_shared<const std::string>(std::string{"event: "} + event
                                             + "\ndata: " + json + "\n\n");
}

struct follower_state {
  static inline const char* name = "herald.admin_follower";
  sink_ptr sink;
  router_actor router;
  std::string pattern;
};

connection_actor::behavior_type
follower(connection_actor::stateful_pointer<follower_state> self,
         router_actor router, std::string pattern, sink_ptr sink) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.router = std::move(router);
  st.pattern = std::move(pattern);
  subscribe_request req;
  req.patterns.push_back(st.pattern);
  req.ticket = 1;
  req.observer = true;
  self->send(st.router, subscribe_atom::value, std::move(req),
             connection_actor{self});
  return {
      [=](deliver_atom, const event_ptr& ev, uint64_t) {
        // The admin sees every event: no audience filter. A sink that
        // refuses (a slow reader past its backlog) closes itself.
        if (self->state.sink)
          self->state.sink->send(
              sse_frame("event", protocol::encode_ws_event(*ev)));
      },
      [=](frame_atom, const std::string&) {},
      [=](binary_atom) {},
      [=](replay_atom, replay_answer&) {
        // Attached: from now on nothing routed misses the stream.
        if (self->state.sink)
          self->state.sink->ready();
      },
      [=](closed_atom) {
        auto& st = self->state;
        self->send(st.router, unsubscribe_atom::value, st.pattern,
                   connection_actor{self});
        st.sink.reset();
        self->quit();
      },
  };
}

struct watcher_state {
  static inline const char* name = "herald.admin_watcher";
  sink_ptr sink;
  inspector_actor inspector;
  std::string request;
  uint32_t interval_ms = 1000;
  bool waiting = false;
};

// Untyped: it takes its own ticks besides what a session sends; the
// session reaches it as a connection_actor (closed_atom alone).
caf::behavior watcher(caf::stateful_actor<watcher_state>* self,
                      inspector_actor inspector, std::string request,
                      uint32_t interval_ms, sink_ptr sink) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.inspector = std::move(inspector);
  st.request = std::move(request);
  st.interval_ms = interval_ms;
  if (st.sink)
    st.sink->ready();
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        auto& st = self->state;
        if (!st.sink || st.waiting)
          return;
        st.waiting = true;
        self->request(st.inspector, std::chrono::seconds{5}, admin_atom::value,
                      st.request)
            .then(
                [=](uint16_t status, std::string& body) {
                  auto& st = self->state;
                  st.waiting = false;
                  if (!st.sink)
                    return;
                  if (status == 404) {
                    st.sink->send(sse_frame("gone", body));
                    st.sink->close(1000, "actor gone");
                    return;
                  }
                  if (status == 200)
                    st.sink->send(sse_frame("figures", body));
                  self->delayed_send(self,
                                     std::chrono::milliseconds{st.interval_ms},
                                     tick_atom::value);
                },
                [=](caf::error&) {
                  self->state.waiting = false;
                  self->delayed_send(
                      self, std::chrono::milliseconds{self->state.interval_ms},
                      tick_atom::value);
                });
      },
      [=](closed_atom) {
        self->state.sink.reset();
        self->quit();
      },
  };
}

} // namespace

connection_actor spawn_topic_follower(caf::actor_system& sys, context_ptr,
                                      router_actor router, std::string pattern,
                                      sink_ptr sink) {
  return sys.spawn(follower, std::move(router), std::move(pattern),
                   std::move(sink));
}

connection_actor spawn_actor_watcher(caf::actor_system& sys,
                                     inspector_actor inspector,
                                     std::string node, uint64_t id,
                                     uint32_t interval_ms, sink_ptr sink) {
  admin::request req;
  req.op = "actor";
  req.page.node = std::move(node);
  req.id = id;
  auto handle =
      sys.spawn(watcher, std::move(inspector), admin::encode_request(req),
                interval_ms, std::move(sink));
  return caf::actor_cast<connection_actor>(handle);
}

} // namespace herald::actors
