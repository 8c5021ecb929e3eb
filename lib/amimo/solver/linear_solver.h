#pragma once
// The solver interface: every linear solve of detection goes through it, whatever
// computes it (digital Eigen, the analog HP-INV simulator, a remote service).
//
// Two steps, because a system matrix is usually reused for many right-hand sides (a
// channel is constant over a coherence block): set_matrix() loads A — an analog backend
// programs its arrays here, a digital one factorises — then solve() answers A X = B for
// as many right-hand sides as needed. A numerical failure is data, never an exception.

#include <amimo/core/types.h>

#include <cstdint>
#include <limits>
#include <string_view>

namespace amimo::solver {

/// What set_matrix() may assume about A.
enum class matrix_structure {
  hermitian,  ///< Hermitian (a MIMO Gram matrix); positive definite or nearly so.
  general,    ///< Any square matrix.
};

/// Outcome of loading a system matrix.
struct matrix_status {
  /// False when A is unusable (singular to working precision, non-finite entries):
  /// every solve() until the next set_matrix() then reports ok = false.
  bool ok = true;
  /// A Hermitian A passed a Cholesky factorisation (false: an LDLT/LU path was used).
  bool positive_definite = true;
  /// Modelled time and energy to load A (programming an analog array); 0 for digital
  /// backends, whose cost is measured around the call instead.
  double modelled_seconds = 0.0;
  double modelled_joules = 0.0;
};

/// Outcome of one solve() call (all of its right-hand sides).
struct solve_status {
  /// X holds a solution; false for an unusable matrix (X is then zero).
  bool ok = true;
  /// The backend's own method failed (an analog solve diverged, a remote call timed
  /// out) and a digital fallback produced X. Counted and reported, never hidden.
  bool fallback = false;
  /// Refinement iterations taken (largest over the right-hand sides); 0 for direct solves.
  int iterations = 0;
  /// Final relative residual ‖A X − B‖_F / ‖B‖_F where the backend computes it, else NaN.
  double residual = std::numeric_limits<double>::quiet_NaN();
  /// Modelled time and energy of the solve (analog backends); 0 for digital ones.
  double modelled_seconds = 0.0;
  double modelled_joules = 0.0;
};

class linear_solver {
 public:
  virtual ~linear_solver() = default;

  /// Backend name as the factory knows it ("digital-f64", "analog", …).
  virtual std::string_view name() const noexcept = 0;

  /// Loads the n×n system matrix used by the following solve() calls.
  virtual matrix_status set_matrix(cmat_cref a, matrix_structure structure) = 0;

  /// Solves A X = B with the matrix of the last set_matrix(); b is n×m (m right-hand
  /// sides), x must already be n×m. Does not allocate once buffers have seen the size.
  virtual solve_status solve(cmat_ref x, cmat_cref b) = 0;

  /// Restarts the backend's random streams (device programming error, read noise) from
  /// seed. Callers reseed per unit of work (a frame), so results do not depend on which
  /// worker thread did the work. Deterministic backends ignore it.
  virtual void reseed(std::uint64_t seed) noexcept { (void)seed; }
};

}  // namespace amimo::solver
