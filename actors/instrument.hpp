#pragma once

// How an actor keeps its registry entry and counters (actors/registry.hpp).
// With metrics.actor_counters off, an actor has no entry and a null block,
// and every call here is one predictable branch.

#include "actors/node_context.hpp"
#include "actors/outbound_sink.hpp"
#include "actors/registry.hpp"

#include <caf/actor_cast.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace herald::actors {

/// Enrolls `self` and retires it when it terminates, however it does.
template <class Self>
actor_counters* enroll(Self* self, const context_ptr& ctx, actor_kind kind,
                       std::string name, uint64_t parent = 0) {
  if (!ctx->settings.actor_counters)
    return nullptr;
  auto id = self->id();
  auto* counters = ctx->registry.enroll(id, kind, std::move(name), parent);
  // Runs once the actor is done: it touches its block no more.
  self->attach_functor([ctx, id] { ctx->registry.retire(id); });
  return counters;
}

/// Ends the actor at `addr` with `reason` as its exit reason, as CAF's
/// anon_send_exit does for its own reasons (it takes no error).
inline void exit_with_reason(const caf::actor_addr& addr,
                             const std::string& reason) {
  auto ptr = caf::actor_cast<caf::strong_actor_ptr>(addr);
  if (ptr)
    ptr->enqueue(
        nullptr, caf::make_message_id(),
        caf::make_message(caf::exit_msg{
            ptr->address(), caf::make_error(caf::sec::runtime_error, reason)}),
        nullptr);
}

/// Lets the admin API stop `self` (docs/console.md): it ends with the
/// admin's reason as its exit reason, and its supervisor restarts it as
/// after a crash.
template <class Self>
void stoppable_by_admin(Self* self, const context_ptr& ctx) {
  if (!ctx->settings.actor_counters)
    return;
  ctx->registry.set_stopper(
      self->id(), [addr = self->address()](const std::string& reason) {
        exit_with_reason(addr, reason);
      });
}

/// What the console shows of a connection (docs/console.md): its identity
/// and endpoint; the admin API stops it by closing its socket with 1008
/// and the admin's reason.
template <class Self>
void describe_connection(Self* self, const context_ptr& ctx,
                         std::shared_ptr<const protocol::identity> who,
                         std::string endpoint, const sink_ptr& sink) {
  if (!ctx->settings.actor_counters)
    return;
  auto id = self->id();
  ctx->registry.set_identity(id, std::move(who), sink->peer_address());
  ctx->registry.set_state(id, std::move(endpoint));
  ctx->registry.set_stopper(
      id, [weak = std::weak_ptr<outbound_sink>(sink)](const std::string& why) {
        if (auto s = weak.lock())
          s->close(1008, why);
      });
}

/// Makes an exception escaping one of `self`'s handlers end it with
/// sec::runtime_error carrying the exception's text (CAF's default handler
/// drops the text), so that its supervisor's logs and alerts say what
/// happened.
template <class Self>
void keep_exception_text(Self* self) {
  self->set_exception_handler(
      [](caf::scheduled_actor*, std::exception_ptr& eptr) -> caf::error {
        try {
          std::rethrow_exception(eptr);
        } catch (const std::exception& e) {
          return caf::make_error(caf::sec::runtime_error, e.what());
        } catch (...) {
          return caf::make_error(caf::sec::runtime_error, "unknown exception");
        }
      });
}

/// Counts one handled message and, now and then, samples the mailbox.
/// Only the actor itself may call this (it reads its own mailbox).
template <class Self>
void count_message(Self* self, actor_counters* counters) {
  if (counters == nullptr)
    return;
  auto n = counters->handled.load(std::memory_order_relaxed) + 1;
  counters->handled.store(n, std::memory_order_relaxed);
  if (n % mailbox_sample_every == 0)
    counters->mailbox.store(self->mailbox().size(), std::memory_order_relaxed);
}

} // namespace herald::actors
