#include "net/handlers.hpp"

#include "protocol/topic.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace herald::net {

namespace http = boost::beast::http;

namespace {

std::string render(const std::string& topic,
                   const actors::presence_answer& answer) {
  uint64_t total = 0;
  std::string nodes;
  for (std::size_t i = 0; i < answer.nodes.size(); ++i) {
    total += answer.counts[i];
    if (!nodes.empty())
      nodes += ',';
    // Node names and topics are of characters JSON takes as they are.
    nodes += '"' + answer.nodes[i] + "\":";
    nodes += std::to_string(answer.counts[i]);
  }
  std::string out = "{\"topic\":\"" + topic + '"';
  out += ",\"connections\":" + std::to_string(total) + ",\"nodes\":{" + nodes
         + "},\"complete\":" + (answer.complete ? "true" : "false") + "}";
  return out;
}

} // namespace

void handle_presence(net_context& ctx, const request& req,
                     std::function<void(response)> done) {
  if (req.method() != http::verb::get)
    return done(make_error(req, http::status::method_not_allowed,
                           "METHOD_NOT_ALLOWED", "use GET"));
  if (!api_key_ok(ctx, req)) {
    ctx.node->metrics.api_key_failures.fetch_add(1, std::memory_order_relaxed);
    return done(make_error(req, http::status::unauthorized, "UNAUTHORIZED",
                           "a publish API key is required"));
  }
  auto topic = query_param({req.target().data(), req.target().size()}, "topic");
  protocol::topic_segments segments;
  std::string why;
  if (!topic || !protocol::parse_topic(*topic, segments, &why))
    return done(make_error(req, http::status::bad_request, "INVALID_TOPIC",
                           topic ? *topic + ": " + why
                                 : "the query parameter topic is required"));
  // A short-lived actor asks the router (and through it every member), so
  // that no socket thread waits.
  auto head = std::make_shared<request>(req);
  head->body().clear();
  auto timeout = std::chrono::milliseconds{
      ctx.node->settings.cluster.request_timeout_ms + 500};
  ctx.system->spawn([router = ctx.router, head, topic = *topic, timeout,
                     done](caf::event_based_actor* self) {
    self->request(router, timeout, protocol::presence_atom::value, topic)
        .then(
            [=](const actors::presence_answer& answer) {
              done(make_response(*head, http::status::ok,
                                 render(topic, answer)));
            },
            [=](caf::error& err) {
              done(make_error(*head, http::status::service_unavailable,
                              "UNAVAILABLE",
                              "presence: " + self->system().render(err)));
            });
  });
}

} // namespace herald::net
