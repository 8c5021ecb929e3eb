#pragma once
// Cost accounting as a decorator: wraps any backend, measures wall time of each call and
// accumulates counters (solves, iterations, residuals, fallbacks) and modelled cost. The
// backends themselves stay free of bookkeeping.

#include <amimo/solver/batch_solver.h>
#include <amimo/solver/linear_solver.h>

#include <cstdint>
#include <memory>

namespace amimo::solver {

/// Counters over many calls. Sums are kept (not means) so per-thread statistics can be
/// merged in a fixed order and stay reproducible.
struct solver_stats {
  std::uint64_t matrices = 0;          ///< set_matrix() calls
  std::uint64_t unusable_matrices = 0; ///< of which reported not ok (singular, non-finite)
  std::uint64_t solves = 0;            ///< solve() calls
  std::uint64_t right_hand_sides = 0;  ///< columns solved
  std::uint64_t failed_solves = 0;     ///< solves reporting ok = false
  std::uint64_t fallbacks = 0;         ///< solves a digital fallback answered
  std::uint64_t iterations = 0;        ///< sum of iterations over solves
  std::uint64_t residuals_counted = 0; ///< solves that reported a residual
  double residual_sum = 0.0;           ///< sum of reported relative residuals
  double residual_max = 0.0;
  double measured_seconds = 0.0;       ///< wall time inside set_matrix() and solve()
  double modelled_matrix_seconds = 0.0;
  double modelled_matrix_joules = 0.0;
  double modelled_solve_seconds = 0.0;
  double modelled_solve_joules = 0.0;

  void merge(const solver_stats& other) noexcept;
  double mean_iterations() const noexcept;
  double mean_residual() const noexcept;  ///< NaN when no backend reported a residual
};

class accounting_solver final : public linear_solver {
 public:
  explicit accounting_solver(std::unique_ptr<linear_solver> inner);

  std::string_view name() const noexcept override { return inner_->name(); }
  matrix_status set_matrix(cmat_cref a, matrix_structure structure) override;
  solve_status solve(cmat_ref x, cmat_cref b) override;
  void reseed(std::uint64_t seed) noexcept override { inner_->reseed(seed); }

  const solver_stats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  std::unique_ptr<linear_solver> inner_;
  solver_stats stats_;
};

/// The same accounting around a batch backend: every system of a batch counts as one
/// matrix and one solve (with all of its right-hand sides); wall time is measured around
/// the whole batch call.
class accounting_batch_solver final : public batch_solver {
 public:
  explicit accounting_batch_solver(std::unique_ptr<batch_solver> inner);

  std::string_view name() const noexcept override { return inner_->name(); }
  batch_preference preference() const noexcept override { return inner_->preference(); }
  void solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
             matrix_structure structure) override;
  void reseed(std::uint64_t seed) noexcept override { inner_->reseed(seed); }
  void reserve(int max_rhs) override { inner_->reserve(max_rhs); }

  const solver_stats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  std::unique_ptr<batch_solver> inner_;
  solver_stats stats_;
};

}  // namespace amimo::solver
