#pragma once

// A service monitor (issue 6, docs/monitors.md): one per upstream service.
// It probes the service through a prober every interval, feeds the results
// to the service's circuit breaker, and publishes every probe and every
// breaker change as events on the service's system topic.

#include "actors/handles.hpp"
#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "protocol/breaker.hpp"
#include "protocol/service_spec.hpp"

#include <caf/typed_actor.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace herald::actors {

/// The system topic of a service's events: `system:<layer>:service:<name>`.
std::string service_topic(const protocol::service_spec& spec);

struct monitor_state {
  static inline const char* name = "herald.monitor";
  context_ptr ctx;
  protocol::service_spec spec;
  prober_actor prober;
  router_actor router;
  health_actor health; ///< told of every status; may be null (tests)
  std::optional<protocol::circuit_breaker> breaker;
  service_status status;
  bool probing = false;
  actor_counters* counters = nullptr;
};

monitor_actor::behavior_type
monitor(monitor_actor::stateful_pointer<monitor_state> self, context_ptr ctx,
        protocol::service_spec spec, prober_actor prober, router_actor router,
        health_actor health, uint64_t parent);

} // namespace herald::actors
