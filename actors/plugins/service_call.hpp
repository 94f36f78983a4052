#pragma once

// A plugin's call to a configured upstream service (sdk::call_request,
// docs/plugins.md): admitted by the service's circuit breaker on the health
// board, made by the prober (bounded by the request's timeout), and its
// outcome fed back to the breaker. Used by the node bridge.

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"

#include "herald/sdk.hpp"

#include <caf/typed_response_promise.hpp>

#include <string>

namespace herald::actors {

/// Answers `rp` with the call's result, always (never an error).
template <class Self>
void call_service(Self* self, const context_ptr& ctx,
                  const health_actor& health, const prober_actor& prober,
                  const std::string& service, sdk::call_request req,
                  caf::typed_response_promise<sdk::call_result> rp);

/// The outcome a probe's result stands for (sdk::call_result::outcome).
sdk::call_result to_call_result(const probe_result& r);

/// Whether the breaker counts it as the service failing: no answer, or a
/// 5xx. A 4xx is the caller's mistake, not the service's.
bool counts_as_failure(const probe_result& r);

/// This node's figures for sdk::stats_atom, as a JSON object.
std::string node_stats_json(const node_context& ctx);

} // namespace herald::actors

#include "actors/plugins/service_call_impl.hpp"
