// amimo-solverd: the solver offload service (README "Solver offload"). Binds a ZeroMQ
// ROUTER socket (127.0.0.1 by default), serves solver sessions with a pool of worker
// threads, stops cleanly on SIGINT/SIGTERM.
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/version.h>
#include <amimo/remote/solver_service.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) { stop_requested = true; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amimo-solverd — solver offload service over ZeroMQ"};
  amimo::remote::service_options options;
  std::string port_file;
  std::string gen_keys;
  std::size_t max_message_mib = options.limits.max_message >> 20U;
  app.add_option("--bind", options.endpoint, "ZeroMQ endpoint (port * = any free port)")->capture_default_str();
  app.add_option("--workers", options.workers, "worker threads (sessions are pinned to one)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--max-sessions", options.max_sessions, "sessions held at most")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--session-idle", options.session_idle_s, "seconds after which an idle session is dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-message-mib", max_message_mib, "largest accepted message (ZMQ_MAXMSGSIZE), MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--curve-secret-key", options.curve_secret_key_file, "enable CURVE with this server secret key file");
  app.add_option("--port-file", port_file, "write the bound endpoint to this file once listening");
  app.add_option("--gen-keys", gen_keys, "write DIR/server.key and DIR/server.pub (CURVE) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a bad command line: 2 (README)
  }
  options.limits.max_message = max_message_mib << 20U;
  try {
    if (!gen_keys.empty()) {
      amimo::remote::write_curve_keys(gen_keys);
      fmt::print("wrote {}/server.key and {}/server.pub\n", gen_keys, gen_keys);
      return 0;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    amimo::remote::solver_service service(options);
    fmt::print("amimo-solverd {} listening on {} ({} workers{})\n", amimo::version_string, service.endpoint(),
               options.workers, options.curve_secret_key_file.empty() ? "" : ", CURVE");
    std::fflush(stdout);
    if (!port_file.empty()) {
      amimo::write_file_atomically(port_file, service.endpoint() + "\n");
    }
    service.run(&stop_requested);
    const auto c = service.counters();
    fmt::print("amimo-solverd: stopped; {} requests, {} solves, {} error replies, {} sessions, {} retries answered\n",
               c.requests, c.solves, c.error_replies, c.sessions_created, c.retries_answered);
    return 0;
  } catch (const amimo::config_error& e) {
    fmt::print(stderr, "amimo-solverd: configuration error: {}\n", e.what());
    return 2;
  } catch (const amimo::io_error& e) {
    fmt::print(stderr, "amimo-solverd: {}\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "amimo-solverd: error: {}\n", e.what());
    return 1;
  }
}
