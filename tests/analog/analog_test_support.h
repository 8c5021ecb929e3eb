#pragma once
// Shared helpers for the analog backend tests: test matrices with a chosen condition
// number and a driver that records the true relative error after every iteration.

#include <amimo/analog/cost_model.h>
#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <Eigen/QR>

#include <cmath>
#include <vector>

namespace amimo::analog::testing {

/// Random orthogonal matrix (Householder QR of a Gaussian matrix).
inline rmat random_orthogonal(int n, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  }
  Eigen::HouseholderQR<rmat> qr(g);
  return qr.householderQ() * rmat::Identity(n, n);
}

/// Symmetric positive definite, eigenvalues log-spaced from 1 down to 1/cond.
inline rmat spd_matrix(int n, double cond, rng& gen) {
  const rmat q = random_orthogonal(n, gen);
  rvec lambda(n);
  for (int i = 0; i < n; ++i) lambda(i) = std::pow(cond, -static_cast<double>(i) / std::max(1, n - 1));
  return q * lambda.asDiagonal() * q.transpose();
}

/// Diagonally dominant symmetric: I + ε·(G + Gᵀ)/(2·sqrt(2n)·sqrt(n)), G Gaussian; the
/// well-conditioned family on which an m-bit LP-INV gains about m bits per iteration.
inline rmat dominant_matrix(int n, double eps, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  }
  return rmat::Identity(n, n) + eps * (g + g.transpose()) / (2.0 * std::sqrt(2.0 * n) * std::sqrt(double(n)));
}

inline rvec random_vector(int n, rng& gen) {
  rvec v(n);
  for (int i = 0; i < n; ++i) v(i) = gen.normal();
  return v;
}

/// Runs one solve of A x = A x_true; returns ‖x_k − x_true‖/‖x_true‖ after every
/// iteration (index k−1) and the final answer's error as the last entry.
struct trace {
  std::vector<double> errors;  ///< after iterations 1…k
  double final_error = 0.0;    ///< of the returned X (fallback included)
  solver::solve_status status;
};


inline trace run(analog_cost_model& backend, const rmat& a, const rvec& x_true,
                 solver::matrix_structure structure = solver::matrix_structure::hermitian) {
  trace t;
  backend.engine().set_iterate_observer([&](int, int, std::span<const double> x) {
    const Eigen::Map<const rvec> xv(x.data(), static_cast<Eigen::Index>(x.size()));
    t.errors.push_back((xv - x_true).norm() / x_true.norm());
  });
  const cmat ac = a.cast<cf64>();
  const cmat b = (a * x_true).cast<cf64>();
  cmat x(a.rows(), 1);
  backend.set_matrix(ac, structure);
  t.status = backend.solve(x, b);
  t.final_error = (x.col(0).real() - x_true).norm() / x_true.norm();
  backend.engine().set_iterate_observer(nullptr);
  return t;
}

}  // namespace amimo::analog::testing
