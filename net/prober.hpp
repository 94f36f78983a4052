#pragma once

// The prober behind the service monitors (docs/monitors.md): runs an HTTP
// GET or a TCP connect on the node's Asio threads, bounded by the spec's
// timeout, and answers the monitor with what it found.

#include "actors/monitor.hpp"

#include <boost/asio/io_context.hpp>

#include <caf/actor_system.hpp>

namespace herald::net {

/// Spawns the node's prober; probes run on `ioc` (which must outlive it).
actors::prober_actor spawn_prober(caf::actor_system& sys,
                                  boost::asio::io_context& ioc);

} // namespace herald::net
