#include "actors/clock.hpp"
#include "net/handlers.hpp"
#include "net/log.hpp"
#include "protocol/publish.hpp"
#include "protocol/schema_bindings.hpp"

#include <caf/all.hpp>

namespace herald::net {

namespace http = boost::beast::http;
using namespace protocol;

bool api_key_ok(net_context& ctx, const request& req) {
  auto key = bearer(req);
  if (!key)
    return false;
  bool ok = false;
  // Check every key: the time taken does not tell which one came close.
  for (auto& known : ctx.node->settings.auth.api_keys)
    ok |= secret_equals(*key, known);
  return ok;
}

namespace {

// Hands accepted events to the router in one message, unless the router's
// queue is past its bound: then the node sheds load (503) instead.
bool enqueue(net_context& ctx, actors::pending_events events) {
  auto& metrics = ctx.node->metrics;
  auto n = static_cast<int64_t>(events.size());
  auto bound =
      static_cast<int64_t>(ctx.node->settings.limits.max_publish_queue);
  if (metrics.publish_queue.fetch_add(n, std::memory_order_relaxed) + n
      > bound) {
    metrics.publish_queue.fetch_sub(n, std::memory_order_relaxed);
    metrics.publish_shed.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  metrics.publishes.fetch_add(static_cast<uint64_t>(n),
                              std::memory_order_relaxed);
  caf::anon_send(ctx.router, publish_atom::value, std::move(events));
  return true;
}

response shed(const request& req) {
  auto res = make_error(req, http::status::service_unavailable, "OVERLOADED",
                        "the node is shedding load; retry later");
  res.set(http::field::retry_after, "1");
  return res;
}

response refuse(net_context& ctx, const request& req,
                const publish_error& err) {
  ctx.node->metrics.publish_rejected.fetch_add(1, std::memory_order_relaxed);
  if (err.path.empty())
    return make_error(req, static_cast<http::status>(err.status), err.code,
                      err.message);
  return make_response(req, static_cast<http::status>(err.status),
                       encode_error_body(err));
}

// The schemas bound to the event (docs/schemas.md), checked here on the I/O
// thread like the parsing before it, so no actor waits on it: one SAX pass
// of the payload (or of its envelope frame) per applying binding, about
// 1 us for the seed schema (a refusal, explained, about 7 us), one pattern
// match per binding otherwise. Returns the refusal, or marks the event for
// the envelope endpoint.
std::optional<publish_error> check(net_context& ctx, event& ev) {
  auto& bindings = ctx.node->settings.schemas.bindings;
  if (bindings.empty())
    return std::nullopt;
  auto verdict = check_schemas(bindings, ev);
  if (verdict.violation) {
    log_net()->debug("publish refused: {} ({})", verdict.violation->message,
                     ev.event_type);
    return schema_refusal(*verdict.violation);
  }
  ev.envelope = verdict.envelope;
  return std::nullopt;
}

} // namespace

response handle_publish(net_context& ctx, const request& req, bool batch) {
  if (!api_key_ok(ctx, req)) {
    ctx.node->metrics.api_key_failures.fetch_add(1, std::memory_order_relaxed);
    log_net()->info("publish refused: {} API key",
                    bearer(req) ? "unknown" : "missing");
    auto res = make_error(req, http::status::unauthorized, "UNAUTHORIZED",
                          "missing or unknown API key");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  auto now = actors::now_us();
  if (!batch) {
    auto parsed = parse_publish(req.body(), now);
    if (auto* err = std::get_if<publish_error>(&parsed))
      return refuse(ctx, req, *err);
    if (auto err = check(ctx, std::get<event>(parsed)))
      return refuse(ctx, req, *err);
    auto ev = std::make_shared<event>(std::move(std::get<event>(parsed)));
    auto body = encode_publish_accepted(*ev);
    if (!enqueue(ctx, actors::pending_events{std::move(ev)}))
      return shed(req);
    return make_response(req, http::status::accepted, std::move(body));
  }
  auto parsed = parse_publish_batch(req.body(), now,
                                    ctx.node->settings.limits.max_batch_events);
  if (auto* err = std::get_if<publish_error>(&parsed))
    return refuse(ctx, req, *err);
  auto& results = std::get<std::vector<publish_result>>(parsed);
  for (auto& result : results)
    if (auto* ev = std::get_if<event>(&result))
      if (auto err = check(ctx, *ev))
        result = std::move(*err);
  auto body = encode_batch_results(results);
  actors::pending_events accepted;
  accepted.reserve(results.size());
  for (auto& result : results)
    if (auto* ev = std::get_if<event>(&result))
      accepted.push_back(std::make_shared<event>(std::move(*ev)));
    else
      ctx.node->metrics.publish_rejected.fetch_add(1,
                                                   std::memory_order_relaxed);
  if (!accepted.empty() && !enqueue(ctx, std::move(accepted)))
    return shed(req);
  return make_response(req, http::status::ok, std::move(body));
}

} // namespace herald::net
