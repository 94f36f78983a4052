#include "actors/inspector_local.hpp"

#include "actors/clock.hpp"
#include "protocol/json_util.hpp"
#include "protocol/version.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace herald::actors::inspect {

using protocol::json_writer;
using protocol::write_json_string;
namespace admin = protocol::admin;

namespace {

int64_t now_ms() {
  return now_us() / 1000;
}

// A connection's one-line state: its endpoint and how much it holds.
std::string state_line(const actor_row& r) {
  if (r.kind == actor_kind::connection)
    return r.state + (r.state.empty() ? "" : " ") + r.name + " "
           + std::to_string(r.gauge)
           + (r.gauge == 1 ? " subscription" : " subscriptions");
  if (r.kind == actor_kind::topic)
    return std::to_string(r.gauge)
           + (r.gauge == 1 ? " subscriber" : " subscribers");
  return r.state;
}

void write_row(json_writer& w, const node_context& ctx, const actor_row& r,
               int64_t now) {
  w.StartObject();
  w.Key("node");
  write_json_string(w, ctx.settings.node_name);
  w.Key("id");
  w.Uint64(r.id);
  w.Key("kind");
  w.String(to_string(r.kind));
  w.Key("name");
  write_json_string(w, r.name);
  w.Key("parent");
  w.Uint64(r.parent);
  w.Key("started_ms");
  w.Int64(r.started_ms);
  w.Key("age_ms");
  w.Int64(std::max<int64_t>(0, now - r.started_ms));
  w.Key("mailbox");
  w.Uint64(r.mailbox);
  w.Key("handled");
  w.Uint64(r.handled);
  w.Key("rate");
  w.Double(r.rate);
  w.Key("last_active_ms");
  w.Int64(r.last_active_ms);
  w.Key("delivered");
  w.Uint64(r.delivered);
  w.Key("filtered");
  w.Uint64(r.filtered);
  w.Key("dropped");
  w.Uint64(r.dropped);
  if (r.kind == actor_kind::topic) {
    w.Key("pattern");
    write_json_string(w, r.name);
    w.Key("subscribers");
    w.Uint64(r.gauge);
  }
  if (r.kind == actor_kind::connection) {
    w.Key("user");
    write_json_string(w, r.name);
    w.Key("endpoint");
    write_json_string(w, r.state);
    w.Key("subscriptions");
    w.Uint64(r.gauge);
  }
  w.Key("state");
  write_json_string(w, state_line(r));
  w.EndObject();
}

// Orders rows as merge_pages orders JSON items (field, then id).
bool row_before(const actor_row& a, const actor_row& b, const std::string& key,
                bool desc) {
  auto cmp = [&](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  int r = 0;
  if (key == "mailbox")
    r = cmp(a.mailbox, b.mailbox);
  else if (key == "rate")
    r = cmp(a.rate, b.rate);
  else if (key == "handled")
    r = cmp(a.handled, b.handled);
  else if (key == "age")
    r = cmp(b.started_ms, a.started_ms); // older: larger age
  else if (key == "name" || key == "pattern")
    r = a.name.compare(b.name) < 0 ? -1 : (a.name == b.name ? 0 : 1);
  else if (key == "kind")
    r = std::string{to_string(a.kind)}.compare(to_string(b.kind));
  else if (key == "subscribers")
    r = cmp(a.gauge, b.gauge);
  else if (key == "delivered")
    r = cmp(a.delivered, b.delivered);
  r = r < 0 ? -1 : (r > 0 ? 1 : 0);
  if (desc)
    r = -r;
  if (r == 0)
    r = cmp(a.id, b.id);
  return r < 0;
}

std::string page_of(const node_context& ctx, std::vector<actor_row>& rows,
                    const admin::page_query& q) {
  auto keep = std::min<uint64_t>(rows.size(), q.offset + q.limit);
  auto cmp = [&](const actor_row& a, const actor_row& b) {
    return row_before(a, b, q.sort, q.descending);
  };
  // Only the first offset+limit rows need ordering: the other nodes' pages
  // are merged with these.
  std::partial_sort(rows.begin(), rows.begin() + static_cast<long>(keep),
                    rows.end(), cmp);
  auto now = now_ms();
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("total");
    w.Uint64(rows.size());
    w.Key("items");
    w.StartArray();
    for (uint64_t i = 0; i < keep; ++i)
      write_row(w, ctx, rows[i], now);
    w.EndArray();
    w.EndObject();
  });
}

