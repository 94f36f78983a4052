// herald-ceiling: see ceiling.hpp and README.md.

#include "ceiling.hpp"

#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <sys/resource.h>

namespace {

// As many descriptors as we may have: the hard limit, raised when allowed.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  rlimit want = rl;
  want.rlim_cur = want.rlim_max = 1u << 20;
  if (rl.rlim_max < want.rlim_max && ::setrlimit(RLIMIT_NOFILE, &want) == 0)
    return;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--help") == 0) {
      std::puts("usage: herald-ceiling [--port N]   (0 = any free port)");
      return 0;
    } else {
      std::fprintf(stderr, "herald-ceiling: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (port > 65535) {
    std::fprintf(stderr, "herald-ceiling: bad port\n");
    return 2;
  }
  raise_fd_limit();
  try {
    // One thread: no locking around reactor I/O.
    boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    ceiling::server srv{io, static_cast<std::uint16_t>(port)};
    boost::asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    std::printf("listening on http://127.0.0.1:%u\n", unsigned{srv.port()});
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald-ceiling: %s\n", e.what());
    return 1;
  }
  // Connections are left to the OS: the process is going away.
  return 0;
}
