#include <amimo/perf/workload.h>

#include <amimo/core/error.h>
#include <amimo/core/rng.h>

#include <fmt/format.h>
#include <Eigen/Eigenvalues>

#include <cmath>

namespace amimo::perf {

std::string workload::name() const {
  if (kind == workload_kind::real_system) return fmt::format("real {}x{}", n, n);
  return fmt::format("MIMO {}x{} ({}x{} Gram)", antennas, users, users, users);
}

workload real_workload(int n) {
  if (n < 1 || n > 1024) throw config_error(fmt::format("system size must be in 1..1024 (got {})", n));
  workload w;
  w.kind = workload_kind::real_system;
  w.n = n;
  return w;
}

workload mimo_workload(int antennas, int users) {
  if (users < 1 || users > 1024 || antennas < users || antennas > 4096) {
    throw config_error(fmt::format(
        "MIMO shape {}x{} (antennas x users) needs 1 <= users <= antennas <= 4096 and users <= 1024", antennas, users));
  }
  workload w;
  w.kind = workload_kind::mimo_gram;
  w.n = users;
  w.antennas = antennas;
  w.users = users;
  return w;
}

system_set make_systems(const workload& load, int matrices, int rhs_per_matrix, double cond, std::uint64_t seed) {
  if (matrices < 1) throw config_error(fmt::format("matrices per workload must be >= 1 (got {})", matrices));
  if (rhs_per_matrix < 1) {
    throw config_error(fmt::format("right-hand sides per matrix must be >= 1 (got {})", rhs_per_matrix));
  }
  const bool real = load.kind == workload_kind::real_system;
  if (real && !(cond >= 1.0 && std::isfinite(cond))) {
    throw config_error(fmt::format("condition number must be a finite number >= 1 (got {})", cond));
  }
  system_set set;
  set.load = load;
  set.rhs_per_matrix = rhs_per_matrix;
  set.cond = cond;
  set.structure = solver::matrix_structure::hermitian;
  const auto n = static_cast<Eigen::Index>(load.n);
  const auto m = static_cast<Eigen::Index>(rhs_per_matrix);
  for (int k = 0; k < matrices; ++k) {
    rng gen(derive_seed(seed, {static_cast<std::uint64_t>(load.kind == workload_kind::real_system ? 0 : 1),
                               static_cast<std::uint64_t>(load.n), static_cast<std::uint64_t>(load.antennas),
                               static_cast<std::uint64_t>(k)}));
    cmat a;
    cmat x(n, m);
    if (real) {
      rmat g(n, n);
      for (Eigen::Index j = 0; j < n; ++j) {
        for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
      }
      rmat sym = 0.5 * (g + g.transpose());
      sym.diagonal().setZero();
      const double radius =
          n == 1 ? 0.0
                 : Eigen::SelfAdjointEigenSolver<rmat>(sym, Eigen::EigenvaluesOnly).eigenvalues().cwiseAbs().maxCoeff();
      rmat r = rmat::Identity(n, n);
      if (radius > 0.0) r += ((cond - 1.0) / (cond + 1.0) / radius) * sym;
      a = r.cast<cf64>();
      for (Eigen::Index j = 0; j < m; ++j) {
        for (Eigen::Index i = 0; i < n; ++i) x(i, j) = cf64(gen.normal(), 0.0);
      }
    } else {
      cmat h(static_cast<Eigen::Index>(load.antennas), n);
      gen.fill_complex_normal(h, 1.0);
      a = h.adjoint() * h;
      a = (0.5 * (a + a.adjoint())).eval();  // exactly Hermitian
      gen.fill_complex_normal(x, 1.0);
    }
    set.rhs.push_back(a * x);
    set.matrices.push_back(std::move(a));
  }
  return set;
}

}  // namespace amimo::perf
