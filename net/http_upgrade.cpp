// The upgrade half of http_session: the WebSocket handshake checks
// (RFC 6455 §4.2.1), identity (PROTOCOL §3), the browser-origin check
// (docs/limits.md), and the hand-over of the socket to a ws_session or
// sse_session. The request half (reading, routing, answering, closing)
// is http_session.cpp.
#include "net/http_session.hpp"

#include "actors/channel.hpp"
#include "net/handlers.hpp"
#include "net/log.hpp"
#include "net/request_checks.hpp"
#include "net/sse_session.hpp"
#include "net/ws_session.hpp"

#include "protocol/ws_codec.hpp"

#include <ctime>

namespace herald::net {

namespace beast = boost::beast;
namespace http = beast::http;

std::variant<protocol::identity, std::string>
http_session::authenticate(const request& req, const char* what) {
  // PROTOCOL §3: the header, or `?token=` for browsers.
  auto token = credential(req);
  std::string why = "missing token";
  if (token) {
    auto verdict = ctx_->verifier.verify(*token, std::time(nullptr));
    if (std::holds_alternative<protocol::identity>(verdict))
      return verdict;
    why = std::get<std::string>(verdict);
  }
  ctx_->node->metrics.auth_failures.fetch_add(1, std::memory_order_relaxed);
  log_net()->info("{} refused: {}", what, why);
  return why;
}

void http_session::refuse_unauthorized(request req, const std::string& why) {
  req.keep_alive(false);
  auto res = make_error(req, http::status::unauthorized, "UNAUTHORIZED", why);
  res.set(http::field::www_authenticate, "Bearer");
  send(std::move(res));
}

std::optional<protocol::identity>
http_session::admit_upgrade(request& req, const char* what,
                            bool identity_optional) {
  if (auto problem = handshake_problem(req)) {
    req.keep_alive(false);
    auto res =
        make_error(req, problem->status, "BAD_HANDSHAKE", problem->reason);
    res.set(http::field::sec_websocket_version, "13");
    if (problem->status == http::status::upgrade_required)
      res.set(http::field::upgrade, "websocket");
    send(std::move(res));
    return std::nullopt;
  }
  // A public endpoint takes clients without a token; a token it is given
  // must still be good.
  if (identity_optional && !credential(req))
    return protocol::identity{};
  // A missing or bad token is answered 401 before upgrading.
  auto verdict = authenticate(req, what);
  if (auto* why = std::get_if<std::string>(&verdict)) {
    refuse_unauthorized(std::move(req), *why);
    return std::nullopt;
  }
  return std::get<protocol::identity>(std::move(verdict));
}

template <class T, class... Args>
std::shared_ptr<T> http_session::hand_over(Args&&... args) {
  // The slot goes with the socket: the deleter releases it as the session
  // (and with it the socket) goes, not when the last weak_ptr to it does.
  return std::shared_ptr<T>(
      new T(release_transport(), std::forward<Args>(args)...),
      [slot = std::move(slot_)](T* session) mutable {
        delete session;
        slot.reset();
      });
}

bool http_session::refuse_origin(request& req) {
  auto& allowed = ctx_->node->settings.listen.allowed_origins;
  if (allowed.empty())
    return false;
  auto field = req.find(http::field::origin);
  // No Origin: not a browser, nothing a cross-site page could forge.
  if (field == req.end())
    return false;
  std::string_view origin{field->value().data(), field->value().size()};
  if (origin_listed(allowed, origin))
    return false;
  log_net()->info("browser endpoint refused: origin not in "
                  "listen.allowed_origins");
  req.keep_alive(false);
  send(make_error(req, http::status::forbidden, "PERMISSION_DENIED",
                  "this Origin may not open the node's streams "
                  "(listen.allowed_origins)"));
  return true;
}

template <class Spawn>
void http_session::switch_to_ws(const request& req, protocol::identity who,
                                Spawn&& how) {
  auto key = req[http::field::sec_websocket_key];
  auto accept = protocol::ws::accept_key({key.data(), key.size()});
  // Bytes the client sent after its request belong to the WebSocket.
  auto early = beast::buffers_to_string(buffer_.data());
  hand_over<ws_session>(ctx_, std::move(who), std::forward<Spawn>(how))
      ->start(std::move(accept), std::move(early));
}

void http_session::upgrade(request req, actors::connection_kind kind) {
  if (refuse_origin(req))
    return;
  if (auto who = admit_upgrade(req, "ws upgrade"))
    switch_to_ws(req, std::move(*who), kind);
}

void http_session::upgrade_channel(request req, const std::string& name) {
  if (refuse_origin(req))
    return;
  auto known = ctx_->node->channels.find(name);
  auto who =
      admit_upgrade(req, "channel upgrade", known && !known->requires_identity);
  if (!who)
    return;
  // Read again: the supervisor may have moved since the route was chosen.
  auto entry = ctx_->node->channels.find(name);
  using avail = actors::channel_directory::availability;
  if (!entry || entry->state != avail::up) {
    req.keep_alive(false);
    bool tripped = entry && entry->state == avail::tripped;
    auto res = make_error(
        req, http::status::service_unavailable, "UNAVAILABLE",
        tripped ? "channel " + name
                      + " is tripped: its supervisor gave up after repeated "
                        "crashes; an admin reset (service:reset_circuit_breaker"
                        " on /api/v69/ws/circuit-breaker) reopens it"
                : "channel " + name + " is restarting; retry shortly");
    if (!tripped)
      res.set(http::field::retry_after, "1");
    return send(std::move(res));
  }
  auto spawn = [ctx = ctx_, name, handle = entry->handle](
                   actors::sink_ptr sink, protocol::identity who) {
    return actors::session_actor{
        actors::spawn_channel_client(*ctx->system, ctx->node, name, handle,
                                     std::move(who), std::move(sink))};
  };
  switch_to_ws(req, std::move(*who), ws_session::spawner{std::move(spawn)});
}

void http_session::stream_events(request req) {
  if (refuse_origin(req))
    return;
  // PROTOCOL §5: identity with `sub` and `tenant_id`, else 401.
  auto verdict = authenticate(req, "sse stream");
  if (auto* why = std::get_if<std::string>(&verdict))
    return refuse_unauthorized(std::move(req), *why);
  auto& who = std::get<protocol::identity>(verdict);
  if (who.sub.empty() || who.tenant_id.empty()) {
    ctx_->node->metrics.auth_failures.fetch_add(1, std::memory_order_relaxed);
    return refuse_unauthorized(std::move(req), "token lacks sub or tenant_id");
  }
  auto read = read_sse_parameters(req);
  if (auto* why = std::get_if<std::string>(&read)) {
    req.keep_alive(false);
    return send(
        make_error(req, http::status::bad_request, "INVALID_MESSAGE", *why));
  }
  auto& params = std::get<sse_parameters>(read);
  actors::sse_options opts;
  opts.patterns = std::move(params.patterns);
  opts.last_event_id = std::move(params.last_event_id);
  hand_over<sse_session>(ctx_, std::move(who), std::move(opts))->start();
}

} // namespace herald::net
