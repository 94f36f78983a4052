#include "views.hpp"

#include <cctype>
#include <iostream>

namespace herald::ctl {

namespace {

const json_value& member(const json_value& v, const char* key) {
  static const json_value null_value;
  if (!v.IsObject())
    return null_value;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? null_value : it->value;
}

// The `items` array of a list answer (an empty one when missing).
const json_value& items_of(const json_value& doc) {
  static const json_value empty(rapidjson::kArrayType);
  auto& items = member(doc, "items");
  return items.IsArray() ? items : empty;
}

// `key: value` lines, the keys padded to one width.
void pairs(const std::vector<std::pair<std::string, std::string>>& kv,
           std::ostream& out, const std::string& indent = "") {
  std::size_t width = 0;
  for (auto& [k, v] : kv)
    width = std::max(width, k.size());
  for (auto& [k, v] : kv)
    out << indent << k << ':' << std::string(width - k.size() + 1, ' ') << v
        << '\n';
}

// An object's members as pairs, nested objects and lists of objects
// indented below their key.
void object_lines(const json_value& obj, std::ostream& out,
                  const std::string& indent) {
  std::vector<std::pair<std::string, std::string>> flat;
  auto flush = [&] {
    pairs(flat, out, indent);
    flat.clear();
  };
  for (auto& m : obj.GetObject()) {
    std::string key{m.name.GetString(), m.name.GetStringLength()};
    bool objects = m.value.IsArray() && !m.value.Empty()
                   && m.value.GetArray()[0].IsObject();
    if (m.value.IsObject() && !m.value.ObjectEmpty()) {
      flush();
      out << indent << key << ":\n";
      object_lines(m.value, out, indent + "  ");
    } else if (objects) {
      flush();
      out << indent << key << ":\n";
      for (auto& item : m.value.GetArray()) {
        if (item.IsObject())
          object_lines(item, out, indent + "  - ");
        else
          out << indent << "  - " << text_of(item) << '\n';
      }
    } else {
      flat.emplace_back(key, text_of(m.value));
    }
  }
  flush();
}

std::string actors_summary(const json_value& actors) {
  if (!actors.IsObject())
    return text_of(actors);
  std::string out;
  for (auto& m : actors.GetObject()) {
    if (!out.empty())
      out += " ";
    out += std::string{m.name.GetString()} + "=" + text_of(m.value);
  }
  return out;
}

std::string maintenance_summary(const json_value& m) {
  if (!m.IsObject())
    return text_of(m);
  auto& enabled = member(m, "enabled");
  if (!enabled.IsBool() || !enabled.GetBool())
    return "off";
  std::string out = "on";
  auto msg = text_of(m, "message");
  if (!msg.empty())
    out += " \"" + msg + "\"";
  auto until = text_of(m, "expected_end");
  if (!until.empty())
    out += " until " + until;
  auto by = text_of(m, "set_by");
  if (!by.empty())
    out += " (by " + by + ")";
  return out;
}

void tree_lines(const json_value& n, std::ostream& out,
                const std::string& prefix, bool last, bool root) {
  std::string line =
      text_of(n, "kind") + " " + text_of(n, "name") + " #" + text_of(n, "id");
  auto state = text_of(n, "state");
  if (!state.empty())
    line += "  " + state;
  out << prefix << (root ? "" : last ? "`- " : "|- ") << line << '\n';
  auto& children = member(n, "children");
  if (!children.IsArray())
    return;
  std::string next = prefix + (root ? "" : last ? "   " : "|  ");
  for (rapidjson::SizeType i = 0; i < children.Size(); ++i)
    tree_lines(children[i], out, next, i + 1 == children.Size(), false);
}

} // namespace

void note_missing(const json_value& doc) {
  auto& missing = member(doc, "missing");
  if (missing.IsArray() && !missing.Empty())
    std::cerr << "herald-ctl: no answer from " << joined(doc, "missing")
              << " (the figures are incomplete)\n";
}

void show_node(const json_value& doc, std::ostream& out) {
  auto& cluster = member(doc, "cluster");
  std::string members = "off";
  if (member(cluster, "enabled").IsTrue())
    members = joined(cluster, "members");
  pairs({{"node", text_of(doc, "node")},
         {"version", text_of(doc, "version")},
         {"epoch", text_of(doc, "epoch")},
         {"uptime", duration(number_of(doc, "uptime_ms"))},
         {"connections", text_of(doc, "connections")},
         {"topics", text_of(doc, "topics")},
         {"actors", actors_summary(member(doc, "actors"))},
         {"cluster", members},
         {"maintenance", maintenance_summary(member(doc, "maintenance"))},
         {"admin", text_of(doc, "admin")},
         {"listen", text_of(doc, "listen")}},
        out);
}

void show_nodes(const json_value& doc, std::ostream& out) {
  table t({"NODE", "VERSION", ">UPTIME", ">CONNECTIONS", ">TOPICS",
           "MAINTENANCE", "LISTEN"});
  for (auto& n : items_of(doc).GetArray())
    t.add({text_of(n, "node"), text_of(n, "version"),
           duration(number_of(n, "uptime_ms")), text_of(n, "connections"),
           text_of(n, "topics"), maintenance_summary(member(n, "maintenance")),
           text_of(n, "listen")});
  t.print(out);
}

void actors_table(const json_value& items, std::ostream& out,
                  std::size_t state_width) {
  table t({"NODE", ">ID", "KIND", "NAME", ">MAILBOX", ">RATE", ">HANDLED",
           ">AGE", "STATE"});
  t.set_last_width(state_width);
  if (items.IsArray())
    for (auto& a : items.GetArray())
      t.add({text_of(a, "node"), text_of(a, "id"), text_of(a, "kind"),
             text_of(a, "name"), text_of(a, "mailbox"),
             rate(number_of(a, "rate")), text_of(a, "handled"),
             duration(number_of(a, "age_ms")), text_of(a, "state")});
  t.print(out);
}

void show_actors(const json_value& doc, std::ostream& out) {
  auto& items = items_of(doc);
  actors_table(items, out);
  auto offset = static_cast<long long>(number_of(doc, "offset"));
  out << "(" << items.Size() << " of " << text_of(doc, "total", "?")
      << " actors";
  if (offset > 0 || items.Size() > 0)
    out << ", from " << offset;
  out << ")\n";
}

void show_actor(const json_value& doc, std::ostream& out) {
  pairs({{"actor", text_of(doc, "node") + "/" + text_of(doc, "id")},
         {"kind", text_of(doc, "kind")},
         {"name", text_of(doc, "name")},
         {"parent", text_of(doc, "parent")},
         {"state", text_of(doc, "state")},
         {"age", duration(number_of(doc, "age_ms"))},
         {"mailbox", text_of(doc, "mailbox")},
         {"handled", text_of(doc, "handled")},
         {"rate", rate(number_of(doc, "rate")) + "/s"},
         {"last active", number_of(doc, "last_active_ms") > 0
                             ? clock_time(number_of(doc, "last_active_ms"))
                             : "never"},
         {"delivered", text_of(doc, "delivered")},
         {"filtered", text_of(doc, "filtered")},
         {"dropped", text_of(doc, "dropped")}},
        out);
  auto& detail = member(doc, "detail");
  if (detail.IsObject() && !detail.ObjectEmpty()) {
    out << "detail:\n";
    object_lines(detail, out, "  ");
  }
  auto& children = member(doc, "children");
  if (children.IsArray() && !children.Empty()) {
    out << "children:\n";
    actors_table(children, out);
  }
}

void show_tree(const json_value& doc, std::ostream& out) {
  for (auto& n : items_of(doc).GetArray()) {
    out << "node " << text_of(n, "node") << "  ("
        << text_of(n, "connections", "?") << " connections, "
        << text_of(n, "topics", "?") << " topics)\n";
    // The root supervisor and the actors enrolled beside it.
    auto& roots = member(n, "roots");
    if (roots.IsArray())
      for (auto& r : roots.GetArray())
        tree_lines(r, out, "  ", true, true);
  }
}

void show_topics(const json_value& doc, std::ostream& out) {
  table t({"NODE", ">ID", "PATTERN", ">SUBSCRIBERS", ">DELIVERED", ">HANDLED",
           ">RATE"});
  for (auto& n : items_of(doc).GetArray())
    t.add({text_of(n, "node"), text_of(n, "id"), text_of(n, "pattern"),
           text_of(n, "subscribers"), text_of(n, "delivered"),
           text_of(n, "handled"), rate(number_of(n, "rate"))});
  t.print(out);
}

void show_subscribers(const json_value& doc, std::ostream& out) {
  table t({"NODE", ">ID", "USER", "ENDPOINT"});
  for (auto& n : items_of(doc).GetArray())
    t.add({text_of(n, "node"), text_of(n, "id"), text_of(n, "user"),
           text_of(n, "endpoint")});
  t.print(out);
}

void show_cluster(const json_value& doc, std::ostream& out) {
  bool enabled = member(doc, "enabled").IsTrue();
  out << "cluster " << (enabled ? "on" : "off") << ", node "
      << text_of(doc, "node") << ", members " << joined(doc, "members") << "\n";
  table t({"NODE", "VERSION", ">UPTIME", ">CONNECTIONS", ">TOPICS"});
  for (auto& n : items_of(doc).GetArray())
    t.add({text_of(n, "node"), text_of(n, "version"),
           duration(number_of(n, "uptime_ms")), text_of(n, "connections"),
           text_of(n, "topics")});
  if (!t.empty())
    t.print(out);
}

void show_services(const json_value& doc, std::ostream& out) {
  table t({"NODE", "NAME", "LAYER", "STATE", "GIVEN UP", ">FAILURES",
           "LAST PROBE"});
  for (auto& n : items_of(doc).GetArray()) {
    auto& probe = member(n, "last_probe");
    std::string last = probe.IsObject() ? json_text(probe) : text_of(probe);
    t.add({text_of(n, "node"), text_of(n, "name"), text_of(n, "layer"),
           text_of(n, "state"), text_of(n, "given_up"), text_of(n, "failures"),
           last});
  }
  t.set_last_width(60);
  t.print(out);
  auto& layers = member(doc, "layers");
  if (layers.IsObject() && !layers.ObjectEmpty()) {
    out << "layers:\n";
    object_lines(layers, out, "  ");
  } else if (layers.IsArray() && !layers.Empty() && layers[0].IsObject()) {
    // One row per node and layer; its fields as the node names them.
    out << "\nlayers:\n";
    std::vector<std::string> keys, headers;
    for (auto& m : layers[0].GetObject()) {
      keys.emplace_back(m.name.GetString());
      std::string h = keys.back();
      for (auto& c : h)
        c = c == '_' ? ' ' : static_cast<char>(std::toupper(c));
      headers.push_back(m.value.IsNumber() ? ">" + h : h);
    }
    table lt(headers);
    for (auto& row : layers.GetArray()) {
      std::vector<std::string> cells;
      for (auto& k : keys)
        cells.push_back(text_of(row, k.c_str()));
      lt.add(std::move(cells));
    }
    lt.print(out);
  }
}

void show_reset(const json_value& doc, std::ostream& out) {
  table t({"NODE", "NAME", "RESET"});
  for (auto& n : items_of(doc).GetArray())
    t.add({text_of(n, "node"), text_of(n, "name"), text_of(n, "reset")});
  t.print(out);
}

void show_stopped(const json_value& doc, std::ostream& out) {
  out << (member(doc, "stopped").IsTrue() ? "stopped " : "not stopped ")
      << text_of(doc, "node") << "/" << text_of(doc, "id") << "\n";
}

void show_maintenance(const json_value& doc, std::ostream& out) {
  auto& items = member(doc, "items");
  if (!items.IsArray()) {
    // One node's state, not a list.
    out << maintenance_summary(doc) << '\n';
    return;
  }
  table t({"NODE", "MAINTENANCE", "MESSAGE", "EXPECTED END", "SET BY"});
  for (auto& n : items.GetArray()) {
    auto& m =
        member(n, "maintenance").IsObject() ? member(n, "maintenance") : n;
    t.add({text_of(n, "node"), member(m, "enabled").IsTrue() ? "on" : "off",
           text_of(m, "message"), text_of(m, "expected_end"),
           text_of(m, "set_by")});
  }
  t.print(out);
}

} // namespace herald::ctl
