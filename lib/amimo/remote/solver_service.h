#pragma once
// amimo-solverd's engine: a ZeroMQ ROUTER socket that serves solver sessions.
//
// A session (id chosen by the client, scoped to the client: its CURVE key when CURVE is on,
// else its connection) owns one backend instance — for an analog backend one simulated
// chip with its programmed arrays — created from the request's spec, size and seed.
// Sessions are pinned to a worker thread, so a session's requests run in order on one
// state and distinct sessions run in parallel; each worker serves its clients round-robin.
// A request repeating the session's last id gets the cached reply (client retries are
// idempotent). Every malformed message gets an error reply; the service never trusts a
// field it has not checked (README "Running amimo-solverd on a shared network"):
// - specs are checked against closed lists (service_policy.h); nothing names a file;
// - sessions, modelled session memory and queued requests are bounded per client and in
//   total; a full queue is answered `busy` at once;
// - constructing a service sets the process's glibc heap thresholds so that freed request
//   buffers are reused, not faulted in again per request (core/heap_tuning.h);
// - each request's modelled work is bounded, and it is cut at its deadline (analog solves
//   check the deadline between refinement iterations);
// - workers never touch files or block on the network; stop returns within about a second
//   (a worker still busy after the grace period is abandoned, not joined);
// - with --curve-clients only listed client keys pass the ZAP handshake.

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
  /// CURVE: directory of authorised client public keys (*.pub, Z85); empty: any client
  /// that knows the server key is served (still one quota per client key).
  std::string curve_clients_dir;
  /// Extra analog profiles offered by name (DIR/NAME.yaml, read once at startup).
  std::string profile_dir;
  int client_sessions = 16;             ///< sessions one client may hold
  double client_session_mib = 1024;     ///< modelled session memory one client may hold (MiB)
  double session_mib = 8192;            ///< modelled session memory over all clients (MiB)
  int client_queue = 4;                 ///< requests of one client queued or running
  int max_queue = 64;                   ///< requests queued or running over all clients
  double queue_mib = 512;               ///< bytes of queued requests over all clients (MiB)
  double max_work = 4e10;               ///< modelled multiply-adds one request may need
  double deadline_s = 10.0;             ///< a request not finished this long after arrival is cut
  double stop_grace_s = 0.5;            ///< how long stop waits for busy workers
};

struct service_counters {
  std::uint64_t requests = 0;
  std::uint64_t error_replies = 0;
  std::uint64_t solves = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t retries_answered = 0;
  std::uint64_t busy_replies = 0;       ///< refused at once: a queue was full
  std::uint64_t quota_refusals = 0;     ///< new sessions, or requests whose reply (cached for a retry)
                                        ///< would not fit, refused by a per-client or global bound
  std::uint64_t work_refusals = 0;      ///< requests beyond --max-work
  std::uint64_t deadline_cuts = 0;      ///< requests cut at their deadline
  std::uint64_t sessions_expired = 0;
  std::uint64_t auth_refused = 0;       ///< CURVE handshakes refused (key not authorised)
  std::uint64_t auth_accepted = 0;
  std::uint64_t authorised_keys = 0;    ///< keys loaded from curve_clients_dir
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

  /// Stops the workers, waiting at most stop_grace_s; a worker still busy then is left
  /// running detached (it holds the shared state) and false is returned: the caller should
  /// then end the process without running static destructors (std::_Exit). Idempotent.
  bool shutdown();

  service_counters counters() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// Generates a CURVE key pair and writes DIR/NAME.key (secret, mode 600) and DIR/NAME.pub
/// (public), Z85 text, as one set (core/file_io.h write_file_set_atomically): both files or
/// neither. Throws io_error when either file (or anything else at its name) exists already,
/// unless `overwrite` (amimo-solverd --force), when the set cannot be written (a directory in
/// the way leaves both names as they were) or when libzmq lacks CURVE.
void write_curve_keys(const std::string& directory, const std::string& name = "server", bool overwrite = false);

}  // namespace amimo::remote
