#pragma once

// The node's CAF message vocabulary (CAF 0.17.6: atoms are atom_constant,
// at most 10 characters). Local-only pointer types are whitelisted; the
// cluster will give events a serializable wire form of their own.

#include "protocol/event.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <memory>
#include <string>

namespace herald::protocol {

using publish_atom = caf::atom_constant<caf::atom("publish")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using frame_atom = caf::atom_constant<caf::atom("frame")>;
using binary_atom = caf::atom_constant<caf::atom("binary")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using router_atom = caf::atom_constant<caf::atom("router")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using sse_atom = caf::atom_constant<caf::atom("sse")>;
// The cluster (docs/cluster.md).
using forward_atom = caf::atom_constant<caf::atom("forward")>;
using owner_atom = caf::atom_constant<caf::atom("owner")>;
using interest_atom = caf::atom_constant<caf::atom("interest")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using mark_atom = caf::atom_constant<caf::atom("mark")>;
using members_atom = caf::atom_constant<caf::atom("members")>;
using presence_atom = caf::atom_constant<caf::atom("presence")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using bye_atom = caf::atom_constant<caf::atom("bye")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using tick_atom = caf::atom_constant<caf::atom("htick")>;
using cluster_atom = caf::atom_constant<caf::atom("cluster")>;
using dial_atom = caf::atom_constant<caf::atom("dial")>;
// Service monitors (docs/monitors.md).
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
// Supervision, the health board and channels (docs/monitors.md,
// docs/channels.md).
using revive_atom = caf::atom_constant<caf::atom("revive")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using group_atom = caf::atom_constant<caf::atom("group")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using service_atom = caf::atom_constant<caf::atom("service")>;
using services_atom = caf::atom_constant<caf::atom("services")>;
using layer_atom = caf::atom_constant<caf::atom("layer")>;
using summary_atom = caf::atom_constant<caf::atom("summary")>;
using error_atom = caf::atom_constant<caf::atom("error")>;
using errors_atom = caf::atom_constant<caf::atom("errors")>;
using maint_atom = caf::atom_constant<caf::atom("maint")>;
using listen_atom = caf::atom_constant<caf::atom("listen")>;
using open_atom = caf::atom_constant<caf::atom("open")>;
using push_atom = caf::atom_constant<caf::atom("push")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
// The admin API and the inspector (docs/console.md).
using admin_atom = caf::atom_constant<caf::atom("admin")>;

} // namespace herald::protocol

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::protocol::event_ptr)
