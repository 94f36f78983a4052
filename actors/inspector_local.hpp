#pragma once

// What one node's inspector answers of itself (docs/console.md), as JSON:
// the parts that read the registry alone. Internal to the inspector.

#include "actors/health_types.hpp"
#include "actors/node_context.hpp"
#include "protocol/admin_query.hpp"

#include <string>

namespace herald::actors::inspect {

/// An error answer, `{"code":..,"message":..}`; the cluster side maps the
/// code to the HTTP status.
std::string error_answer(const char* code, const std::string& message);

/// The HTTP status of an answer: 200, or what its error code says.
uint16_t status_of(const std::string& answer);

/// This node's summary (GET /admin/v1/node).
std::string summary(const node_context& ctx, const maintenance_state& m);

/// `{"node":..,"total":N,"items":[the first offset+limit rows]}` of the
/// actors matching the query (`topics`: topic actors, by pattern).
std::string actor_page(const node_context& ctx,
                       const protocol::admin::page_query& q, bool topics);

/// The connections holding exactly `pattern`, paged like actor_page.
std::string subscriber_page(const node_context& ctx, const std::string& pattern,
                            const protocol::admin::page_query& q);

/// One actor in depth, or a NOT_FOUND answer.
std::string actor_detail(const node_context& ctx, uint64_t id);

/// `{"node":..,"root":{..},"connections":N,"topics":N}`.
std::string tree(const node_context& ctx);

/// Stops an actor (docs/console.md): the answer, or NOT_FOUND / CONFLICT.
std::string stop(node_context& ctx, uint64_t id, const std::string& reason);

/// `{"node":..,"items":[services..],"layers":[..]}`.
std::string services(const node_context& ctx,
                     const std::vector<service_status>& all);

/// `{"node":..,"on":..,"enabled":..,"message":..,...}`.
std::string maintenance(const node_context& ctx, const maintenance_state& m);

/// Reads a maintenance body (`on` or `enabled`, `message`,
/// `expected_end`): the state, or why not.
std::variant<maintenance_state, std::string>
parse_maintenance(const std::string& body, const std::string& who);

} // namespace herald::actors::inspect
