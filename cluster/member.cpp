#include "cluster/member.hpp"

#include "cluster/interest.hpp"

#include "actors/inspector.hpp"
#include "actors/instrument.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace herald::cluster {

using namespace protocol;
using actors::cluster_actor;

namespace {

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("cluster");
  return l ? l : spdlog::default_logger();
}

std::string address_of(const member_info& m) {
  return m.address + ":" + std::to_string(m.port);
}

std::chrono::milliseconds request_timeout(member_state& st) {
  return std::chrono::milliseconds{st.ctx->settings.cluster.request_timeout_ms};
}

// Tells the router and the HTTP side (readyz, metrics) who is live.
void publish_members(member_actor_ptr self) {
  auto& st = self->state;
  std::vector<std::string> names;
  std::vector<std::string> epochs;
  for (auto& [name, m] : st.members)
    if (m.live) {
      names.push_back(name);
      epochs.push_back(m.info.epoch);
    }
  self->send(st.router, members_atom::value, names, epochs);
  actors::cluster_view::snapshot view;
  view.enabled = true;
  view.joined = st.joined;
  view.node = st.me.name;
  view.members = names;
  view.members.push_back(st.me.name);
  std::sort(view.members.begin(), view.members.end());
  st.ctx->cluster.set(std::move(view));
}

member_infos known_members(const member_state& st) {
  member_infos out;
  for (auto& [name, m] : st.members)
    if (m.live)
      out.push_back(m.info);
  return out;
}

void send_hello(member_actor_ptr self, const cluster_actor& to) {
  auto& st = self->state;
  self->send(to, hello_atom::value, st.me,
             caf::actor_cast<caf::strong_actor_ptr>(self), known_members(st));
}

bool address_is_live(const member_state& st, const std::string& address) {
  for (auto& [name, m] : st.members)
    if (m.live && address_of(m.info) == address)
      return true;
  return false;
}

void dial(member_actor_ptr self, const std::string& target) {
  auto& st = self->state;
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(target, host, port))
    return;
  if (!self->system().has_middleman())
    return; // an in-process test cluster: members meet by hello alone
  st.dialing.insert(target);
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, request_timeout(st), caf::connect_atom::value, host, port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>&) {
            self->state.dialing.erase(target);
            if (!ptr || ptr->node() == self->node())
              return; // ourselves (a seed list naming this node)
            send_hello(self, caf::actor_cast<cluster_actor>(ptr));
          },
          [=](caf::error& err) {
            self->state.dialing.erase(target);
            log()->debug("cluster: dialling {} failed: {}", target,
                         self->system().render(err));
          });
}

void on_tick(member_actor_ptr self) {
  auto& st = self->state;
  for (auto& target : st.targets)
    if (target != address_of(st.me) && st.dialing.count(target) == 0
        && !address_is_live(st, target))
      dial(self, target);
  self->delayed_send(
      self, std::chrono::milliseconds{st.ctx->settings.cluster.retry_ms},
      tick_atom::value);
}

void depart(member_actor_ptr self, member_entry& m, const char* why) {
  auto& st = self->state;
  if (!m.live)
    return;
  m.live = false;
  self->demonitor(m.handle.address());
  m.handle = nullptr;
  drop_interest(st, m);
  st.ctx->metrics.cluster_departures.fetch_add(1, std::memory_order_relaxed);
  log()->warn("cluster member left: {} ({}, {})", m.info.name,
              address_of(m.info), why);
  st.targets.insert(address_of(m.info));
  publish_members(self);
}

