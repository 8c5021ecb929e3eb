#pragma once
// The analog-refinement solver (HP-INV, DESIGN.md §1.1) as a linear_solver backend.
//
// set_matrix() "programs the chip": embeds a complex matrix as real 2n×2n (a real matrix
// stays n×n), normalises it, slices it into S signed m-bit digit matrices, programs the
// HP-MVM tiles and the LP-INV blocks (BlockAMC when n exceeds the array size) with
// write-verify error, stuck devices, drift and IR drop, and checks that every INV circuit
// is stable. solve() runs the refinement loop per right-hand side:
//   r_k = b − Ā x_k (HP-MVM),   x_{k+1} = x_k + ‖r_k‖∞ · LP-INV(r_k / ‖r_k‖∞),
// with per-operation read noise and DAC/ADC quantisation. A residual that grows, a
// tolerance not met, or a matrix the circuits cannot handle sends that right-hand side to
// the digital fallback (status.fallback, counted in the activity).
//
// The simulator only counts physical events (activity.h); the cost model decorator turns
// them into modelled seconds and joules. Neither set_matrix() (programming, BlockAMC
// included) nor solve() allocates once a matrix of the size has been seen (the digital
// fallback aside), so a receiver can reprogram per subcarrier. Results depend on the
// seeds only (bit-identical to the per-matrix implementation before the speed-up:
// tests/analog/test_reference_outputs.cpp).

#include <amimo/analog/activity.h>
#include <amimo/analog/analog_profile.h>
#include <amimo/solver/linear_solver.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace amimo::analog {

/// analog: HP-INV refinement; analog_lp: one LP-INV evaluation, no refinement.
enum class analog_mode { refine, lp_only };

class hp_inv_solver final : public solver::linear_solver {
 public:
  /// Called after every LP-INV update with the current estimate in the solver's real
  /// coordinates (the embedding [Re x; Im x] for complex matrices), already scaled back
  /// to the original problem, and the relative residual the chip measured before it.
  using iterate_observer = std::function<void(int column, int iteration, std::span<const double> x)>;

  /// chip_seed fixes which devices are stuck (a property of the chip, identical for every
  /// instance made with the same seed); reseed() restarts programming and read noise.
  hp_inv_solver(analog_profile profile, analog_mode mode, int max_size, std::uint64_t chip_seed);
  ~hp_inv_solver() override;
  hp_inv_solver(const hp_inv_solver&) = delete;
  hp_inv_solver& operator=(const hp_inv_solver&) = delete;

  std::string_view name() const noexcept override;
  solver::matrix_status set_matrix(cmat_cref a, solver::matrix_structure structure) override;
  solver::solve_status solve(cmat_ref x, cmat_cref b) override;
  void reseed(std::uint64_t seed) noexcept override;

  void set_iterate_observer(iterate_observer observer);

  const analog_profile& profile() const noexcept;
  analog_mode mode() const noexcept;
  const programming_activity& last_programming() const noexcept;
  const solve_activity& last_solve() const noexcept;
  /// Chip-measured relative residual ‖r_k‖/‖b‖ before update k (k = 0 … iterations),
  /// largest over the right-hand sides of the last solve().
  std::span<const double> last_residual_history() const noexcept;
  /// Smallest real part of an eigenvalue over the INV circuits of the programmed matrix
  /// (normalised units); ≤ 0 means a circuit cannot settle.
  double last_lambda_min() const noexcept;
  /// Real dimension of the programmed system (2n for complex, n for real matrices).
  int real_size() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace amimo::analog
