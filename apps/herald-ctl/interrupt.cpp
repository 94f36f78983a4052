#include "interrupt.hpp"

#include <csignal>

namespace herald::ctl {

namespace {

volatile std::sig_atomic_t pressed = 0;

extern "C" void on_sigint(int) {
  pressed = 1;
}

} // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
}

bool interrupted() {
  return pressed != 0;
}

void clear_interrupt() {
  pressed = 0;
}

} // namespace herald::ctl
