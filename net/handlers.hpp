#pragma once

// The HTTP endpoints that are not WebSocket upgrades. Each parses and
// checks with `protocol`, then hands work to actors by their typed handles.

#include "net/http_util.hpp"
#include "net/net_context.hpp"

#include <functional>

namespace herald::net {

/// POST /api/v1/publish and /api/v1/publish/batch (PROTOCOL §6).
response handle_publish(net_context& ctx, const request& req, bool batch);

/// Whether a request carries one of the publish API keys.
bool api_key_ok(net_context& ctx, const request& req);

/// GET /api/v1/presence?topic=T (docs/cluster.md, "Presence"): answered
/// through `done`, later, from an actor thread: the count asks every
/// member of a cluster.
void handle_presence(net_context& ctx, const request& req,
                     std::function<void(response)> done);

/// GET /healthz, /readyz, /metrics (PROTOCOL §8).
response handle_healthz(const request& req);
response handle_readyz(net_context& ctx, const request& req);
response handle_metrics(net_context& ctx, const request& req);

/// GET /: the example client page, embedded at build time.
response handle_page(const request& req);

/// GET /health: the health page (examples/web/health.html), a client of
/// the monitor and circuit-breaker endpoints.
response handle_health_page(const request& req);

/// Routes a plain (non-upgrade) request.
response route(net_context& ctx, const request& req);

} // namespace herald::net
