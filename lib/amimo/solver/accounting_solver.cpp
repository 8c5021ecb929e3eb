#include <amimo/solver/accounting_solver.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace amimo::solver {
namespace {
using clock = std::chrono::steady_clock;
double seconds_since(clock::time_point start) {
  return std::chrono::duration<double>(clock::now() - start).count();
}
}  // namespace

void solver_stats::merge(const solver_stats& other) noexcept {
  matrices += other.matrices;
  unusable_matrices += other.unusable_matrices;
  solves += other.solves;
  right_hand_sides += other.right_hand_sides;
  failed_solves += other.failed_solves;
  fallbacks += other.fallbacks;
  iterations += other.iterations;
  residuals_counted += other.residuals_counted;
  residual_sum += other.residual_sum;
  residual_max = std::max(residual_max, other.residual_max);
  measured_seconds += other.measured_seconds;
  modelled_matrix_seconds += other.modelled_matrix_seconds;
  modelled_matrix_joules += other.modelled_matrix_joules;
  modelled_solve_seconds += other.modelled_solve_seconds;
  modelled_solve_joules += other.modelled_solve_joules;
}

double solver_stats::mean_iterations() const noexcept {
  return solves == 0 ? 0.0 : static_cast<double>(iterations) / static_cast<double>(solves);
}

double solver_stats::mean_residual() const noexcept {
  return residuals_counted == 0 ? std::numeric_limits<double>::quiet_NaN()
                                : residual_sum / static_cast<double>(residuals_counted);
}

accounting_solver::accounting_solver(std::unique_ptr<linear_solver> inner)
    : inner_(std::move(inner)) {}

matrix_status accounting_solver::set_matrix(cmat_cref a, matrix_structure structure) {
  const clock::time_point start = clock::now();
  const matrix_status status = inner_->set_matrix(a, structure);
  stats_.measured_seconds += seconds_since(start);
  ++stats_.matrices;
  if (!status.ok) ++stats_.unusable_matrices;
  stats_.modelled_matrix_seconds += status.modelled_seconds;
  stats_.modelled_matrix_joules += status.modelled_joules;
  return status;
}

solve_status accounting_solver::solve(cmat_ref x, cmat_cref b) {
  const clock::time_point start = clock::now();
  const solve_status status = inner_->solve(x, b);
  stats_.measured_seconds += seconds_since(start);
  ++stats_.solves;
  stats_.right_hand_sides += static_cast<std::uint64_t>(b.cols());
  if (!status.ok) ++stats_.failed_solves;
  if (status.fallback) ++stats_.fallbacks;
  stats_.iterations += static_cast<std::uint64_t>(std::max(status.iterations, 0));
  if (std::isfinite(status.residual)) {
    ++stats_.residuals_counted;
    stats_.residual_sum += status.residual;
    stats_.residual_max = std::max(stats_.residual_max, status.residual);
  }
  stats_.modelled_solve_seconds += status.modelled_seconds;
  stats_.modelled_solve_joules += status.modelled_joules;
  return status;
}

accounting_batch_solver::accounting_batch_solver(std::unique_ptr<batch_solver> inner) : inner_(std::move(inner)) {}

void accounting_batch_solver::solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
                                    matrix_structure structure) {
  const clock::time_point start = clock::now();
  inner_->solve(status, x, a, b, structure);
  stats_.measured_seconds += seconds_since(start);
  const auto columns = static_cast<std::uint64_t>(std::max(shape_of(b).cols, 0));
  for (const batch_status& s : status) {
    ++stats_.matrices;
    if (!s.matrix.ok) ++stats_.unusable_matrices;
    stats_.modelled_matrix_seconds += s.matrix.modelled_seconds;
    stats_.modelled_matrix_joules += s.matrix.modelled_joules;
    ++stats_.solves;
    stats_.right_hand_sides += columns;
    if (!s.solve.ok) ++stats_.failed_solves;
    if (s.solve.fallback) ++stats_.fallbacks;
    stats_.iterations += static_cast<std::uint64_t>(std::max(s.solve.iterations, 0));
    if (std::isfinite(s.solve.residual)) {
      ++stats_.residuals_counted;
      stats_.residual_sum += s.solve.residual;
      stats_.residual_max = std::max(stats_.residual_max, s.solve.residual);
    }
    stats_.modelled_solve_seconds += s.solve.modelled_seconds;
    stats_.modelled_solve_joules += s.solve.modelled_joules;
  }
}

}  // namespace amimo::solver