void write_identity(json_writer& w, const protocol::identity& who) {
  w.StartObject();
  w.Key("sub");
  write_json_string(w, who.sub);
  w.Key("customer_id");
  write_json_string(w, who.customer_id);
  w.Key("tenant_id");
  write_json_string(w, who.tenant_id);
  w.Key("org_id");
  write_json_string(w, who.org_id);
  w.Key("agent_ids");
  w.StartArray();
  for (auto& a : who.agent_ids)
    write_json_string(w, a);
  w.EndArray();
  w.Key("roles");
  w.StartArray();
  for (auto& r : who.roles)
    write_json_string(w, r);
  w.EndArray();
  w.EndObject();
}

} // namespace

std::string error_answer(const char* code, const std::string& message) {
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("code");
    w.String(code);
    w.Key("message");
    write_json_string(w, message);
    w.EndObject();
  });
}

uint16_t status_of(const std::string& answer) {
  rapidjson::Document doc;
  doc.Parse(answer.data(), answer.size());
  if (doc.HasParseError() || !doc.IsObject())
    return 500;
  auto it = doc.FindMember("code");
  if (it == doc.MemberEnd() || !it->value.IsString())
    return 200;
  std::string code = it->value.GetString();
  if (code == "NOT_FOUND")
    return 404;
  if (code == "CONFLICT")
    return 409;
  if (code == "INVALID_MESSAGE")
    return 400;
  if (code == "UNAVAILABLE")
    return 503;
  return 500;
}

std::string summary(const node_context& ctx, const maintenance_state& m) {
  auto rows = ctx.registry.list({});
  std::map<std::string, uint64_t> kinds;
  for (auto& k : admin::kind_names())
    kinds[k] = 0;
  for (auto& r : rows)
    ++kinds[to_string(r.kind)];
  auto cluster = ctx.cluster.get();
  auto now = now_ms();
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("version");
    w.String(protocol::version);
    w.Key("epoch");
    write_json_string(w, ctx.epoch);
    w.Key("started_ms");
    w.Int64(ctx.started_ms);
    w.Key("uptime_ms");
    w.Int64(now - ctx.started_ms);
    w.Key("connections");
    w.Uint64(kinds["connection"]);
    w.Key("topics");
    w.Uint64(kinds["topic"]);
    w.Key("actors");
    w.StartObject();
    for (auto& [k, n] : kinds) {
      w.Key(k.c_str());
      w.Uint64(n);
    }
    w.EndObject();
    w.Key("cluster");
    w.StartObject();
    w.Key("enabled");
    w.Bool(cluster.enabled);
    w.Key("members");
    w.StartArray();
    if (cluster.enabled)
      for (auto& name : cluster.members)
        write_json_string(w, name);
    else
      write_json_string(w, ctx.settings.node_name);
    w.EndArray();
    w.EndObject();
    w.Key("maintenance");
    rapidjson::Document doc;
    auto text = maintenance(ctx, m);
    doc.Parse(text.data(), text.size());
    doc.Accept(w);
    w.Key("admin");
    write_json_string(w, ctx.admin_url);
    w.Key("listen");
    write_json_string(w, ctx.public_url);
    w.EndObject();
  });
}

std::string actor_page(const node_context& ctx, const admin::page_query& q,
                       bool topics) {
  auto rows = ctx.registry.list([&](actor_kind kind, const std::string& name) {
    if (topics) {
      if (kind != actor_kind::topic)
        return false;
    } else if (!q.kinds.empty()
               && std::find(q.kinds.begin(), q.kinds.end(), to_string(kind))
                      == q.kinds.end()) {
      return false;
    }
    return q.name.empty() || name.find(q.name) != std::string::npos;
  });
  return page_of(ctx, rows, q);
}

std::string subscriber_page(const node_context& ctx, const std::string& pattern,
                            const admin::page_query& q) {
  auto rows = ctx.registry.holding(pattern);
  return page_of(ctx, rows, q);
}

