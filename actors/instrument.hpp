#pragma once

// How an actor keeps its registry entry and counters (actors/registry.hpp).
// With metrics.actor_counters off, an actor has no entry and a null block,
// and every call here is one predictable branch.

#include "actors/node_context.hpp"
#include "actors/registry.hpp"

#include <caf/error.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

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
