#pragma once

// The grammar of herald-ctl's commands, shared by the one-shot command
// line, the prompt and its completion: names, flags, what the first
// argument is, and how a line is split and read.

#include <string>
#include <utility>
#include <vector>

namespace herald::ctl {

/// Exit codes (docs/console.md).
enum exit_code : int {
  exit_ok = 0,
  exit_node_error = 1, ///< the node answered 4xx/5xx
  exit_usage = 2,
  exit_unreachable = 3,
  exit_timeout = 4,
  exit_interrupted = 130,
};

/// What a positional argument is, for completion.
enum class arg_kind { none, actor, topic, service, command, follow, on_off };

/// A flag of a command; `values` are its completions when it takes one.
struct flag_spec {
  std::string name;
  bool takes_value = false;
  std::vector<std::string> values;
};

/// One command: name, one-line synopsis, flags, its first argument.
struct command_spec {
  std::string name;
  std::string synopsis;
  std::string summary;
  std::vector<flag_spec> flags;
  arg_kind arg = arg_kind::none;
};

/// Every command, in the order `help` lists them.
const std::vector<command_spec>& command_specs();

/// The command named `name`, or null.
const command_spec* find_command(const std::string& name);

/// A command's arguments once read against its spec.
struct arguments {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags; ///< in order

  bool has(const std::string& flag) const;
  /// The last value of `flag`, or `fallback`.
  std::string value(const std::string& flag,
                    const std::string& fallback = "") const;
  /// Every value of a repeatable flag.
  std::vector<std::string> all(const std::string& flag) const;
};

/// Reads `words` (without the command name); prints the problem and
/// returns exit_usage when they do not fit the spec.
int parse_arguments(const command_spec& spec,
                    const std::vector<std::string>& words, arguments& out);

/// Splits a prompt line into words: blanks separate, quotes group,
/// backslash escapes. False when a quote is left open.
bool split_words(const std::string& line, std::vector<std::string>& out);

} // namespace herald::ctl
