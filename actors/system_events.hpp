#pragma once

// Events the node publishes itself on its system topics (docs/monitors.md):
// handed to the router as the publish API would hand them, so that they
// are stamped, kept in history and delivered like any other.

#include "actors/clock.hpp"
#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "protocol/uuid.hpp"

#include <memory>
#include <string>

namespace herald::actors {

template <class Self>
void publish_system_event(Self* self, const context_ptr& ctx,
                          const router_actor& router, std::string topic,
                          std::string event_type, std::string data_json) {
  if (!router)
    return;
  auto ev = std::make_shared<protocol::event>();
  ev->id = protocol::make_uuid_v4();
  ev->topic = std::move(topic);
  ev->event_type = std::move(event_type);
  ev->timestamp_us = now_us();
  ev->data_json = std::move(data_json);
  // The router counts it off the publish queue gauge.
  ctx->metrics.publish_queue.fetch_add(1, std::memory_order_relaxed);
  self->send(router, protocol::publish_atom::value,
             pending_events{std::move(ev)});
}

} // namespace herald::actors
