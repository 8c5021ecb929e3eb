#pragma once
// The `remote` backend's native batch form (solver/batch_solver.h): a solve() call's
// systems travel as solve_batch requests of at most `batch-chunk` systems each, up to
// `window` of them in flight at once on one service session (the service runs a
// session's requests in order, so the backend's random stream — an analog chip's — is
// consumed exactly as by one request carrying the whole batch). reseed() travels as a
// reseed item in front of the next batch. While chunk k is solved the client encodes and
// sends chunk k+1 and decodes chunk k−1's reply.
//
// Failures follow remote_solver's rules: a request is retried with the same id after its
// timeout (`retries` times), a `busy` answer is resent after a back-off, and systems the
// service does not answer are solved by a local digital-f64 batch backend (statuses say
// fallback, counted by reason in remote_fallbacks()), or with on-failure=error the call
// throws io_error. After a timeout the service is not asked again until the back-off
// ends (0.5 s doubling to 30 s). Buffers are reused: once reserve() has sized them, a
// solve() makes no C++ allocation of its own (ZeroMQ's message buffers are malloc'ed by
// libzmq). reserve() also makes one round trip without items (at most the timeout, capped
// at 1 s), so the connection's first-use allocations inside libzmq happen there and not in
// the first solve; the service creates the session then and draws nothing.

#include <amimo/remote/remote_solver.h>
#include <amimo/solver/batch_solver.h>

#include <memory>

namespace amimo::remote {

class remote_batch_solver final : public solver::batch_solver {
 public:
  remote_batch_solver(remote_options options, int max_size, std::uint64_t seed);
  ~remote_batch_solver() override;

  std::string_view name() const noexcept override { return "remote"; }
  /// The wire element (cf32 → f32, cf64 → f64), column-major: batches in that element are
  /// encoded straight from the caller's views.
  solver::batch_preference preference() const noexcept override;
  void solve(std::span<solver::batch_status> status, solver::batch_ref x, solver::batch_cref a, solver::batch_cref b,
             solver::matrix_structure structure) override;
  void reseed(std::uint64_t seed) noexcept override;
  void reserve(int max_rhs) override;

  const remote_counters& counters() const noexcept;
  const std::string& last_failure() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace amimo::remote
