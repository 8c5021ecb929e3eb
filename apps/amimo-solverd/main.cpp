// amimo-solverd: the solver offload service (README "Solver offload" and "Running
// amimo-solverd on a shared network"). Binds a ZeroMQ ROUTER socket (127.0.0.1 by
// default), serves solver sessions with a pool of worker threads under per-client and
// global limits (printed in the startup banner), stops within about a second on
// SIGINT/SIGTERM whatever the workers are doing.
#include "../cli_paths.h"

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/version.h>
#include <amimo/remote/solver_service.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>
#include <vector>

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void on_signal(int) { stop_requested = true; }

// The port file must not replace a file the service reads: the secret key, an authorised
// client key (DIR/*.pub) or an offered profile (DIR/*.yaml). config_error: exit status 2.
void refuse_port_file_over_inputs(const std::string& port_file, const amimo::remote::service_options& o) {
  namespace fs = std::filesystem;
  std::vector<amimo::apps::named_path> inputs;
  if (!o.curve_secret_key_file.empty()) inputs.push_back({"--curve-secret-key", o.curve_secret_key_file});
  for (const auto& [flag, dir, extension] : {std::tuple{"--curve-clients", o.curve_clients_dir, ".pub"},
                                             std::tuple{"--profile-dir", o.profile_dir, ".yaml"}}) {
    if (dir.empty()) continue;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == extension) inputs.push_back({std::string(flag) + " file", it->path().string()});
    }
  }
  amimo::apps::refuse_output_over_input({{"--port-file", port_file}}, inputs);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amimo-solverd — solver offload service over ZeroMQ"};
  amimo::remote::service_options options;
  std::string port_file;
  std::string gen_keys;
  std::size_t max_message_mib = options.limits.max_message >> 20U;
  // Every text option refuses an empty value (exit status 2): `--curve-secret-key ""` read as
  // "not given" started a plain-TCP server, `--gen-keys ""` a server instead of writing keys.
  const CLI::Validator non_empty = amimo::apps::non_empty_value();
  app.add_option("--bind", options.endpoint, "ZeroMQ endpoint (port * = any free port)")
      ->capture_default_str()
      ->check(non_empty);
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
  app.add_option("--curve-secret-key", options.curve_secret_key_file, "enable CURVE with this server secret key file")
      ->check(non_empty);
  app.add_option("--curve-clients", options.curve_clients_dir,
                 "CURVE: serve only clients whose public key is a DIR/*.pub file (refused handshakes are counted)")
      ->check(non_empty);
  app.add_option("--profile-dir", options.profile_dir,
                 "offer DIR/NAME.yaml analog profiles by NAME (read once at startup; clients never name files)")
      ->check(non_empty);
  app.add_option("--client-sessions", options.client_sessions, "sessions one client may hold")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--client-session-mib", options.client_session_mib, "modelled session memory one client may hold, MiB")
      ->capture_default_str()->check(CLI::Range(1.0, 1e7));
  app.add_option("--session-mib", options.session_mib, "modelled session memory over all clients, MiB")
      ->capture_default_str()->check(CLI::Range(1.0, 1e7));
  app.add_option("--client-queue", options.client_queue, "requests of one client queued or running (beyond: busy)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 16));
  app.add_option("--max-queue", options.max_queue, "requests queued or running over all clients (beyond: busy)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--queue-mib", options.queue_mib, "bytes of queued requests over all clients, MiB (beyond: busy)")
      ->capture_default_str()->check(CLI::Range(1.0, 1e6));
  app.add_option("--max-work", options.max_work, "modelled multiply-adds one request may need (beyond: refused)")
      ->capture_default_str()->check(CLI::Range(1e3, 1e18));
  app.add_option("--deadline", options.deadline_s, "seconds after arrival at which a request is cut")
      ->capture_default_str()->check(CLI::Range(0.01, 86400.0));
  auto* o_port = app.add_option("--port-file", port_file, "write the bound endpoint to this file once listening")
                     ->check(non_empty);
  std::string key_name = "server";
  bool force = false;
  auto* o_gen = app.add_option("--gen-keys", gen_keys, "write DIR/NAME.key and DIR/NAME.pub (CURVE) and exit")
                    ->check(non_empty);
  app.add_option("--key-name", key_name, "NAME for --gen-keys (e.g. one per client)")
      ->capture_default_str()
      ->check(non_empty);
  app.add_flag("--force", force, "--gen-keys: replace an existing NAME.key / NAME.pub (refused otherwise)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a bad command line: 2 (README)
  }
  options.limits.max_message = max_message_mib << 20U;
  try {
    if (*o_gen) {
      amimo::remote::write_curve_keys(gen_keys, key_name, force);
      fmt::print("wrote {}/{}.key and {}/{}.pub\n", gen_keys, key_name, gen_keys, key_name);
      return 0;
    }
    if (*o_port) refuse_port_file_over_inputs(port_file, options);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    amimo::remote::solver_service service(options);
    const auto c0 = service.counters();
    const std::string auth = options.curve_secret_key_file.empty()
                                 ? "none (plain TCP: any client that reaches the port is served)"
                             : options.curve_clients_dir.empty()
                                 ? "CURVE, any client key (no --curve-clients)"
                                 : fmt::format("CURVE, {} authorised client keys", c0.authorised_keys);
    fmt::print("amimo-solverd {} listening on {} ({} workers)\n", amimo::version_string, service.endpoint(), options.workers);
    fmt::print("  clients: {}; quotas per client key{}\n", auth,
               options.curve_secret_key_file.empty() ? " (here: per connection)" : "");
    fmt::print("  limits per client: {} sessions, {:g} MiB modelled session memory, {} requests queued\n",
               options.client_sessions, options.client_session_mib, options.client_queue);
    fmt::print("  limits in total: {} sessions, {:g} MiB modelled session memory, {} requests / {:g} MiB queued, "
               "messages up to {} MiB\n",
               options.max_sessions, options.session_mib, options.max_queue, options.queue_mib, max_message_mib);
    fmt::print("  limits per request: {:g} modelled multiply-adds, deadline {:g} s; idle sessions dropped after {:g} s\n",
               options.max_work, options.deadline_s, options.session_idle_s);
    std::fflush(stdout);
    if (*o_port) {
      amimo::write_file_atomically(port_file, service.endpoint() + "\n");
    }
    service.run(&stop_requested);
    const bool joined = service.shutdown();
    const auto c = service.counters();
    fmt::print("amimo-solverd: stopped; {} requests, {} solves, {} error replies, {} sessions, {} retries answered; "
               "refused: {} busy, {} quota, {} work limit, {} cut at deadline, {} unauthorised keys{}\n",
               c.requests, c.solves, c.error_replies, c.sessions_created, c.retries_answered, c.busy_replies,
               c.quota_refusals, c.work_refusals, c.deadline_cuts, c.auth_refused,
               joined ? "" : "; a busy worker was abandoned");
    std::fflush(stdout);
    // A worker still inside a backend is not joined: end without static destructors.
    if (!joined) std::_Exit(0);
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
