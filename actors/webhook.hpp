#pragma once

// The chat events webhook (docs/chat-events.md): posts each event's
// envelope, in order, one at a time, to chat_events.webhook.url. A failed
// post is retried with a doubling backoff up to max_attempts, then dropped
// and counted; consecutive failures open the webhook's own circuit breaker,
// which holds posts back for open_ms before one trial. The queue is bounded
// (queue_max, oldest dropped first), so a dead webhook costs bounded memory
// and never slows the node.

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "protocol/http_url.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace herald::actors {

using webhook_actor =
    caf::typed_actor<caf::reacts_to<protocol::publish_atom, std::string>,
                     caf::reacts_to<protocol::tick_atom>>;

webhook_actor spawn_webhook(caf::actor_system& sys, context_ptr ctx,
                            protocol::http_url url, prober_actor prober);

} // namespace herald::actors