void on_hello(member_actor_ptr self, const member_info& info,
              const caf::strong_actor_ptr& ptr, const member_infos& known) {
  auto& st = self->state;
  if (info.name == st.me.name) {
    if (info.epoch != st.me.epoch)
      log()->error("cluster: another node calls itself {} ({}); names must "
                   "be unique, ignoring it",
                   info.name, address_of(info));
    return;
  }
  auto handle = caf::actor_cast<cluster_actor>(ptr);
  if (!handle)
    return;
  auto& m = st.members[info.name];
  if (m.bit == 0) {
    if (st.next_bit == 0) {
      log()->error("cluster: more than 64 members; ignoring {}", info.name);
      return;
    }
    m.bit = st.next_bit;
    st.next_bit <<= 1;
  }
  for (auto& k : known)
    if (k.name != st.me.name)
      st.targets.insert(address_of(k));
  if (m.live && m.info.epoch == info.epoch) {
    // Known already: its reply to our hello, or a second dial. If it does
    // not list us, it lost us while we kept it: say hello again.
    bool knows_us = std::any_of(known.begin(), known.end(), [&](auto& k) {
      return k.name == st.me.name && k.epoch == st.me.epoch;
    });
    if (!knows_us) {
      send_hello(self, m.handle);
      send_full_interest(self, m);
    }
    return;
  }
  if (m.live)
    depart(self, m, "restarted");
  m.info = info;
  m.handle = handle;
  m.live = true;
  m.interest_version = 0;
  self->monitor(handle);
  st.targets.insert(address_of(info));
  st.joined = true;
  st.ctx->metrics.cluster_joins.fetch_add(1, std::memory_order_relaxed);
  log()->info("cluster member joined: {} ({})", info.name, address_of(info));
  // The router first learns the member (its epoch and ring place), then
  // the member learns us and our whole interest.
  publish_members(self);
  send_hello(self, handle);
  send_full_interest(self, m);
}

member_entry* live_member_by_addr(member_state& st, const caf::actor_addr& a) {
  for (auto& [name, m] : st.members)
    if (m.live && m.handle.address() == a)
      return &m;
  return nullptr;
}

// Hands events to their owner; if it does not answer, this node owns them
// (none is lost; a topic's order may break while its owner changes).
void hand_over(member_actor_ptr self, const std::string& owner,
               actors::pending_events& events) {
  auto& st = self->state;
  auto i = st.members.find(owner);
  if (i == st.members.end() || !i->second.live) {
    st.ctx->metrics.cluster_rerouted.fetch_add(events.size(),
                                               std::memory_order_relaxed);
    self->send(st.router, owner_atom::value, std::move(events));
    return;
  }
  wire_events wire;
  wire.reserve(events.size());
  for (auto& ev : events)
    wire.push_back(to_wire(*ev));
  // The events themselves stay here for the error path: no second copy of
  // the payloads travels with the request.
  auto kept = std::make_shared<actors::pending_events>(std::move(events));
  self->request(i->second.handle, request_timeout(st), owner_atom::value,
                std::move(wire))
      .then([](bool) {},
            [=](caf::error& err) {
              auto& st = self->state;
              log()->warn("cluster: owner {} did not take {} events ({}); "
                          "routing them here",
                          owner, kept->size(), self->system().render(err));
              st.ctx->metrics.cluster_rerouted.fetch_add(
                  kept->size(), std::memory_order_relaxed);
              self->send(st.router, owner_atom::value, std::move(*kept));
            });
}

void start_sync(member_actor_ptr self, const actors::sync_request& req) {
  auto& st = self->state;
  auto id = req.ticket;
  auto& collect = st.syncs[id];
  auto done = [=] {
    auto& st = self->state;
    auto i = st.syncs.find(id);
    if (i == st.syncs.end() || --i->second.waiting > 0)
      return;
    self->send(st.router, sync_atom::value, id, std::move(i->second.parts));
    st.syncs.erase(i);
  };
  collect.waiting = 1; // ours, released below
  for (auto& [name, m] : st.members) {
    if (!m.live)
      continue;
    replay_query q;
    q.asked = req.asked;
    auto* since = find_entry(req.since, m.info.epoch);
    q.since = since != nullptr ? since->seq : 0;
    q.patterns = req.patterns;
    q.sse_tenant = req.sse_tenant;
    ++collect.waiting;
    auto epoch = m.info.epoch;
    self->request(m.handle, request_timeout(st), query_atom::value, q)
        .then(
            [=](replay_part& part) {
              auto i = self->state.syncs.find(id);
              if (i != self->state.syncs.end())
                i->second.parts.push_back(std::move(part));
              done();
            },
            [=](caf::error&) {
              auto i = self->state.syncs.find(id);
              if (i != self->state.syncs.end())
                i->second.parts.push_back(replay_part{epoch, 0, false, {}});
              done();
            });
  }
  done();
}

