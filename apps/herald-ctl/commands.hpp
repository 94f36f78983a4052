#pragma once

// What herald-ctl's commands do: fetch, print, report failures.

#include "grammar.hpp"
#include "http_client.hpp"

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace herald::ctl {

/// What every command runs with.
struct context {
  http_client client;
  bool json = false;        ///< print the node's JSON as it is
  bool interactive = false; ///< at the prompt (top keeps the screen)
};

/// GETs `target` (under /admin/v1) and parses the answer; prints why not
/// (unreachable, the node's error, bad JSON) and returns the exit code.
/// `raw` receives the body as it came.
int fetch(const context& ctx, const std::string& target,
          rapidjson::Document& doc, std::string* raw = nullptr);

/// The exit code for a non-2xx or missing answer, after printing why.
int report_failure(const context& ctx, const response& r);

/// An actor as the API names it: node and id (ids are per node).
struct actor_ref {
  std::string node; ///< empty: the node asked
  std::string id;
};

/// Reads `NODE/ID`, or a bare `ID` unless `require_node`.
bool parse_actor_ref(const std::string& text, actor_ref& out,
                     bool require_node);

/// Fills `ref.node` with the name of the node asked (GET /node).
int resolve_local_node(const context& ctx, actor_ref& ref);

/// Runs one command line (already split into words, the command first);
/// `--json` may appear anywhere. Returns the exit code.
int run_command(context& ctx, std::vector<std::string> words);

/// The usage text: every command's synopsis.
std::string usage_text();

} // namespace herald::ctl
