#include "actors/inspector.hpp"

#include "actors/clock.hpp"
#include "actors/inspector_local.hpp"
#include "actors/instrument.hpp"
#include "protocol/admin_query.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

namespace herald::actors {

using namespace protocol;
namespace admin = protocol::admin;

namespace {

struct inspector_state {
  static inline const char* name = "herald.inspector";
  context_ptr ctx;
  health_actor board;
  cluster_actor member;
  actor_counters* counters = nullptr;
};

using self_ptr = inspector_actor::stateful_pointer<inspector_state>;

/// Every node's answer, the members asked (this node first), and those
/// that did not answer in time.
struct gathered {
  std::vector<std::string> answers;
  std::vector<std::string> nodes;
  std::vector<std::string> missing;
};

using gathered_fn = std::function<void(gathered)>;
using answer_fn = std::function<void(std::string)>;

std::chrono::milliseconds board_timeout() {
  return std::chrono::seconds{5};
}

// This node's part of `req`, through `done`.
void local_answer(self_ptr self, const admin::request& req, answer_fn done) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto fail = [done](caf::error&) {
    done(inspect::error_answer("UNAVAILABLE",
                               "the health board did not answer"));
  };
  if (req.op == "node" || req.op == "nodes" || req.op == "cluster") {
    self->request(st.board, board_timeout(), maint_atom::value)
        .then(
            [=](const maintenance_state& m) {
              done(inspect::summary(*self->state.ctx, m));
            },
            fail);
  } else if (req.op == "actors") {
    done(inspect::actor_page(ctx, req.page, false));
  } else if (req.op == "topics") {
    done(inspect::actor_page(ctx, req.page, true));
  } else if (req.op == "subscribers") {
    done(inspect::subscriber_page(ctx, req.arg, req.page));
  } else if (req.op == "actor") {
    done(inspect::actor_detail(ctx, req.id));
  } else if (req.op == "tree") {
    done(inspect::tree(ctx));
  } else if (req.op == "stop") {
    done(inspect::stop(ctx, req.id, req.arg));
  } else if (req.op == "services") {
    self->request(st.board, board_timeout(), services_atom::value)
        .then(
            [=](const std::vector<service_status>& all) {
              done(inspect::services(*self->state.ctx, all));
            },
            fail);
  } else if (req.op == "reset") {
    auto node = ctx.settings.node_name;
    self->request(st.board, board_timeout(), reset_atom::value, req.arg,
                  req.who)
        .then(
            [=](const service_status& s) {
              done("{\"node\":\"" + node + "\",\"name\":\"" + s.name
                   + "\",\"reset\":true,\"state\":\""
                   + protocol::to_string(s.state) + "\"}");
            },
            [=](caf::error&) {
              done(inspect::error_answer(
                  "NOT_FOUND", "no service " + req.arg + " on node " + node));
            });
  } else if (req.op == "maintenance") {
    self->request(st.board, board_timeout(), maint_atom::value)
        .then(
            [=](const maintenance_state& m) {
              done(inspect::maintenance(*self->state.ctx, m));
            },
            fail);
  } else if (req.op == "set_maintenance") {
    auto parsed = inspect::parse_maintenance(req.body, req.who);
    if (auto* why = std::get_if<std::string>(&parsed))
      return done(inspect::error_answer("INVALID_MESSAGE", *why));
    self->request(st.board, board_timeout(), maint_atom::value,
                  std::get<maintenance_state>(std::move(parsed)))
        .then(
            [=](const maintenance_state& m) {
              done(inspect::maintenance(*self->state.ctx, m));
            },
            fail);
  } else {
    done(inspect::error_answer("NOT_FOUND", "no operation " + req.op));
  }
}

// This node's part and, in a cluster, every other member's (or only the
// one `req.page.node` names).
void gather(self_ptr self, const admin::request& req, gathered_fn done) {
  auto& st = self->state;
  auto me = st.ctx->settings.node_name;
  // The others send their first offset+limit rows; the merge pages them.
  auto peer_req = req;
  if (req.op == "actors" || req.op == "topics" || req.op == "subscribers") {
    peer_req.page.limit = req.page.offset + req.page.limit;
    peer_req.page.offset = 0;
  }
  // One actor without a node is this node's: never ask the others, or a
  // stop would reach every member's actor of that id.
  bool only_me =
      !st.member || req.page.node == me
      || ((req.op == "actor" || req.op == "stop") && req.page.node.empty());
  bool only_other = !req.page.node.empty() && req.page.node != me;
  auto after_local = [=](std::string mine) {
    gathered g;
    if (!only_other) {
      g.answers.push_back(std::move(mine));
      g.nodes.push_back(me);
    }
    if (only_me)
      return done(std::move(g));
    std::vector<std::string> wanted;
    if (only_other)
      wanted.push_back(req.page.node);
    auto timeout = std::chrono::milliseconds{
        self->state.ctx->settings.admin.peer_timeout_ms + 200};
    auto shared = std::make_shared<gathered>(std::move(g));
    self->request(self->state.member, timeout, admin_atom::value,
                  admin::encode_request(peer_req), wanted)
        .then(
            [=](std::vector<std::string>& answers,
                std::vector<std::string>& asked,
                std::vector<std::string>& missing) {
              for (auto& a : answers)
                shared->answers.push_back(std::move(a));
              for (auto& n : asked)
                shared->nodes.push_back(std::move(n));
              for (auto& n : missing)
                shared->missing.push_back(std::move(n));
              done(std::move(*shared));
            },
            [=](caf::error&) {
              for (auto& n : wanted)
                shared->missing.push_back(n);
              done(std::move(*shared));
            });
  };
  if (only_other)
    return after_local({});
  local_answer(self, peer_req, after_local);
}

// Turns the gathered answers into the HTTP answer of `req`.
std::pair<uint16_t, std::string> merge(const admin::request& req,
                                       const std::string& me,
                                       const std::vector<std::string>& members,
                                       gathered& g) {
  using admin::coverage_members;
  if (req.op == "actors" || req.op == "topics" || req.op == "subscribers")
    return {200, admin::merge_pages(g.answers, req.page, g.nodes, g.missing)};
  if (req.op == "actor" || req.op == "stop") {
    if (g.answers.empty())
      return {404, inspect::error_answer("NOT_FOUND", "node " + req.page.node
                                                          + " did not answer")};
    return {inspect::status_of(g.answers.front()), g.answers.front()};
  }
  if (req.op == "reset") {
    // Found on some node: the nodes without it are not an error.
    std::vector<std::string> found;
    for (auto& a : g.answers)
      if (inspect::status_of(a) == 200)
        found.push_back(a);
    if (found.empty())
      return {404, inspect::error_answer("NOT_FOUND",
                                         "no node has a service " + req.arg)};
    return {200, admin::merge_items(found, g.nodes, g.missing)};
  }
  if (req.op == "set_maintenance")
    for (auto& a : g.answers)
      if (auto status = inspect::status_of(a); status != 200)
        return {status, a};
  if (req.op == "cluster") {
    auto out = admin::merge_items(g.answers, g.nodes, g.missing);
    std::string head = "{\"enabled\":";
    head += members.size() > 1 || g.nodes.size() > 1 ? "true" : "false";
    head += ",\"node\":\"" + me + "\",\"members\":[";
    for (std::size_t i = 0; i < members.size(); ++i)
      head += (i > 0 ? ",\"" : "\"") + members[i] + '"';
    head += "],";
    return {200, head + out.substr(1)};
  }
  if (req.op == "services")
    return {200, admin::merge_items(g.answers, g.nodes, g.missing, {"layers"})};
  return {200, admin::merge_items(g.answers, g.nodes, g.missing)};
}

inspector_actor::behavior_type inspector(self_ptr self, context_ptr ctx,
                                         health_actor board,
                                         cluster_actor member) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.board = std::move(board);
  st.member = std::move(member);
  st.counters = enroll(self, st.ctx, actor_kind::inspector, "inspector");
  self->send(self, tick_atom::value);
  return {
      [=](admin_atom,
          const std::string& text) -> caf::result<uint16_t, std::string> {
        count_message(self, self->state.counters);
        auto req = admin::decode_request(text);
        if (!req)
          return {uint16_t{400},
                  inspect::error_answer("INVALID_MESSAGE", "bad request")};
        auto rp = self->make_response_promise<uint16_t, std::string>();
        auto cluster = self->state.ctx->cluster.get();
        auto me = self->state.ctx->settings.node_name;
        auto members =
            cluster.enabled ? cluster.members : std::vector<std::string>{me};
        if (!req->page.node.empty()
            && std::find(members.begin(), members.end(), req->page.node)
                   == members.end()) {
          rp.deliver(uint16_t{404},
                     inspect::error_answer("NOT_FOUND", "no member named "
                                                            + req->page.node));
          return rp;
        }
        if (req->op == "node") {
          local_answer(self, *req, [rp](std::string a) mutable {
            rp.deliver(inspect::status_of(a), std::move(a));
          });
          return rp;
        }
        gather(self, *req, [=](gathered g) mutable {
          auto [status, body] = merge(*req, me, members, g);
          rp.deliver(status, std::move(body));
        });
        return rp;
      },
      [=](admin_atom, const std::string& text,
          bool) -> caf::result<std::string> {
        count_message(self, self->state.counters);
        auto req = admin::decode_request(text);
        if (!req)
          return inspect::error_answer("INVALID_MESSAGE", "bad request");
        auto rp = self->make_response_promise<std::string>();
        local_answer(self, *req,
                     [rp](std::string a) mutable { rp.deliver(std::move(a)); });
        return rp;
      },
      [=](tick_atom) {
        // Rates and last activity for every actor, off their threads:
        // one pass over the registry a second.
        count_message(self, self->state.counters);
        self->state.ctx->registry.sample(now_us() / 1000);
        self->delayed_send(self, std::chrono::seconds{1}, tick_atom::value);
      },
  };
}

} // namespace

inspector_actor spawn_inspector(caf::actor_system& sys, context_ptr ctx,
                                health_actor board, cluster_actor member) {
  auto handle =
      sys.spawn(inspector, std::move(ctx), std::move(board), std::move(member));
  sys.registry().put(inspector_registry_name,
                     caf::actor_cast<caf::strong_actor_ptr>(handle));
  return handle;
}

} // namespace herald::actors
