#include <amimo/core/stop_signals.h>

#include <csignal>

namespace amimo {
namespace {

std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "g_stop_requested is set from a signal handler");

extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }

}  // namespace

void install_stop_signal_handler(void (*handler)(int)) noexcept {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool>& install_stop_handlers() noexcept {
  install_stop_signal_handler(on_stop_signal);
  return g_stop_requested;
}

void ignore_broken_pipe() noexcept {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPIPE, &action, nullptr);
}

}  // namespace amimo
