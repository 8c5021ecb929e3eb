#pragma once
// State shared by the remote backends' implementations (remote_solver, remote_batch_solver):
// the options, one client connection, the session and its request ids, a pending reseed,
// the counters and the circuit breaker (after a timeout the service is not asked again
// until retry_after; back-off doubling from 0.5 s to 30 s, so a dead service costs one
// timeout, not one per call). Private to lib/amimo/remote.

#include <amimo/remote/remote_solver.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace amimo::remote {

struct remote_connection {
  remote_connection(remote_options o, int max, std::uint64_t seed)
      : options(std::move(o)), max_size(max), create_seed(seed),
        client(std::make_unique<remote_client>(
            client_options{options.endpoint, options.curve_server_key_file, options.curve_client_key_file, {}})),
        session(new_session_id()) {}

  void new_session() {
    session = new_session_id();
    next_id = 1;
    session_max_size = 0;
  }

  remote_options options;
  int max_size;
  std::uint64_t create_seed;
  std::unique_ptr<remote_client> client;
  std::uint64_t session;
  std::uint64_t next_id = 1;
  /// The max_size this session's requests carry (0: none sent yet). The service refuses a
  /// session's request with another max_size, so larger systems start a new session with
  /// theirs, and smaller ones later keep it (the service serves any order up to it).
  std::uint32_t session_max_size = 0;
  bool reseed_pending = false;
  std::uint64_t reseed_seed = 0;
  remote_counters counters;
  std::string failure;  // why the last request failed
  std::chrono::steady_clock::time_point retry_after{};
  std::chrono::milliseconds backoff{500};
  std::chrono::milliseconds busy_backoff{10};
};

}  // namespace amimo::remote
