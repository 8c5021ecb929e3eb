#pragma once
// The client side of solver offload.
//
// remote_client: one DEALER connection to amimo-solverd; send() queues a request and
// returns at once, so several batches can be in flight; receive() matches replies to
// requests by id (late replies of abandoned requests are dropped).
//
// remote_solver: the `remote` backend. It is a linear_solver whose set_matrix()/solve()
// become requests of one server session (the server holds the backend state; reseed()
// travels with the next set_matrix, so a remote run reproduces the in-process one for the
// same seed). Each request has a timeout and is retried with the same id (the server
// answers a repeat from its cache). When the service does not answer, the call falls back
// to a local digital backend (status.fallback, counted) and the next set_matrix opens a
// fresh session, so a run always completes.

#include <amimo/remote/wire_format.h>
#include <amimo/solver/linear_solver.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace amimo::remote {

struct client_options {
  std::string endpoint;
  /// CURVE: the server's public key file (Z85); empty for plain TCP.
  std::string curve_server_key_file;
  /// CURVE: this client's secret key file (Z85; the public key is derived from it), as
  /// authorised by the service's --curve-clients; empty: a fresh key pair per connection.
  std::string curve_client_key_file;
  wire_limits limits;
};

class remote_client {
 public:
  explicit remote_client(client_options options);
  ~remote_client();
  remote_client(const remote_client&) = delete;
  remote_client& operator=(const remote_client&) = delete;

  /// Queues a request (never blocks on the network).
  void send(const request& r);
  void send(const bytes& encoded);

  /// The next response to any request in flight, or nothing after `timeout`. Responses
  /// that fail to decode are reported as error_reply{code = malformed}.
  std::optional<std::variant<reply, error_reply>> receive(std::chrono::milliseconds timeout);
  /// The next response's bytes into `frame` (storage reused; a multi-frame response comes
  /// back empty, which no decoder accepts); false after `timeout` with nothing.
  bool receive_into(std::chrono::milliseconds timeout, bytes& frame);

  /// Drops the connection and its queued messages, and connects again.
  void reconnect();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

struct remote_options {
  std::string endpoint;
  solver::solver_spec backend{"digital-f64", {}};  ///< what the service runs
  int timeout_ms = 2000;
  int retries = 1;
  element_type element = element_type::cf64;
  std::string curve_server_key_file;
  std::string curve_client_key_file;
  /// What an unanswered or refused request does: fall back to a local digital backend
  /// (counted, warned about at the end of the run) or throw io_error (the run fails).
  bool fallback_on_failure = true;
  /// Batch backend (remote_batch_solver): systems per request, and requests in flight.
  int batch_chunk = 64;
  int window = 4;
};

/// Reads a Z85 key file (40 characters, surrounding whitespace ignored); throws io_error.
std::string read_curve_key(const std::string& path);

/// Options of the factory's "remote" entry: endpoint, backend, timeout-ms, retries,
/// element (cf64|cf32), curve-server-key, curve-client-key, on-failure (fallback|error),
/// batch-chunk (systems per batch request, 1…4096), window (batch requests in flight, 1…64);
/// every other key is passed to the backend. A `profile` that is a path (contains '/' or
/// ends in .yaml) is read here, on the client (regular file, size-capped), and sent inline
/// as `profile-yaml`: the service never opens a file a client names.
remote_options parse_remote_options(const std::map<std::string, std::string>& options);

/// Counters of one remote_solver (what the sweep reports as fallbacks comes from statuses).
struct remote_counters {
  std::uint64_t requests = 0;
  std::uint64_t busy_replies = 0;   ///< `busy` answers (backed off and resent)
  std::uint64_t retries = 0;
  std::uint64_t timeouts = 0;       ///< requests abandoned after all retries
  std::uint64_t error_replies = 0;  ///< requests the service refused
  std::uint64_t local_fallbacks = 0;
};

class remote_solver final : public solver::linear_solver {
 public:
  remote_solver(remote_options options, int max_size, std::uint64_t seed);
  ~remote_solver() override;

  std::string_view name() const noexcept override { return "remote"; }
  solver::matrix_status set_matrix(cmat_cref a, solver::matrix_structure structure) override;
  solver::solve_status solve(cmat_ref x, cmat_cref b) override;
  void reseed(std::uint64_t seed) noexcept override;

  const remote_counters& counters() const noexcept;
  /// Why the last request failed (empty when none did).
  const std::string& last_failure() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Process-wide tally of remote solves answered by the local fallback, by reason, over
/// every remote_solver of the run (worker threads included). Thread-safe.
struct fallback_tally {
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> by_reason;
};
fallback_tally remote_fallbacks();
/// Counts `count` solves answered by the local fallback for `reason` (remote backends only).
void note_remote_fallback(const std::string& reason, std::uint64_t count = 1);
/// A fresh random session id (never 0).
std::uint64_t new_session_id();
void reset_remote_fallbacks();
/// "" when no remote solve fell back; else a one-line warning with the count and reasons
/// (amimo-sweep and amimo-bs print it on stderr at the end of a run).
std::string remote_fallback_warning();

}  // namespace amimo::remote
