#pragma once
// The systems amimo-report compares backends on. Two kinds:
//  - real n×n systems: A = I + r·S/ρ(S), S a symmetric Gaussian matrix with zero
//    diagonal, r = (κ−1)/(κ+1): symmetric positive definite, unit diagonal, spectrum in
//    [1−r, 1+r], so condition number at most κ (the "dominant" kind of amimo-solve);
//  - MIMO Gram systems: the K×K ZF solve (HᴴH) ŝ = Hᴴy of one received vector, H N×K with
//    i.i.d. CN(0, 1) (Rayleigh) entries; complex Hermitian positive definite.
// Right-hand sides are b = A x with x i.i.d. N(0, 1) (real) or CN(0, 1) (complex). A block
// is one matrix and its rhs_per_matrix right-hand sides (one coherence block). Everything
// is drawn from seeded streams: the same seed gives the same systems.

#include <amimo/core/types.h>
#include <amimo/perf/perf_model.h>
#include <amimo/solver/linear_solver.h>

#include <cstdint>
#include <string>
#include <vector>

namespace amimo::perf {

enum class workload_kind { real_system, mimo_gram };

struct workload {
  workload_kind kind = workload_kind::real_system;
  int n = 0;         ///< system size (K for a MIMO Gram solve)
  int antennas = 0;  ///< N (MIMO only; 0 for real systems)
  int users = 0;     ///< K (MIMO only; 0 for real systems)

  arithmetic arith() const noexcept {
    return kind == workload_kind::real_system ? arithmetic::real : arithmetic::complex;
  }
  /// "real 32x32" or "MIMO 16x4 (4x4 Gram)".
  std::string name() const;
};

/// A real n×n workload; throws config_error unless 1 ≤ n ≤ 1024.
workload real_workload(int n);
/// A MIMO N×K workload (the K×K Gram solve); throws config_error unless 1 ≤ K ≤ N ≤ 4096
/// and K ≤ 1024.
workload mimo_workload(int antennas, int users);

/// Independent systems of one workload.
struct system_set {
  workload load;
  int rhs_per_matrix = 0;
  double cond = 0.0;  ///< κ bound of the real systems (unused for MIMO)
  solver::matrix_structure structure = solver::matrix_structure::hermitian;
  std::vector<cmat> matrices;  ///< n×n each
  std::vector<cmat> rhs;       ///< n × rhs_per_matrix each, b = A x
};

/// Draws `matrices` blocks. Throws config_error for matrices < 1, rhs_per_matrix < 1 or
/// cond < 1 (real systems).
system_set make_systems(const workload& load, int matrices, int rhs_per_matrix, double cond, std::uint64_t seed);

}  // namespace amimo::perf
