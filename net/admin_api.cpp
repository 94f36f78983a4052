// The admin API's JSON routes (docs/console.md): each request becomes one
// protocol::admin::request for the node's inspector, answered later from
// an actor so that no socket thread waits (the cluster-wide answers ask
// every member).

#include "net/admin_api.hpp"

#include "protocol/admin_query.hpp"
#include "protocol/json_util.hpp"

#include <rapidjson/document.h>

#include <caf/all.hpp>

#include <chrono>
#include <vector>

namespace herald::net {

namespace http = boost::beast::http;
namespace admin = protocol::admin;

namespace {

const admin::sort_keys actor_sorts{
    {"id", "mailbox", "rate", "handled", "age", "name", "kind"},
    {"mailbox", "rate", "handled", "age"}};
const admin::sort_keys topic_sorts{
    {"subscribers", "pattern", "delivered", "handled", "rate", "id"},
    {"subscribers", "delivered", "handled", "rate"}};
const admin::sort_keys subscriber_sorts{{"id", "name", "handled", "age"},
                                        {"handled", "age"}};

// The path after the prefix, split at '/'.
std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start)
      out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct parsed {
  std::optional<admin::request> req;
  std::optional<response> refusal;
};

parsed refuse(const request& req, http::status status, const char* code,
              const std::string& message) {
  return {std::nullopt, make_error(req, status, code, message)};
}

// `actors/<node>/<id>` or `actors/<id>` (this node): sets node and id.
bool actor_address(const std::vector<std::string>& seg, std::size_t at,
                   admin::request& out) {
  if (seg.size() > at + 1) {
    auto id = admin::parse_count(seg[at + 1]);
    if (!id)
      return false;
    out.page.node = seg[at];
    out.id = *id;
    return true;
  }
  auto id = seg.size() > at ? admin::parse_count(seg[at]) : std::nullopt;
  if (!id)
    return false;
  out.id = *id;
  return true;
}

parsed parse(const request& req, const std::string& who) {
  std::string_view target{req.target().data(), req.target().size()};
  auto path = target_path(target);
  auto seg = segments(path.substr(admin_prefix.size()));
  auto params = [target](std::string_view name) {
    return query_params(target, name);
  };
  bool get =
      req.method() == http::verb::get || req.method() == http::verb::head;
  bool post = req.method() == http::verb::post;
  auto wrong_method = [&](const char* allowed) {
    return refuse(req, http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                  std::string{"use "} + allowed);
  };
  admin::request out;
  out.who = who;
  out.page.node = query_param(target, "node").value_or("");
  if (seg.empty())
    return refuse(req, http::status::not_found, "NOT_FOUND",
                  "no such admin route");
  auto& head = seg[0];
  auto listing = [&](const admin::sort_keys& keys, bool kinds) -> parsed {
    auto q = admin::parse_page_query(params, keys, kinds);
    if (auto* why = std::get_if<std::string>(&q))
      return refuse(req, http::status::bad_request, "INVALID_MESSAGE", *why);
    out.page = std::get<admin::page_query>(std::move(q));
    return {out, std::nullopt};
  };
  if ((head == "node" || head == "nodes" || head == "tree" || head == "cluster"
       || head == "services")
      && seg.size() == 1) {
    if (!get)
      return wrong_method("GET");
    out.op = head;
    return {out, std::nullopt};
  }
  if (head == "actors") {
    if (seg.size() == 1) {
      if (!get)
        return wrong_method("GET");
      out.op = "actors";
      return listing(actor_sorts, true);
    }
    bool stopping = seg.back() == "stop";
    auto address = seg;
    if (stopping)
      address.pop_back();
    if (address.size() > 3 || !actor_address(address, 1, out))
      return refuse(req, http::status::not_found, "NOT_FOUND",
                    "an actor is named /admin/v1/actors/<node>/<id>");
    if (stopping) {
      if (!post)
        return wrong_method("POST");
      out.op = "stop";
      out.arg = "stopped by admin";
      if (!req.body().empty()) {
        rapidjson::Document doc;
        doc.Parse(req.body().data(), req.body().size());
        if (doc.HasParseError() || !doc.IsObject())
          return refuse(req, http::status::bad_request, "INVALID_MESSAGE",
                        "the body must be a JSON object such as "
                        "{\"reason\":\"...\"}");
        auto it = doc.FindMember("reason");
        if (it != doc.MemberEnd()) {
          if (!it->value.IsString() || it->value.GetStringLength() > 100
              || !protocol::valid_utf8(
                  {it->value.GetString(), it->value.GetStringLength()}))
            return refuse(req, http::status::bad_request, "INVALID_MESSAGE",
                          "reason: a string of at most 100 bytes");
          out.arg = std::string{"stopped by admin: "} + it->value.GetString();
        }
      }
      return {out, std::nullopt};
    }
    if (!get)
      return wrong_method("GET");
    out.op = "actor";
    return {out, std::nullopt};
  }
  if (head == "topics") {
    if (!get)
      return wrong_method("GET");
    if (seg.size() == 1) {
      out.op = "topics";
      return listing(topic_sorts, false);
    }
    if (seg.size() == 2 && seg[1] == "subscribers") {
      auto pattern = query_param(target, "pattern");
      if (!pattern || pattern->empty())
        return refuse(req, http::status::bad_request, "INVALID_MESSAGE",
                      "pattern: the query parameter pattern is required");
      auto r = listing(subscriber_sorts, false);
      if (r.req) {
        r.req->op = "subscribers";
        r.req->arg = *pattern;
        r.req->page.name.clear();
        r.req->who = who;
      }
      return r;
    }
  }
  if (head == "services" && seg.size() == 3 && seg[2] == "reset") {
    if (!post)
      return wrong_method("POST");
    out.op = "reset";
    out.arg = seg[1];
    return {out, std::nullopt};
  }
  if (head == "maintenance" && seg.size() == 1) {
    if (get) {
      out.op = "maintenance";
      return {out, std::nullopt};
    }
    if (!post)
      return wrong_method("GET or POST");
    out.op = "set_maintenance";
    out.body = req.body();
    return {out, std::nullopt};
  }
  return refuse(req, http::status::not_found, "NOT_FOUND",
                "no such admin route");
}

} // namespace

void handle_admin(net_context& ctx, const request& req, const std::string& who,
                  std::function<void(response)> done) {
  auto parsed = parse(req, who);
  if (parsed.refusal)
    return done(std::move(*parsed.refusal));
  auto head = std::make_shared<request>(req);
  head->body().clear();
  auto text = admin::encode_request(*parsed.req);
  auto timeout = std::chrono::milliseconds{
      ctx.node->settings.admin.peer_timeout_ms + 5000};
  ctx.system->spawn([inspector = ctx.inspector, head, text, timeout,
                     done](caf::event_based_actor* self) {
    self->request(inspector, timeout, protocol::admin_atom::value, text)
        .then(
            [=](uint16_t status, const std::string& body) {
              done(make_response(*head, static_cast<http::status>(status),
                                 body));
            },
            [=](caf::error& err) {
              done(make_error(*head, http::status::service_unavailable,
                              "UNAVAILABLE",
                              "inspector: " + self->system().render(err)));
            });
  });
}

} // namespace herald::net
