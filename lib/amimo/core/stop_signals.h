#pragma once
// How an executable ends a run on a signal (README "Exit statuses": 130, the files still
// written). One place installs the handlers, so every program stops the same way:
//  - SIGINT and SIGTERM set a flag (install_stop_handlers) or call the program's own
//    async-signal-safe handler (install_stop_signal_handler: amimo-sweep's two-stage
//    Ctrl-C); the program checks between units of work, stops, writes what it measured and
//    exits 130. No SA_RESTART: a blocking call returns EINTR, so the flag is seen at once.
//  - SIGPIPE is ignored (ignore_broken_pipe): a write to a closed pipe (`amimo-solve … |
//    head -1`) fails with EPIPE instead of killing the process before its files are written.

#include <atomic>

namespace amimo {

/// Installs `handler` (async-signal-safe, e.g. one that stores to a lock-free atomic) for
/// SIGINT and SIGTERM.
void install_stop_signal_handler(void (*handler)(int)) noexcept;

/// Installs handlers for SIGINT and SIGTERM that set the returned process-wide flag, and
/// returns it (the same flag on every call).
const std::atomic<bool>& install_stop_handlers() noexcept;

/// Ignores SIGPIPE: writes to a closed stdout fail (EPIPE) and the program goes on.
void ignore_broken_pipe() noexcept;

}  // namespace amimo
