// herald-ctl: the control console (docs/console.md). One-shot commands
// against a node's admin API, the interactive console, and development
// tokens.

#include "commands.hpp"
#include "console.hpp"
#include "interrupt.hpp"
#include "token.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace herald::ctl;

struct globals {
  std::string admin, token, secret;
  bool json = false;
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Takes the global flags out of `words` (before the command, or after it
// for every command but `token`, whose flags are its own). False on a
// flag without its value.
bool take_globals(std::vector<std::string>& words, globals& g) {
  std::vector<std::string> rest;
  bool in_token = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    if (!in_token && rest.empty() && w == "token")
      in_token = true;
    if (in_token) {
      rest.push_back(w);
      continue;
    }
    std::string* target = nullptr;
    std::string name = w.substr(0, w.find('='));
    if (name == "--admin")
      target = &g.admin;
    else if (name == "--token")
      target = &g.token;
    else if (name == "--secret")
      target = &g.secret;
    else if (w == "--json" && rest.empty()) {
      g.json = true;
      continue;
    }
    if (!target) {
      rest.push_back(w);
      continue;
    }
    if (name.size() < w.size()) {
      *target = w.substr(name.size() + 1);
    } else if (i + 1 < words.size()) {
      *target = words[++i];
    } else {
      std::cerr << "herald-ctl: " << w << " needs a value\n";
      return false;
    }
  }
  words = std::move(rest);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  globals g;
  if (!take_globals(words, g))
    return exit_usage;
  if (!words.empty() && (words[0] == "--help" || words[0] == "-h")) {
    std::cout << usage_text();
    return exit_ok;
  }
  if (!words.empty() && words[0] == "token")
    return mint_command({words.begin() + 1, words.end()});
  bool console = words.empty() || words[0] == "console";
  if (console && words.size() > 1) {
    std::cerr << "herald-ctl console: takes no arguments\n";
    return exit_usage;
  }
  if (words.empty() && !isatty(STDIN_FILENO)) {
    std::cerr << usage_text();
    return exit_usage;
  }

  std::string url = g.admin.empty()
                        ? env_or("HERALD_ADMIN_URL", "http://127.0.0.1:9090")
                        : g.admin;
  endpoint where;
  std::string why;
  if (!parse_endpoint(url, where, why)) {
    std::cerr << "herald-ctl: --admin " << url << ": " << why << "\n";
    return exit_usage;
  }
  std::string token =
      g.token.empty() ? env_or("HERALD_ADMIN_TOKEN", "") : g.token;
  if (token.empty())
    token = admin_token(g.secret.empty() ? default_secret() : g.secret);

  install_interrupt_handler();
  context ctx{http_client{where, token}, g.json, false};
  ctx.client.set_cancel([] { return interrupted(); });
  if (console)
    return run_console(ctx);
  int rc = run_command(ctx, words);
  return interrupted() ? exit_interrupted : rc;
}
