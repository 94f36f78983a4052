#include "completion.hpp"

#include "tables.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace herald::ctl {

namespace {

using clock_type = std::chrono::steady_clock;

// Lists fetched from the node for completion, each kept this long: Tab
// pressed twice must not ask twice, and a new actor shows up soon.
constexpr auto cache_for = std::chrono::seconds{5};

struct cached_list {
  clock_type::time_point at{};
  std::vector<std::string> values;
};

// Fetches `target` and collects `make(item)` of each item, quietly: a
// completion that cannot reach the node offers nothing, it prints nothing.
template <class Make>
std::vector<std::string> node_list(const context& ctx,
                                   const std::string& target, Make make) {
  static std::map<std::string, cached_list> cache;
  auto& entry = cache[target];
  auto now = clock_type::now();
  if (entry.at != clock_type::time_point{} && now - entry.at < cache_for)
    return entry.values;
  http_client quick = ctx.client;
  quick.set_timeout(std::chrono::milliseconds{2000});
  auto r = quick.get("/admin/v1" + target);
  std::set<std::string> found;
  if (r.reached && r.status == 200) {
    rapidjson::Document doc;
    doc.Parse(r.body.c_str(), r.body.size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("items")
        && doc["items"].IsArray())
      for (auto& item : doc["items"].GetArray()) {
        auto value = make(item);
        if (!value.empty())
          found.insert(value);
      }
  }
  entry.at = now;
  entry.values.assign(found.begin(), found.end());
  return entry.values;
}

std::vector<std::string> actor_ids(const context& ctx) {
  return node_list(ctx, "/actors?limit=1000", [](const json_value& item) {
    return text_of(item, "node") + "/" + text_of(item, "id");
  });
}

std::vector<std::string> topic_patterns(const context& ctx) {
  return node_list(ctx, "/topics?limit=1000", [](const json_value& item) {
    return text_of(item, "pattern");
  });
}

std::vector<std::string> service_names(const context& ctx) {
  return node_list(ctx, "/services", [](const json_value& item) {
    return text_of(item, "name");
  });
}

std::vector<std::string> flags_of(const command_spec& spec) {
  std::vector<std::string> out;
  for (auto& f : spec.flags)
    out.push_back(f.name);
  if (spec.name != "token" && spec.name != "help")
    out.push_back("--json");
  return out;
}

} // namespace

std::vector<std::string> completions(const context& ctx,
                                     const std::vector<std::string>& before,
                                     const std::string& word) {
  if (before.empty()) {
    std::vector<std::string> out;
    for (auto& spec : command_specs())
      out.push_back(spec.name);
    out.push_back("quit");
    out.push_back("exit");
    return out;
  }
  auto* spec = find_command(before[0]);
  if (!spec)
    return {};
  // The value of the flag just written?
  std::vector<std::string> positional;
  for (std::size_t i = 1; i < before.size(); ++i) {
    const flag_spec* flag = nullptr;
    for (auto& f : spec->flags)
      if (f.name == before[i])
        flag = &f;
    if (flag && flag->takes_value) {
      if (i + 1 == before.size())
        return flag->values;
      ++i;
    } else if (before[i].compare(0, 2, "--") != 0) {
      positional.push_back(before[i]);
    }
  }
  if (!word.empty() && word[0] == '-')
    return flags_of(*spec);
  std::vector<std::string> out;
  auto n = positional.size();
  switch (spec->arg) {
  case arg_kind::actor:
    if (n == 0)
      out = actor_ids(ctx);
    break;
  case arg_kind::topic:
    if (n == 0)
      out = topic_patterns(ctx);
    break;
  case arg_kind::service:
    if (n == 0)
      out = service_names(ctx);
    break;
  case arg_kind::command:
    if (n == 0)
      for (auto& s : command_specs())
        out.push_back(s.name);
    break;
  case arg_kind::on_off:
    if (n == 0)
      out = {"on", "off"};
    break;
  case arg_kind::follow:
    if (n == 0)
      out = {"topic", "actor"};
    else if (n == 1)
      out = positional[0] == "actor" ? actor_ids(ctx) : topic_patterns(ctx);
    break;
  case arg_kind::none:
    break;
  }
  if (out.empty())
    return flags_of(*spec);
  return out;
}

} // namespace herald::ctl