std::string actor_detail(const node_context& ctx, uint64_t id) {
  auto row = ctx.registry.find(id);
  if (!row)
    return error_answer("NOT_FOUND", "no actor " + std::to_string(id)
                                         + " on node "
                                         + ctx.settings.node_name);
  // Only the children: a connection's detail copies no other row.
  auto children = ctx.registry.children_of(id);
  auto now = now_ms();
  return protocol::write_json([&](json_writer& w) {
    // The row's members, then the detail and the children.
    auto text = protocol::write_json(
        [&](json_writer& rw) { write_row(rw, ctx, *row, now); });
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    w.StartObject();
    for (auto& m : doc.GetObject()) {
      w.Key(m.name.GetString(), m.name.GetStringLength());
      m.value.Accept(w);
    }
    w.Key("detail");
    w.StartObject();
    if (row->kind == actor_kind::connection) {
      w.Key("endpoint");
      write_json_string(w, row->state);
      w.Key("user");
      write_json_string(w, row->who ? row->who->sub : row->name);
      w.Key("remote");
      write_json_string(w, row->remote);
      if (row->who) {
        w.Key("claims");
        write_identity(w, *row->who);
      }
      w.Key("subscriptions");
      w.StartArray();
      for (auto& s : row->subscriptions)
        write_json_string(w, s);
      w.EndArray();
    } else if (row->kind == actor_kind::topic) {
      w.Key("pattern");
      write_json_string(w, row->name);
      w.Key("subscribers");
      w.Uint64(row->gauge);
      w.Key("last_seq");
      w.Uint64(row->last_seq);
      auto holders = ctx.registry.holding(row->name);
      w.Key("subscriber_ids");
      w.StartArray();
      for (auto& h : holders)
        w.Uint64(h.id);
      w.EndArray();
    } else {
      w.Key("state");
      write_json_string(w, row->state);
    }
    w.EndObject();
    w.Key("children");
    w.StartArray();
    for (auto& c : children)
      write_row(w, ctx, c, now);
    w.EndArray();
    w.EndObject();
  });
}

std::string tree(const node_context& ctx) {
  auto rows = ctx.registry.list({});
  uint64_t connections = 0;
  uint64_t topics = 0;
  std::multimap<uint64_t, const actor_row*> by_parent;
  for (auto& r : rows) {
    if (r.kind == actor_kind::connection) {
      ++connections;
      continue;
    }
    if (r.kind == actor_kind::topic) {
      ++topics;
      continue;
    }
    by_parent.emplace(r.parent, &r);
  }
  auto now = now_ms();
  std::function<void(json_writer&, const actor_row&, int)> node_of;
  node_of = [&](json_writer& w, const actor_row& r, int depth) {
    w.StartObject();
    w.Key("id");
    w.Uint64(r.id);
    w.Key("kind");
    w.String(to_string(r.kind));
    w.Key("name");
    write_json_string(w, r.name);
    w.Key("state");
    write_json_string(w, r.state);
    w.Key("mailbox");
    w.Uint64(r.mailbox);
    w.Key("handled");
    w.Uint64(r.handled);
    w.Key("age_ms");
    w.Int64(std::max<int64_t>(0, now - r.started_ms));
    w.Key("children");
    w.StartArray();
    // Depth-bounded: parent links come from the actors themselves.
    if (depth < 16) {
      auto [b, e] = by_parent.equal_range(r.id);
      for (auto i = b; i != e; ++i)
        if (i->second->id != r.id)
          node_of(w, *i->second, depth + 1);
    }
    w.EndArray();
    w.EndObject();
  };
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("connections");
    w.Uint64(connections);
    w.Key("topics");
    w.Uint64(topics);
    // The root supervisor is "root"; actors enrolled without a parent
    // (the store, the plugin bridge, a cluster member) are roots too.
    w.Key("roots");
    w.StartArray();
    auto [b, e] = by_parent.equal_range(0);
    for (auto i = b; i != e; ++i)
      node_of(w, *i->second, 0);
    w.EndArray();
    w.EndObject();
  });
}

std::string stop(node_context& ctx, uint64_t id, const std::string& reason) {
  using result = actor_registry::stop_result;
  switch (ctx.registry.stop(id, reason)) {
  case result::not_found:
    return error_answer("NOT_FOUND", "no actor " + std::to_string(id)
                                         + " on node "
                                         + ctx.settings.node_name);
  case result::refused:
    return error_answer("CONFLICT",
                        "actor " + std::to_string(id)
                            + " cannot be stopped: stopping it would stop "
                              "the node (router, health board, supervisors, "
                              "cluster member) or it has no stop");
  case result::stopped:
    break;
  }
  return protocol::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("node");
    write_json_string(w, ctx.settings.node_name);
    w.Key("id");
    w.Uint64(id);
    w.Key("stopped");
    w.Bool(true);
    w.EndObject();
  });
}

} // namespace herald::actors::inspect
