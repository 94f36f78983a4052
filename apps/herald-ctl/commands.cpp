#include "commands.hpp"

#include "tables.hpp"
#include "token.hpp"
#include "top.hpp"
#include "views.hpp"
#include "watch.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <iostream>
#include <sstream>

namespace herald::ctl {

int report_failure(const context& ctx, const response& r) {
  if (!r.reached && r.error == "interrupted")
    return exit_interrupted;
  if (!r.reached) {
    std::cerr << "herald-ctl: cannot reach " << ctx.client.where().text << ": "
              << r.error << "\n";
    return exit_unreachable;
  }
  rapidjson::Document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  std::string code = "HTTP_" + std::to_string(r.status);
  std::string message = r.body;
  if (!doc.HasParseError() && doc.IsObject()) {
    code = text_of(doc, "code", code);
    message = text_of(doc, "message");
  }
  std::cerr << "herald-ctl: " << r.status << " " << code;
  if (!message.empty())
    std::cerr << ": " << message;
  std::cerr << "\n";
  return exit_node_error;
}

int fetch(const context& ctx, const std::string& target,
          rapidjson::Document& doc, std::string* raw) {
  auto r = ctx.client.get("/admin/v1" + target);
  if (!r.reached || r.status < 200 || r.status >= 300)
    return report_failure(ctx, r);
  doc.Parse(r.body.c_str(), r.body.size());
  if (doc.HasParseError()) {
    std::cerr << "herald-ctl: the node's answer to " << target
              << " is not JSON\n";
    return exit_node_error;
  }
  if (raw)
    *raw = std::move(r.body);
  return exit_ok;
}

bool parse_actor_ref(const std::string& text, actor_ref& out,
                     bool require_node) {
  auto slash = text.rfind('/');
  if (slash == std::string::npos) {
    if (require_node)
      return false;
    out.id = text;
  } else {
    out.node = text.substr(0, slash);
    out.id = text.substr(slash + 1);
    if (out.node.empty())
      return false;
  }
  if (out.id.empty() || out.id.size() > 19)
    return false;
  for (char c : out.id)
    if (c < '0' || c > '9')
      return false;
  return true;
}

int resolve_local_node(const context& ctx, actor_ref& ref) {
  rapidjson::Document doc;
  int rc = fetch(ctx, "/node", doc);
  if (rc != exit_ok)
    return rc;
  ref.node = text_of(doc, "node");
  if (ref.node.empty()) {
    std::cerr << "herald-ctl: /node did not name the node\n";
    return exit_node_error;
  }
  return exit_ok;
}

namespace {

using view = void (*)(const json_value&, std::ostream&);

// Prints the answer: as it came with --json, else through its view.
int show(const context& ctx, int rc, const rapidjson::Document& doc,
         const std::string& raw, view v) {
  if (rc != exit_ok)
    return rc;
  if (ctx.json) {
    std::string text = raw;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    std::cout << text << std::endl;
  } else {
    v(doc, std::cout);
    note_missing(doc);
    std::cout.flush();
  }
  return exit_ok;
}

int get_and_show(const context& ctx, const std::string& target, view v) {
  rapidjson::Document doc;
  std::string raw;
  int rc = fetch(ctx, target, doc, &raw);
  return show(ctx, rc, doc, raw, v);
}

int post_and_show(const context& ctx, const std::string& target,
                  const std::string& body, view v) {
  auto r = ctx.client.post("/admin/v1" + target, body);
  if (!r.reached || r.status < 200 || r.status >= 300)
    return report_failure(ctx, r);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  if (doc.HasParseError()) {
    std::cerr << "herald-ctl: the node's answer to " << target
              << " is not JSON\n";
    return exit_node_error;
  }
  return show(ctx, exit_ok, doc, r.body, v);
}

// `?a=1&b=2` from the pairs given, values encoded.
std::string query(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (auto& [k, v] : kv)
    out += (out.empty() ? "?" : "&") + k + "=" + url_encode(v);
  return out;
}

std::string
json_body(const std::vector<std::pair<std::string, std::string>>& strings,
          const char* bool_key = nullptr, bool bool_value = false) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  if (bool_key) {
    w.Key(bool_key);
    w.Bool(bool_value);
  }
  for (auto& [k, v] : strings) {
    w.Key(k.c_str());
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return buf.GetString();
}

int usage(const command_spec& spec, const std::string& why) {
  std::cerr << "herald-ctl " << spec.name << ": " << why
            << "\nusage: herald-ctl " << spec.synopsis << "\n";
  return exit_usage;
}

// Adds `--flag` to the query as `key` when it was given.
void pass(const arguments& a, const char* flag, const char* key,
          std::vector<std::pair<std::string, std::string>>& kv) {
  if (a.has(flag))
    kv.emplace_back(key, a.value(flag));
}

int cmd_actors(const context& ctx, const arguments& a) {
  std::vector<std::pair<std::string, std::string>> kv;
  std::string kind;
  for (auto& k : a.all("--kind"))
    kind += (kind.empty() ? "" : ",") + k;
  if (!kind.empty())
    kv.emplace_back("kind", kind);
  pass(a, "--node", "node", kv);
  pass(a, "--name", "name", kv);
  pass(a, "--sort", "sort", kv);
  for (auto& [name, value] : a.flags)
    if (name == "--asc" || name == "--desc")
      kv.emplace_back("order", name.substr(2));
  pass(a, "--offset", "offset", kv);
  pass(a, "--limit", "limit", kv);
  return get_and_show(ctx, "/actors" + query(kv), show_actors);
}

int cmd_actor(const context& ctx, const command_spec& spec, const arguments& a,
              bool stop) {
  if (a.positional.size() != 1)
    return usage(spec, "needs one actor, NODE/ID");
  actor_ref ref;
  if (!parse_actor_ref(a.positional[0], ref, stop))
    return usage(spec, "'" + a.positional[0] + "' is not NODE/ID");
  if (ref.node.empty()) {
    int rc = resolve_local_node(ctx, ref);
    if (rc != exit_ok)
      return rc;
  }
  std::string path = "/actors/" + url_encode(ref.node) + "/" + ref.id;
  if (!stop)
    return get_and_show(ctx, path, show_actor);
  std::vector<std::pair<std::string, std::string>> body;
  if (a.has("--reason"))
    body.emplace_back("reason", a.value("--reason"));
  return post_and_show(ctx, path + "/stop", json_body(body), show_stopped);
}

int cmd_maintenance(const context& ctx, const command_spec& spec,
                    const arguments& a) {
  std::vector<std::pair<std::string, std::string>> kv;
  pass(a, "--node", "node", kv);
  if (a.positional.empty()) {
    if (a.has("--message") || a.has("--until"))
      return usage(spec, "--message and --until go with on");
    return get_and_show(ctx, "/maintenance" + query(kv), show_maintenance);
  }
  if (a.positional.size() != 1
      || (a.positional[0] != "on" && a.positional[0] != "off"))
    return usage(spec, "on or off");
  bool on = a.positional[0] == "on";
  std::vector<std::pair<std::string, std::string>> body;
  if (a.has("--message"))
    body.emplace_back("message", a.value("--message"));
  if (a.has("--until"))
    body.emplace_back("expected_end", a.value("--until"));
  return post_and_show(ctx, "/maintenance" + query(kv),
                       json_body(body, "enabled", on), show_maintenance);
}

int cmd_help(const arguments& a) {
  if (!a.positional.empty()) {
    auto* spec = find_command(a.positional[0]);
    if (!spec) {
      std::cerr << "herald-ctl: no command '" << a.positional[0] << "'\n";
      return exit_usage;
    }
    std::cout << "usage: herald-ctl " << spec->synopsis << "\n  "
              << spec->summary << "\n";
    return exit_ok;
  }
  std::cout << usage_text();
  return exit_ok;
}

} // namespace

std::string usage_text() {
  std::ostringstream out;
  out << "usage: herald-ctl [--admin URL] [--token JWT] [--secret S] [--json] "
         "COMMAND [ARGS]\n"
         "       herald-ctl            (the interactive console)\n\n";
  // Synopsis and summary on one line when the synopsis is short enough.
  for (auto& spec : command_specs()) {
    out << "  " << spec.synopsis;
    if (spec.synopsis.size() < 46)
      out << std::string(46 - spec.synopsis.size(), ' ');
    else
      out << "\n" << std::string(48, ' ');
    out << spec.summary << "\n";
  }
  out << "\nThe node: --admin, else $HERALD_ADMIN_URL, else "
         "http://127.0.0.1:9090.\nThe token: --token, else "
         "$HERALD_ADMIN_TOKEN, else one minted with --secret,\n"
         "$HERALD_AUTH_JWT_HS256_SECRET or the development secret.\n"
         "Exit codes: 0 ok, 1 the node answered an error, 2 usage, 3 node "
         "unreachable,\n4 wait timed out, 130 interrupted.\n";
  return out.str();
}

int run_command(context& ctx, std::vector<std::string> words) {
  if (words.empty())
    return exit_ok;
  std::string name = words[0];
  words.erase(words.begin());
  if (name == "token")
    return mint_command(words);
  // --json belongs to every command, wherever it is written.
  context local = ctx;
  for (auto it = words.begin(); it != words.end();) {
    if (*it == "--json") {
      local.json = true;
      it = words.erase(it);
    } else {
      ++it;
    }
  }
  auto* spec = find_command(name);
  if (!spec) {
    std::cerr << "herald-ctl: unknown command '" << name
              << "' (try: herald-ctl help)\n";
    return exit_usage;
  }
  arguments a;
  if (int rc = parse_arguments(*spec, words, a); rc != exit_ok)
    return rc;
  bool needs_arg = spec->arg == arg_kind::topic
                   || spec->arg == arg_kind::service || name == "wait-cluster";
  if (needs_arg && a.positional.size() != 1)
    return usage(*spec, "needs one argument");
  if (spec->arg == arg_kind::none && name != "wait-cluster"
      && !a.positional.empty())
    return usage(*spec, "takes no argument '" + a.positional[0] + "'");
  std::vector<std::pair<std::string, std::string>> kv;
  if (name == "node")
    return get_and_show(local, "/node", show_node);
  if (name == "nodes")
    return get_and_show(local, "/nodes", show_nodes);
  if (name == "actors")
    return cmd_actors(local, a);
  if (name == "actor" || name == "stop")
    return cmd_actor(local, *spec, a, name == "stop");
  if (name == "tree") {
    pass(a, "--node", "node", kv);
    return get_and_show(local, "/tree" + query(kv), show_tree);
  }
  if (name == "topics") {
    pass(a, "--pattern", "pattern", kv);
    pass(a, "--node", "node", kv);
    return get_and_show(local, "/topics" + query(kv), show_topics);
  }
  if (name == "subscribers") {
    kv.emplace_back("pattern", a.positional[0]);
    pass(a, "--node", "node", kv);
    pass(a, "--offset", "offset", kv);
    pass(a, "--limit", "limit", kv);
    return get_and_show(local, "/topics/subscribers" + query(kv),
                        show_subscribers);
  }
  if (name == "cluster")
    return get_and_show(local, "/cluster", show_cluster);
  if (name == "wait-cluster")
    return wait_cluster(local, *spec, a);
  if (name == "services") {
    pass(a, "--node", "node", kv);
    return get_and_show(local, "/services" + query(kv), show_services);
  }
  if (name == "reset") {
    pass(a, "--node", "node", kv);
    return post_and_show(local,
                         "/services/" + url_encode(a.positional[0]) + "/reset"
                             + query(kv),
                         "", show_reset);
  }
  if (name == "maintenance")
    return cmd_maintenance(local, *spec, a);
  if (name == "follow")
    return follow(local, *spec, a);
  if (name == "top")
    return run_top(local, *spec, a);
  return cmd_help(a);
}

} // namespace herald::ctl
