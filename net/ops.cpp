#include "net/handlers.hpp"

namespace herald::net {

namespace http = boost::beast::http;

// Defined in the file CMake generates from examples/web/index.html.
extern const char* const embedded_page;
extern const char* const embedded_health_page;

response handle_healthz(const request& req) {
  return make_response(req, http::status::ok, R"({"status":"ok"})");
}

response handle_readyz(net_context& ctx, const request& req) {
  auto cluster = ctx.node->cluster.get();
  bool ready = ctx.ready.load() && (!cluster.enabled || cluster.joined);
  std::string body =
      ready ? R"({"status":"ready")" : R"({"status":"not ready")";
  if (cluster.enabled) {
    // Node names are of characters JSON takes as they are.
    body += R"(,"cluster":{"node":")" + cluster.node + R"(","members":[)";
    for (std::size_t i = 0; i < cluster.members.size(); ++i)
      body += (i > 0 ? ",\"" : "\"") + cluster.members[i] + '"';
    body += "]}";
  }
  body += '}';
  return make_response(
      req, ready ? http::status::ok : http::status::service_unavailable, body);
}

response handle_metrics(net_context& ctx, const request& req) {
  auto live = ctx.node->registry.connection_totals();
  auto text = ctx.node->metrics.render_prometheus(
      {live.delivered, live.filtered, live.dropped});
  if (ctx.gate) {
    // The public listener's connection limits (docs/limits.md).
    auto& g = *ctx.gate;
    text += "# HELP herald_tcp_connections Open connections on the public "
            "listener.\n"
            "# TYPE herald_tcp_connections gauge\n"
            "herald_tcp_connections "
            + std::to_string(g.open())
            + "\n"
              "# HELP herald_connections_refused_total Connections refused "
              "at accept, by the limit they hit.\n"
              "# TYPE herald_connections_refused_total counter\n"
              "herald_connections_refused_total{limit=\"max_connections\"} "
            + std::to_string(g.refused_node_full())
            + "\n"
              "herald_connections_refused_total{limit=\"max_connections_per_"
              "ip\"} "
            + std::to_string(g.refused_address_full()) + "\n";
  }
  auto cluster = ctx.node->cluster.get();
  if (cluster.enabled) {
    text += "# HELP herald_cluster_members Live members, this node included.\n"
            "# TYPE herald_cluster_members gauge\n"
            "herald_cluster_members "
            + std::to_string(cluster.members.size())
            + "\n"
              "# HELP herald_cluster_member A live member, by name.\n"
              "# TYPE herald_cluster_member gauge\n";
    for (auto& m : cluster.members)
      text += "herald_cluster_member{node=\"" + m + "\"} 1\n";
  }
  return make_response(req, http::status::ok, text,
                       "text/plain; version=0.0.4; charset=utf-8");
}

response handle_page(const request& req) {
  return make_response(req, http::status::ok, embedded_page,
                       "text/html; charset=utf-8");
}

response handle_health_page(const request& req) {
  return make_response(req, http::status::ok, embedded_health_page,
                       "text/html; charset=utf-8");
}

response route(net_context& ctx, const request& req) {
  auto path =
      target_path(std::string_view{req.target().data(), req.target().size()});
  auto method = req.method();
  auto only = [&](http::verb allowed) { return method == allowed; };
  if (path == "/api/v1/publish" || path == "/api/v1/publish/batch") {
    if (!only(http::verb::post))
      return make_error(req, http::status::method_not_allowed,
                        "METHOD_NOT_ALLOWED", "use POST");
    return handle_publish(ctx, req, path == "/api/v1/publish/batch");
  }
  bool get = only(http::verb::get) || only(http::verb::head);
  if (path == "/healthz" && get)
    return handle_healthz(req);
  if (path == "/readyz" && get)
    return handle_readyz(ctx, req);
  if (path == "/metrics" && get)
    return handle_metrics(ctx, req);
  if ((path == "/" || path == "/index.html") && get)
    return handle_page(req);
  if (path == "/health" && get)
    return handle_health_page(req);
  if (path == "/ws")
    return make_error(req, http::status::upgrade_required, "UPGRADE_REQUIRED",
                      "/ws takes a WebSocket upgrade");
  return make_error(req, http::status::not_found, "NOT_FOUND",
                    "no such endpoint");
}

} // namespace herald::net
