#pragma once
// amimo-solverd's engine: a ZeroMQ ROUTER socket that serves solver sessions.
//
// A session (id chosen by the client) owns one backend instance — for an analog backend
// one simulated chip with its programmed arrays — created from the request's spec, size
// and seed. Sessions are pinned to a worker thread (session id mod workers), so a session's
// requests run in order on one state and distinct sessions run in parallel. A request
// repeating the session's last id gets the cached reply (client retries are idempotent).
// Idle sessions expire; the number of sessions is bounded. Every malformed message gets an
// error reply; the service never trusts a field it has not checked.

#include <amimo/remote/remote_solver.h>
#include <amimo/remote/wire_format.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace amimo::remote {

struct service_options {
  std::string endpoint = "tcp://127.0.0.1:*";  ///< "*" port: the system picks a free one
  int workers = 2;
  int max_sessions = 1024;
  double session_idle_s = 600.0;
  wire_limits limits;
  /// CURVE: path of the server secret key file (Z85, 40 characters); empty: plain TCP.
  std::string curve_secret_key_file;
};

struct service_counters {
  std::uint64_t requests = 0;
  std::uint64_t error_replies = 0;
  std::uint64_t solves = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t retries_answered = 0;
};

class solver_service {
 public:
  /// Binds (throws amimo::io_error when it cannot) and starts the worker threads.
  explicit solver_service(service_options options);
  ~solver_service();
  solver_service(const solver_service&) = delete;
  solver_service& operator=(const solver_service&) = delete;

  /// The endpoint really bound (with the port the system chose).
  const std::string& endpoint() const noexcept;

  /// Serves until stop() (from any thread or a signal handler's flag) or `stop_flag`.
  void run(const std::atomic<bool>* stop_flag = nullptr);
  void stop() noexcept;

  service_counters counters() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Generates a CURVE key pair and writes DIR/server.key (secret) and DIR/server.pub
/// (public), Z85 text; throws io_error on failure or when libzmq lacks CURVE.
void write_curve_keys(const std::string& directory);

}  // namespace amimo::remote
