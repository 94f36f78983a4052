#pragma once

// A service monitor (issue 6, docs/monitors.md): one per upstream service.
// It probes the service through a prober every interval, feeds the results
// to the service's circuit breaker, and publishes every probe and every
// breaker change as events on the service's system topic.

#include "actors/handles.hpp"
#include "actors/node_context.hpp"
#include "protocol/breaker.hpp"
#include "protocol/service_spec.hpp"

#include <caf/typed_actor.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace herald::actors {

/// What one probe found.
struct probe_result {
  bool ok = false;
  uint32_t latency_ms = 0;
  std::string detail; ///< "200", "connection refused", "timeout after 2000 ms"
};

/// Runs probes (an HTTP GET or a TCP connect, with the spec's timeout).
/// The node's lives on the network side; tests give a scripted one.
using prober_actor =
    caf::typed_actor<caf::replies_to<protocol::probe_atom,
                                     protocol::probe_spec>::with<probe_result>>;

/// A service as its monitor sees it.
struct service_status {
  std::string name;
  std::string layer;
  protocol::breaker_state state = protocol::breaker_state::closed;
  std::optional<probe_result> last; ///< none before the first probe
  uint64_t probes = 0;
  uint64_t failures = 0;
  uint64_t times_opened = 0;
  int64_t next_attempt_ms = -1; ///< open: when a trial probe may go out
};

using monitor_actor = caf::typed_actor<
    caf::reacts_to<protocol::tick_atom>,
    // A probe now (service:health_check), answered once it is done; while
    // the breaker is open it answers at once, from the last result.
    caf::replies_to<protocol::probe_atom>::with<service_status>,
    // An admin closes the breaker (the string says who, for the event).
    caf::replies_to<protocol::reset_atom, std::string>::with<service_status>,
    caf::replies_to<protocol::status_atom>::with<service_status>>;

/// The system topic of a service's events: `system:<layer>:service:<name>`.
std::string service_topic(const protocol::service_spec& spec);

struct monitor_state {
  static inline const char* name = "herald.monitor";
  context_ptr ctx;
  protocol::service_spec spec;
  prober_actor prober;
  router_actor router;
  std::optional<protocol::circuit_breaker> breaker;
  service_status status;
  bool probing = false;
  actor_counters* counters = nullptr;
};

monitor_actor::behavior_type
monitor(monitor_actor::stateful_pointer<monitor_state> self, context_ptr ctx,
        protocol::service_spec spec, prober_actor prober, router_actor router,
        uint64_t parent);

} // namespace herald::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::probe_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::service_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::protocol::probe_spec)
