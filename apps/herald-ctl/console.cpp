#include "console.hpp"

#include "completion.hpp"
#include "interrupt.hpp"
#include "tables.hpp"

#include <readline/history.h>
#include <readline/readline.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

namespace herald::ctl {

namespace {

// Readline's callbacks are plain functions: they find the console here.
const context* active = nullptr;
std::vector<std::string> matches;
std::size_t next_match = 0;

char* match_generator(const char* text, int state) {
  if (state == 0)
    next_match = 0;
  std::size_t n = std::strlen(text);
  while (next_match < matches.size()) {
    auto& m = matches[next_match++];
    if (m.compare(0, n, text) == 0)
      return strdup(m.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  // Never fall back to file names: nothing here takes a path.
  rl_attempted_completion_over = 1;
  std::vector<std::string> before;
  split_words(std::string(rl_line_buffer, static_cast<std::size_t>(start)),
              before);
  matches = completions(*active, before, text);
  return rl_completion_matches(text, match_generator);
}

// Readline's own signal handling would leave Ctrl-C to kill the process;
// instead the key read sees the interrupted read(), drops the line being
// written and hands readline an Enter, so the prompt comes back.
int read_key(FILE* in) {
  for (;;) {
    unsigned char c = 0;
    auto n = read(fileno(in), &c, 1);
    if (n == 1)
      return c;
    if (n == 0)
      return EOF;
    if (errno != EINTR)
      return EOF;
    if (interrupted()) {
      rl_replace_line("", 0);
      std::fputs("^C", rl_outstream ? rl_outstream : stdout);
      return '\n';
    }
    rl_resize_terminal(); // a SIGWINCH
  }
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string{home} + "/.herald_ctl_history" : "";
}

void banner(const context& ctx) {
  rapidjson::Document doc;
  http_client quick = ctx.client;
  quick.set_timeout(std::chrono::milliseconds{2000});
  auto r = quick.get("/admin/v1/node");
  std::cout << "herald-ctl console on " << ctx.client.where().text;
  if (r.reached && r.status == 200) {
    doc.Parse(r.body.c_str(), r.body.size());
    if (!doc.HasParseError())
      std::cout << " (node " << text_of(doc, "node") << ", "
                << text_of(doc, "version") << ")";
  } else if (!r.reached) {
    std::cout << " (not reachable: " << r.error << ")";
  } else {
    std::cout << " (answered " << r.status << ")";
  }
  std::cout << "\n'help' lists the commands; Tab completes; quit, exit or "
               "Ctrl-D leaves.\n";
}

} // namespace

int run_console(context& ctx) {
  context local = ctx;
  local.interactive = true;
  active = &local;
  rl_readline_name = "herald-ctl";
  rl_catch_signals = 0;
  rl_getc_function = read_key;
  rl_attempted_completion_function = complete;
  static char breaks[] = " \t";
  rl_completer_word_break_characters = breaks;
  using_history();
  stifle_history(1000);
  auto path = history_path();
  if (!path.empty())
    read_history(path.c_str());
  banner(local);
  for (;;) {
    clear_interrupt();
    char* raw = readline("herald> ");
    if (!raw) {
      std::cout << std::endl;
      break;
    }
    std::string line{raw};
    std::free(raw);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    if (interrupted())
      continue;
    std::vector<std::string> words;
    if (!split_words(line, words)) {
      std::cerr << "herald-ctl: a quote is left open\n";
      continue;
    }
    if (words.empty())
      continue;
    auto* last = history_length > 0
                     ? history_get(history_base + history_length - 1)
                     : nullptr;
    if (!last || line != last->line) {
      add_history(line.c_str());
      if (!path.empty())
        write_history(path.c_str());
    }
    if (words[0] == "quit" || words[0] == "exit")
      break;
    if (words[0] == "console")
      continue;
    context per_line = local;
    run_command(per_line, words);
    if (interrupted())
      std::cout
          << '\n'; // after the terminal's ^C, the prompt on a line of its own
    std::cout.flush();
  }
  active = nullptr;
  return exit_ok;
}

} // namespace herald::ctl