caf::result<actors::presence_answer> presence(member_actor_ptr self,
                                              const std::string& topic) {
  auto& st = self->state;
  auto rp =
      std::make_shared<caf::typed_response_promise<actors::presence_answer>>(
          self->make_response_promise<actors::presence_answer>());
  auto answer = std::make_shared<actors::presence_answer>();
  auto waiting = std::make_shared<std::size_t>(1);
  auto add = [=](const std::string& name, std::optional<uint64_t> n) {
    if (n) {
      answer->nodes.push_back(name);
      answer->counts.push_back(*n);
    } else {
      answer->complete = false;
    }
    if (--*waiting == 0)
      rp->deliver(std::move(*answer));
  };
  auto me = st.me.name;
  for (auto& [name, m] : st.members) {
    if (!m.live)
      continue;
    ++*waiting;
    auto member = name;
    self->request(m.handle, request_timeout(st), presence_atom::value, topic,
                  true)
        .then([=](uint64_t n) { add(member, n); },
              [=](caf::error&) { add(member, std::nullopt); });
  }
  self->request(st.router, request_timeout(st), presence_atom::value, topic,
                true)
      .then([=](uint64_t n) { add(me, n); },
            [=](caf::error&) { add(me, std::nullopt); });
  return *rp;
}

using admin_answers = caf::typed_response_promise<std::vector<std::string>,
                                                  std::vector<std::string>,
                                                  std::vector<std::string>>;

// An admin request for the other members (docs/console.md): each live one
// named in `only` (every live one when empty) is asked; those that do not
// answer within admin.peer_timeout_ms are listed as missing.
caf::result<std::vector<std::string>, std::vector<std::string>,
            std::vector<std::string>>
ask_members(member_actor_ptr self, const std::string& req,
            const std::vector<std::string>& only) {
  auto& st = self->state;
  auto rp = std::make_shared<admin_answers>(
      self->make_response_promise<std::vector<std::string>,
                                  std::vector<std::string>,
                                  std::vector<std::string>>());
  struct collected {
    std::vector<std::string> answers, asked, missing;
    std::size_t waiting = 1;
  };
  auto got = std::make_shared<collected>();
  auto settle = [=] {
    if (--got->waiting == 0)
      rp->deliver(std::move(got->answers), std::move(got->asked),
                  std::move(got->missing));
  };
  std::chrono::milliseconds timeout{st.ctx->settings.admin.peer_timeout_ms};
  for (auto& [name, m] : st.members) {
    if (!m.live
        || (!only.empty()
            && std::find(only.begin(), only.end(), name) == only.end()))
      continue;
    ++got->waiting;
    got->asked.push_back(name);
    auto member = name;
    self->request(m.handle, timeout, admin_atom::value, req, true)
        .then(
            [=](std::string& answer) {
              got->answers.push_back(std::move(answer));
              settle();
            },
            [=](caf::error&) {
              got->missing.push_back(member);
              settle();
            });
  }
  for (auto& name : only)
    if (std::find(got->asked.begin(), got->asked.end(), name)
        == got->asked.end())
      got->missing.push_back(name);
  settle();
  return *rp;
}

} // namespace

bool split_host_port(const std::string& text, std::string& host,
                     uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned value = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || value > 65535)
      return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

