#include "top.hpp"

#include "interrupt.hpp"
#include "views.hpp"
#include "watch.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

namespace herald::ctl {

namespace {

struct screen_size {
  int rows = 24;
  int cols = 80;
};

screen_size terminal_size() {
  screen_size s;
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_row > 0
      && w.ws_col > 0) {
    s.rows = w.ws_row;
    s.cols = w.ws_col;
  }
  return s;
}

// Keys without Enter and without echo while top owns the screen; Ctrl-C
// still raises SIGINT. Restores the terminal when it goes.
class raw_keys {
public:
  raw_keys() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0)
      return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~raw_keys() {
    if (active_)
      tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  raw_keys(const raw_keys&) = delete;
  raw_keys& operator=(const raw_keys&) = delete;

  /// Waits up to `ms` for a key; true when it was q (or Ctrl-C).
  bool quit_pressed(int ms) {
    if (!active_) {
      nap(ms);
      return false;
    }
    // Short polls: a Ctrl-C that came while fetching must not wait for
    // the whole interval, nor let the next key typed be eaten here.
    pollfd p{STDIN_FILENO, POLLIN, 0};
    for (int waited = 0; !interrupted(); waited += 50) {
      if (waited >= ms)
        return false;
      if (poll(&p, 1, std::min(50, ms - waited)) > 0)
        break;
    }
    if (interrupted())
      return false;
    char c = 0;
    if (read(STDIN_FILENO, &c, 1) != 1)
      return false;
    return c == 'q' || c == 'Q' || c == 3;
  }

private:
  termios saved_{};
  bool active_ = false;
};

struct frame_data {
  int rc = exit_ok;
  rapidjson::Document by_mailbox, by_rate;
  std::string raw_mailbox, raw_rate;
};

frame_data load(const context& ctx, long long limit) {
  frame_data f;
  std::string q = "&order=desc&limit=" + std::to_string(limit);
  f.rc = fetch(ctx, "/actors?sort=mailbox" + q, f.by_mailbox, &f.raw_mailbox);
  if (f.rc == exit_ok)
    f.rc = fetch(ctx, "/actors?sort=rate" + q, f.by_rate, &f.raw_rate);
  return f;
}

// `interval` 0: one frame, nothing to quit.
std::string render(const context& ctx, const frame_data& f,
                   const screen_size& size, long long interval) {
  std::ostringstream out;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  out << "herald top  " << ctx.client.where().text << "  "
      << clock_time(static_cast<double>(now));
  if (interval > 0)
    out << "  every " << interval << " ms  (q to quit)";
  out << "\n";
  if (f.rc != exit_ok) {
    out << "\n  (no answer from the node, see above; retrying)\n";
    return out.str();
  }
  out << "actors " << text_of(f.by_mailbox, "total", "?") << "  nodes "
      << joined(f.by_mailbox, "nodes");
  auto missing = joined(f.by_mailbox, "missing");
  if (missing != "-")
    out << "  missing " << missing;
  out << "\n\nBUSIEST BY MAILBOX\n";
  // Room for the state column: the row's other columns take ~70.
  std::size_t state =
      size.cols > 90 ? static_cast<std::size_t>(size.cols - 70) : 20;
  actors_table(f.by_mailbox["items"], out, state);
  out << "\nBUSIEST BY RATE\n";
  actors_table(f.by_rate["items"], out, state);
  return out.str();
}

// Cuts every line to the screen's width so that nothing wraps and the
// frame stays where it was drawn.
std::string fit(const std::string& text, int cols) {
  std::istringstream in{text};
  std::string line, out;
  while (std::getline(in, line))
    out += clip(line, static_cast<std::size_t>(cols)) + "\x1b[K\n";
  return out;
}

} // namespace

int run_top(const context& ctx, const command_spec& spec, const arguments& a) {
  bool once = a.has("--once");
  long long interval = whole_number(a.value("--interval", "1000"));
  long long limit = a.has("--limit") ? whole_number(a.value("--limit")) : 0;
  if (interval < 100 || limit < 0 || limit > 1000) {
    std::cerr << "herald-ctl top: --interval takes ms (100 or more), "
                 "--limit 1..1000\nusage: herald-ctl "
              << spec.synopsis << "\n";
    return exit_usage;
  }
  auto size = terminal_size();
  if (limit == 0)
    limit = std::max(3, (size.rows - 9) / 2);
  if (once) {
    auto f = load(ctx, limit);
    if (f.rc != exit_ok)
      return f.rc;
    if (ctx.json)
      std::cout << "{\"by_mailbox\":" << f.raw_mailbox
                << ",\"by_rate\":" << f.raw_rate << "}" << std::endl;
    else
      std::cout << render(ctx, f, {size.rows, 1000}, 0) << std::flush;
    return exit_ok;
  }
  // The alternate screen: leaving it gives the prompt its lines back.
  std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;
  int rc = exit_ok;
  {
    raw_keys keys;
    for (;;) {
      size = terminal_size();
      auto f = load(ctx, limit);
      if (interrupted()) {
        rc = exit_interrupted;
        break;
      }
      std::cout << "\x1b[H" << fit(render(ctx, f, size, interval), size.cols)
                << "\x1b[J" << std::flush;
      if (keys.quit_pressed(static_cast<int>(interval)))
        break;
      if (interrupted()) {
        rc = exit_interrupted;
        break;
      }
    }
  }
  std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
  return rc;
}

} // namespace herald::ctl
