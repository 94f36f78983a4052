#pragma once

// How a connection actor delivers (actors/connection_delivery.cpp): live
// events through their canonical subscription, held back while a
// subscribe's answer is on the way, and the router's answers (ack, replay,
// what was held), with positions that never go back behind a replay.

#include "actors/connection.hpp"

#include <string_view>

namespace herald::actors {

/// Queues a server frame (JSON text) to the socket as a whole wire frame.
void push(connection_state& st, std::string_view json);

/// The subscription holding exactly `pattern`, or null.
subscription* find_subscription(connection_state& st, std::string_view pattern);

/// A live event from the topic actor of the pattern keyed `key`.
void on_deliver(connection_state& st, const protocol::event_ptr& ev,
                uint64_t key);

/// The router's answer to a subscribe or an SSE join.
void on_replay(connection_state& st, replay_answer& answer);

} // namespace herald::actors