actors::cluster_actor::behavior_type member(member_actor_ptr self,
                                            actors::context_ptr ctx,
                                            actors::router_actor router,
                                            member_info me,
                                            std::vector<std::string> seeds) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.router = std::move(router);
  st.me = std::move(me);
  st.founder = std::all_of(seeds.begin(), seeds.end(),
                           [&](auto& s) { return s == address_of(st.me); });
  st.joined = st.founder;
  st.targets.insert(seeds.begin(), seeds.end());
  publish_members(self);
  actors::enroll(self, st.ctx, actors::actor_kind::node, st.me.name);
  self->send(st.router, cluster_atom::value, cluster_actor{self});
  self->set_down_handler([=](caf::down_msg& msg) {
    if (auto* m = live_member_by_addr(self->state, msg.source))
      depart(self, *m, "connection lost");
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    // A clean leave: the others drop us at once instead of waiting for
    // the connection to fail.
    for (auto& [name, m] : self->state.members)
      if (m.live)
        self->send(m.handle, bye_atom::value, self->state.me.name);
    self->quit(msg.reason);
  });
  self->send(self, tick_atom::value);
  return {
      [=](forward_atom, std::vector<event_ptr>& events) {
        forward_to_members(self, events);
      },
      [=](owner_atom, const std::string& owner,
          actors::pending_events& events) { hand_over(self, owner, events); },
      [=](interest_atom, std::vector<std::string>& added,
          std::vector<std::string>& removed) {
        local_interest_changed(self, added, removed);
      },
      [=](sync_atom, const actors::sync_request& req) {
        start_sync(self, req);
      },
      [=](mark_atom, uint64_t seq) {
        auto& st = self->state;
        for (auto& [name, m] : st.members)
          if (m.live)
            self->send(m.handle, mark_atom::value, st.me.epoch, seq);
      },
      [=](presence_atom, const std::string& topic) {
        return presence(self, topic);
      },
      [=](tick_atom) { on_tick(self); },
      [=](hello_atom, const member_info& info, const caf::strong_actor_ptr& ptr,
          const member_infos& known) { on_hello(self, info, ptr, known); },
      [=](bye_atom, const std::string& name) {
        auto i = self->state.members.find(name);
        if (i != self->state.members.end())
          depart(self, i->second, "left");
      },
      [=](interest_atom, const std::string& from, interest_update& update) {
        remote_interest_changed(self, from, update);
      },
      [=](forward_atom, wire_events& events) {
        actors::pending_events local;
        local.reserve(events.size());
        for (auto& w : events)
          local.push_back(from_wire(std::move(w)));
        self->send(self->state.router, forward_atom::value, std::move(local));
      },
      [=](owner_atom, wire_events& events) {
        actors::pending_events local;
        local.reserve(events.size());
        for (auto& w : events)
          local.push_back(from_wire(std::move(w)));
        self->send(self->state.router, owner_atom::value, std::move(local));
        return true;
      },
      [=](query_atom, const replay_query& q) {
        return self->delegate(self->state.router, query_atom::value, q);
      },
      [=](mark_atom, const std::string& epoch, uint64_t seq) {
        self->send(self->state.router, mark_atom::value, epoch, seq);
      },
      [=](presence_atom, const std::string& topic, bool) {
        return self->delegate(self->state.router, presence_atom::value, topic,
                              true);
      },
      [=](admin_atom, const std::string& req,
          const std::vector<std::string>& only) {
        return ask_members(self, req, only);
      },
      [=](admin_atom, const std::string& req,
          bool) -> caf::result<std::string> {
        // This node's inspector answers (it registers itself at start).
        auto found =
            self->system().registry().get(actors::inspector_registry_name);
        if (!found)
          return std::string{
              R"({"code":"UNAVAILABLE","message":"no inspector"})"};
        return self->delegate(caf::actor_cast<actors::inspector_actor>(found),
                              admin_atom::value, req, true);
      },
  };
}

} // namespace herald::cluster
