#include "protocol/cluster_wire.hpp"

namespace herald::protocol {

wire_event to_wire(const event& ev) {
  wire_event w;
  w.id = ev.id;
  w.topic = ev.topic;
  w.event_type = ev.event_type;
  w.timestamp_us = ev.timestamp_us;
  w.data_json = ev.data_json;
  w.tenant_id = ev.aud.tenant_id;
  w.org_ids = ev.aud.org_ids;
  w.user_ids = ev.aud.user_ids;
  w.role_ids = ev.aud.role_ids;
  w.broadcast = ev.broadcast;
  w.trace_json = ev.trace_json;
  w.user_id = ev.user_id;
  w.envelope = ev.envelope;
  w.owner = ev.owner;
  w.seq = ev.seq;
  return w;
}

std::shared_ptr<event> from_wire(wire_event&& w) {
  auto ev = std::make_shared<event>();
  ev->id = std::move(w.id);
  ev->topic = std::move(w.topic);
  ev->event_type = std::move(w.event_type);
  ev->timestamp_us = w.timestamp_us;
  ev->data_json = std::move(w.data_json);
  ev->aud.tenant_id = std::move(w.tenant_id);
  ev->aud.org_ids = std::move(w.org_ids);
  ev->aud.user_ids = std::move(w.user_ids);
  ev->aud.role_ids = std::move(w.role_ids);
  ev->broadcast = w.broadcast;
  ev->trace_json = std::move(w.trace_json);
  ev->user_id = std::move(w.user_id);
  ev->envelope = w.envelope;
  ev->owner = std::move(w.owner);
  ev->seq = w.seq;
  return ev;
}

} // namespace herald::protocol
