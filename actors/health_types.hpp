#pragma once

// The vocabulary of supervision and health (docs/monitors.md): what a
// service monitor reports, what a supervisor says of its children, and
// the health board that gathers both for the channel endpoints.

#include "actors/handles.hpp"
#include "protocol/breaker.hpp"
#include "protocol/messages.hpp"
#include "protocol/service_spec.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::actors {

// -- service monitors ---------------------------------------------------------

/// What one probe found.
struct probe_result {
  bool ok = false;
  uint32_t latency_ms = 0;
  std::string detail;  ///< "200", "connection refused", "timeout after 2000 ms"
  uint16_t status = 0; ///< http: the response status; 0 when none came
  std::string body;    ///< the response body when the spec kept it
};

/// Runs probes (an HTTP GET or a TCP connect, with the spec's timeout).
/// The node's lives on the network side; tests give a scripted one.
using prober_actor =
    caf::typed_actor<caf::replies_to<protocol::probe_atom,
                                     protocol::probe_spec>::with<probe_result>>;

/// A service as the node sees it: an upstream service (its monitor's
/// breaker) or a channel (its supervisor's breaker).
struct service_status {
  std::string name;
  std::string layer;
  std::string kind = "upstream"; ///< upstream, channel
  protocol::breaker_state state = protocol::breaker_state::closed;
  /// The supervisor gave up on the monitor or channel: the breaker is held
  /// open until an admin resets it.
  bool given_up = false;
  std::string reason;               ///< of the last state change
  int64_t changed_us = 0;           ///< when the state last changed
  std::optional<probe_result> last; ///< none before the first probe
  uint64_t probes = 0;
  uint64_t failures = 0;
  uint64_t times_opened = 0;
  /// open: when a trial probe may go out (wall clock, ms since the epoch)
  int64_t next_attempt_ms = -1;
};

using monitor_actor = caf::typed_actor<
    caf::reacts_to<protocol::tick_atom>,
    // A probe now (service:health_check), answered once it is done; while
    // the breaker is open it answers at once, from the last result.
    caf::replies_to<protocol::probe_atom>::with<service_status>,
    // An admin closes the breaker (the string says who, for the event).
    caf::replies_to<protocol::reset_atom, std::string>::with<service_status>,
    caf::replies_to<protocol::status_atom>::with<service_status>,
    // A call the node makes to the service for a client (fail fast): may
    // it go out now? Then its outcome, which the breaker counts like a
    // probe's.
    caf::replies_to<protocol::call_atom>::with<bool>,
    caf::reacts_to<protocol::call_atom, bool>>;

// -- supervisors --------------------------------------------------------------

/// One child as its supervisor sees it.
struct child_row {
  std::string name;
  std::string layer;
  std::string state = "starting"; ///< running, restarting, given_up
  uint64_t actor_id = 0;          ///< 0 while not running
  uint32_t restarts = 0;          ///< over the supervisor's life
  uint32_t restarts_in_window = 0;
  int64_t started_us = 0;
  std::string last_failure;
};

/// A supervisor over one group of restartable children (monitors,
/// channels): actors/supervisor.hpp.
using group_supervisor_actor = caf::typed_actor<
    // An admin reset: restart a given-up child now, with a clean history.
    // False when the child was not given up (nothing to do).
    caf::replies_to<protocol::revive_atom, std::string,
                    std::string>::with<bool>,
    caf::replies_to<protocol::status_atom>::with<std::vector<child_row>>,
    // Its own timer: restart the child (name, generation) now.
    caf::reacts_to<protocol::restart_atom, std::string, uint64_t>>;

// -- the health board ---------------------------------------------------------

/// One entry of the recent-errors ring.
struct error_entry {
  uint64_t seq = 0;
  int64_t at_us = 0;
  std::string node;   ///< where it happened
  std::string kind;   ///< crash, gave_up, breaker_open, refused
  std::string source; ///< the child, service or request concerned
  std::string message;
};

/// Maintenance mode, as an admin set it.
struct maintenance_state {
  bool on = false;
  std::string message;
  std::string expected_end; ///< ISO-8601 UTC as given; empty: unknown
  std::string set_by;       ///< the admin's `sub`
  int64_t since_us = 0;     ///< when it was last set
  std::string node;         ///< the node it was set on
};

/// A layer's status, derived from its services: healthy when every one is
/// closed, down when none is, degraded otherwise.
struct layer_summary {
  std::string name;
  std::string status = "healthy";
  std::string node; ///< set on what the board publishes; empty: left out
  uint32_t services = 0;
  uint32_t closed = 0;
  uint32_t half_open = 0;
  uint32_t open = 0;
};

struct health_summary {
  std::vector<layer_summary> layers;
  maintenance_state maintenance;
  uint64_t errors = 0; ///< recorded over the node's life
};

/// What the board pushes to its listeners (the channels), its data
/// encoded once for all of them.
struct health_note {
  enum class kind : uint8_t { service, layer, alert, maintenance, error };
  kind what = kind::service;
  std::string service; ///< service, alert
  std::string layer;   ///< service, layer, alert
  frame_ptr data;      ///< the JSON of the pushed frame's `data`
};

using health_listener_actor =
    caf::typed_actor<caf::reacts_to<protocol::health_atom, health_note>>;

/// The board's domain errors (caf::error category "health").
enum class health_errc : uint8_t { unknown_service = 1 };

inline caf::error make_error(health_errc x) {
  return caf::error{static_cast<uint8_t>(x), caf::atom("health")};
}

inline bool is(const caf::error& err, health_errc x) {
  return err.category() == caf::atom("health")
         && err.code() == static_cast<uint8_t>(x);
}

using health_actor = caf::typed_actor<
    // From monitors and supervisors: a service's status changed or was
    // re-read (every probe); with its monitor's handle when it (re)started.
    caf::reacts_to<protocol::service_atom, service_status>,
    caf::reacts_to<protocol::service_atom, service_status, monitor_actor>,
    // kind, source, message: into the recent-errors ring.
    caf::reacts_to<protocol::error_atom, std::string, std::string, std::string>,
    caf::reacts_to<protocol::listen_atom, health_listener_actor>,
    // A group's supervisor ("monitors", "channels"), for resets.
    caf::reacts_to<protocol::group_atom, std::string, group_supervisor_actor>,
    caf::replies_to<protocol::services_atom>::with<std::vector<service_status>>,
    caf::replies_to<protocol::status_atom, std::string>::with<service_status>,
    caf::replies_to<protocol::summary_atom>::with<health_summary>,
    // A probe now (an upstream service), or its status (a channel).
    caf::replies_to<protocol::probe_atom, std::string>::with<service_status>,
    // An admin reset (service, who).
    caf::replies_to<protocol::reset_atom, std::string,
                    std::string>::with<service_status>,
    // Fail fast (docs/monitors.md): may a call to the service go out now?
    // False while its breaker is open or its monitor was given up on.
    caf::replies_to<protocol::call_atom, std::string>::with<bool>,
    // The outcome of a call that went out (service, ok).
    caf::reacts_to<protocol::call_atom, std::string, bool>,
    caf::replies_to<protocol::maint_atom>::with<maintenance_state>,
    caf::replies_to<protocol::maint_atom,
                    maintenance_state>::with<maintenance_state>,
    caf::replies_to<protocol::errors_atom,
                    uint32_t>::with<std::vector<error_entry>>>;

} // namespace herald::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::probe_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::service_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::protocol::probe_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::child_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::actors::child_row>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::actors::service_status>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::error_entry)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::actors::error_entry>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::maintenance_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::health_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::actors::health_note)
