#include "grammar.hpp"

#include <iostream>

namespace herald::ctl {

namespace {

const std::vector<std::string> kinds = {"connection", "topic",   "router",
                                        "channel",    "monitor", "supervisor",
                                        "node",       "store"};
const std::vector<std::string> sorts = {"id",  "mailbox", "rate", "handled",
                                        "age", "name",    "kind"};

flag_spec value_flag(const std::string& name,
                     std::vector<std::string> values = {}) {
  return {name, true, std::move(values)};
}
flag_spec switch_flag(const std::string& name) {
  return {name, false, {}};
}

} // namespace

const std::vector<command_spec>& command_specs() {
  static const std::vector<command_spec> specs = {
      {"node", "node", "this node's summary", {}, arg_kind::none},
      {"nodes", "nodes", "every member's summary", {}, arg_kind::none},
      {"actors",
       "actors [--kind K] [--node N] [--name S] [--sort F] [--asc|--desc] "
       "[--offset N] [--limit N]",
       "list actors",
       {value_flag("--kind", kinds), value_flag("--node"), value_flag("--name"),
        value_flag("--sort", sorts), switch_flag("--asc"),
        switch_flag("--desc"), value_flag("--offset"), value_flag("--limit")},
       arg_kind::none},
      {"actor",
       "actor NODE/ID (or ID)",
       "one actor in depth",
       {},
       arg_kind::actor},
      {"tree",
       "tree [--node N]",
       "the supervision tree",
       {value_flag("--node")},
       arg_kind::none},
      {"topics",
       "topics [--pattern S] [--node N]",
       "active topics",
       {value_flag("--pattern"), value_flag("--node")},
       arg_kind::none},
      {"subscribers",
       "subscribers PATTERN [--node N]",
       "connections holding a pattern",
       {value_flag("--node"), value_flag("--offset"), value_flag("--limit")},
       arg_kind::topic},
      {"cluster", "cluster", "the cluster's members", {}, arg_kind::none},
      {"wait-cluster",
       "wait-cluster N [--timeout S]",
       "wait until the cluster has N members",
       {value_flag("--timeout")},
       arg_kind::none},
      {"services",
       "services [--node N]",
       "services, channels, breakers",
       {value_flag("--node")},
       arg_kind::none},
      {"reset",
       "reset SERVICE [--node N]",
       "reset a service's breaker",
       {value_flag("--node")},
       arg_kind::service},
      {"stop",
       "stop NODE/ID [--reason TEXT]",
       "stop an actor",
       {value_flag("--reason")},
       arg_kind::actor},
      {"maintenance",
       "maintenance [on|off] [--message TEXT] [--until TIME] [--node N]",
       "show or set maintenance",
       {value_flag("--message"), value_flag("--until"), value_flag("--node")},
       arg_kind::on_off},
      {"follow",
       "follow topic PATTERN | actor NODE/ID [--count N]",
       "stream events or an actor's figures",
       {value_flag("--count"), value_flag("--interval")},
       arg_kind::follow},
      {"top",
       "top [--once] [--interval MS] [--limit N]",
       "the busiest actors, refreshed",
       {switch_flag("--once"), value_flag("--interval"), value_flag("--limit")},
       arg_kind::none},
      {"token",
       "token --sub S [...]",
       "mint a development token",
       {},
       arg_kind::none},
      {"help", "help [COMMAND]", "this list", {}, arg_kind::command},
  };
  return specs;
}

const command_spec* find_command(const std::string& name) {
  for (auto& spec : command_specs())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

bool arguments::has(const std::string& flag) const {
  for (auto& [name, value] : flags)
    if (name == flag)
      return true;
  return false;
}

std::string arguments::value(const std::string& flag,
                             const std::string& fallback) const {
  std::string out = fallback;
  for (auto& [name, value] : flags)
    if (name == flag)
      out = value;
  return out;
}

std::vector<std::string> arguments::all(const std::string& flag) const {
  std::vector<std::string> out;
  for (auto& [name, value] : flags)
    if (name == flag)
      out.push_back(value);
  return out;
}

int parse_arguments(const command_spec& spec,
                    const std::vector<std::string>& words, arguments& out) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& word = words[i];
    if (word.size() < 2 || word.compare(0, 2, "--") != 0) {
      out.positional.push_back(word);
      continue;
    }
    auto eq = word.find('=');
    std::string name = word.substr(0, eq);
    const flag_spec* flag = nullptr;
    for (auto& f : spec.flags)
      if (f.name == name)
        flag = &f;
    if (!flag) {
      std::cerr << "herald-ctl " << spec.name << ": unknown option " << name
                << "\nusage: herald-ctl " << spec.synopsis << "\n";
      return exit_usage;
    }
    if (!flag->takes_value) {
      out.flags.emplace_back(name, "");
      continue;
    }
    if (eq != std::string::npos) {
      out.flags.emplace_back(name, word.substr(eq + 1));
    } else if (i + 1 < words.size()) {
      out.flags.emplace_back(name, words[++i]);
    } else {
      std::cerr << "herald-ctl " << spec.name << ": " << name
                << " needs a value\n";
      return exit_usage;
    }
  }
  return exit_ok;
}

bool split_words(const std::string& line, std::vector<std::string>& out) {
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < line.size())
        word += line[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word)
        out.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word)
    out.push_back(word);
  return quote == 0;
}

} // namespace herald::ctl
