// The admin listener's side of an HTTP session (docs/console.md): the
// console page, the admin token on every route, the live streams (handed
// to an SSE session) and the JSON routes (net/admin_api.cpp).

#include "net/admin_api.hpp"
#include "net/http_session.hpp"
#include "net/log.hpp"
#include "net/sse_session.hpp"

#include "actors/admin_follow.hpp"
#include "protocol/admin_query.hpp"
#include "protocol/topic.hpp"

#include <boost/asio/post.hpp>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Defined in the file CMake generates from examples/web/console.html.
extern const char* const embedded_console_page;

response handle_console_page(const request& req) {
  return make_response(req, http::status::ok, embedded_console_page,
                       "text/html; charset=utf-8");
}

void http_session::route_admin(request req) {
  std::string_view target{req.target().data(), req.target().size()};
  auto path = target_path(target);
  bool get =
      req.method() == http::verb::get || req.method() == http::verb::head;
  if ((path == "/" || path == "/console" || path == "/index.html") && get)
    return send(handle_console_page(req));
  if (path.substr(0, admin_prefix.size()) != admin_prefix)
    return send(make_error(req, http::status::not_found, "NOT_FOUND",
                           "no such admin route; the API is under /admin/v1/"));
  auto verdict = authenticate(req, "admin request");
  if (auto* why = std::get_if<std::string>(&verdict))
    return refuse_unauthorized(std::move(req), *why);
  auto& who = std::get<protocol::identity>(verdict);
  if (!who.has_role("admin")) {
    log_net()->info("admin request refused: {} lacks the admin role", who.sub);
    return send(make_error(req, http::status::forbidden, "PERMISSION_DENIED",
                           "the admin API needs a token with the admin role"));
  }
  constexpr std::string_view stream_prefix = "/admin/v1/stream/";
  if (path.substr(0, stream_prefix.size()) == stream_prefix) {
    if (!get)
      return send(make_error(req, http::status::method_not_allowed,
                             "METHOD_NOT_ALLOWED", "use GET"));
    return admin_stream(std::move(req),
                        std::string{path.substr(stream_prefix.size())});
  }
  auto self = shared_from_this();
  handle_admin(*ctx_, req, who.sub, [self](response res) {
    asio::post(
        self->tcp().get_executor(),
        [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  });
}

void http_session::admin_stream(request req, std::string what) {
  std::string_view target{req.target().data(), req.target().size()};
  auto bad = [&](const std::string& why) {
    req.keep_alive(false);
    send(make_error(req, http::status::bad_request, "INVALID_MESSAGE", why));
  };
  sse_session::spawner spawn;
  if (what == "topic") {
    auto pattern = query_param(target, "pattern").value_or("");
    protocol::topic_segments segments;
    std::string why;
    if (!protocol::parse_pattern(pattern, segments, &why))
      return bad("pattern: "
                 + (pattern.empty() ? std::string{"required"} : why));
    spawn = [ctx = ctx_, pattern](actors::sink_ptr sink) {
      return actors::spawn_topic_follower(*ctx->system, ctx->node, ctx->router,
                                          pattern, std::move(sink));
    };
  } else if (what.substr(0, 6) == "actor/") {
    auto rest = what.substr(6);
    auto slash = rest.find('/');
    std::string node = slash == std::string::npos ? "" : rest.substr(0, slash);
    auto id = protocol::admin::parse_count(
        slash == std::string::npos ? rest : rest.substr(slash + 1));
    if (!id)
      return bad("an actor stream is /admin/v1/stream/actor/<node>/<id>");
    uint64_t interval = 1000;
    if (auto text = query_param(target, "interval_ms")) {
      auto n = protocol::admin::parse_count(*text);
      if (!n || *n < 100 || *n > 60000)
        return bad("interval_ms: a whole number from 100 to 60000");
      interval = *n;
    }
    spawn = [ctx = ctx_, node, id = *id, interval](actors::sink_ptr sink) {
      return actors::spawn_actor_watcher(*ctx->system, ctx->inspector, node, id,
                                         static_cast<uint32_t>(interval),
                                         std::move(sink));
    };
  } else {
    return send(make_error(req, http::status::not_found, "NOT_FOUND",
                           "streams: /admin/v1/stream/topic?pattern=P, "
                           "/admin/v1/stream/actor/<node>/<id>"));
  }
  std::make_shared<sse_session>(release_transport(), ctx_, std::move(spawn))
      ->start();
}

} // namespace herald::net
