// The INV circuits' stability margin (analog/circuit_spectrum.h): the stack ELMHES + HQR
// against closed-form spectra and against Eigen's EigenSolver.
#include "analog_test_support.h"

#include <amimo/analog/circuit_spectrum.h>

#include <Eigen/LU>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace amimo::analog {
namespace {

double fast_or_nan(const rmat& a) {
  double out = std::numeric_limits<double>::quiet_NaN();
  if (!fast_min_real_eigenvalue(a.data(), static_cast<int>(a.rows()), out)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

rmat gaussian(int n, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  }
  return g;
}

// T·D·T⁻¹ with D block diagonal: real eigenvalues on 1×1 blocks, a ± ib on [[a, −b], [b, a]].
TEST(CircuitSpectrum, ClosedFormSpectraUnderSimilarity) {
  rng gen(4101);
  for (int n = 1; n <= kMaxFastSize; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      rmat d = rmat::Zero(n, n);
      double want = INFINITY;
      int i = 0;
      while (i < n) {
        const double a = -3.0 + 6.0 * gen.uniform();
        if (i + 1 < n && gen.uniform() < 0.5) {
          const double b = 0.1 + 1.9 * gen.uniform();
          d(i, i) = a;
          d(i + 1, i + 1) = a;
          d(i, i + 1) = -b;
          d(i + 1, i) = b;
          i += 2;
        } else {
          d(i, i) = a;
          i += 1;
        }
        want = std::min(want, a);
      }
      // A well-conditioned T: identity plus a small random part.
      const rmat t = rmat::Identity(n, n) + 0.2 / std::sqrt(static_cast<double>(n)) * gaussian(n, gen);
      const rmat a = t * d * t.inverse();
      const double got = fast_or_nan(a);
      ASSERT_TRUE(std::isfinite(got)) << "n=" << n << " trial " << trial;
      EXPECT_NEAR(got, want, 1e-11 * (1.0 + a.norm())) << "n=" << n << " trial " << trial;
    }
  }
}

// Matrices like the board's circuits: the real embedding of a Hermitian positive definite
// matrix (every eigenvalue double) plus a 1% non-symmetric perturbation, so the pairs split
// into close real pairs or complex pairs; and plain Gaussian matrices. Against Eigen.
TEST(CircuitSpectrum, AgreesWithEigenOnCircuitLikeAndRandomMatrices) {
  rng gen(4102);
  for (int n : {2, 4, 6, 8, 12, 16}) {
    for (int trial = 0; trial < 200; ++trial) {
      rmat a;
      if (trial % 2 == 0) {
        const int k = n / 2;
        cmat h(k, k);
        for (Eigen::Index j = 0; j < k; ++j) {
          for (Eigen::Index r = 0; r < k; ++r) h(r, j) = cf64(gen.normal(), gen.normal());
        }
        const cmat g = h.adjoint() * h + 0.1 * cmat::Identity(k, k);
        a.resize(n, n);
        a.topLeftCorner(k, k) = g.real();
        a.topRightCorner(k, k) = -g.imag();
        a.bottomLeftCorner(k, k) = g.imag();
        a.bottomRightCorner(k, k) = g.real();
        a /= a.cwiseAbs().maxCoeff();
        a += 0.01 * gaussian(n, gen);
      } else {
        a = gaussian(n, gen);
      }
      const double want = min_real_eigenvalue_reference(a.data(), n);
      const double got = fast_or_nan(a);
      ASSERT_TRUE(std::isfinite(want));
      ASSERT_TRUE(std::isfinite(got)) << "n=" << n << " trial " << trial;
      EXPECT_NEAR(got, want, 1e-10 * a.norm()) << "n=" << n << " trial " << trial;
    }
  }
}

TEST(CircuitSpectrum, TriangularZeroAndIdentity) {
  rng gen(4103);
  for (int n = 1; n <= kMaxFastSize; ++n) {
    rmat u = gaussian(n, gen).triangularView<Eigen::Upper>();
    EXPECT_DOUBLE_EQ(fast_or_nan(u), u.diagonal().minCoeff()) << n;
    EXPECT_EQ(fast_or_nan(rmat::Zero(n, n)), 0.0) << n;
    EXPECT_EQ(fast_or_nan(rmat::Identity(n, n)), 1.0) << n;
  }
}

TEST(CircuitSpectrum, RefusesWhatItCannotDo) {
  double out = 42.0;
  rmat big = rmat::Identity(kMaxFastSize + 1, kMaxFastSize + 1);
  EXPECT_FALSE(fast_min_real_eigenvalue(big.data(), kMaxFastSize + 1, out));
  rmat bad = rmat::Identity(8, 8);
  bad(3, 5) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(fast_min_real_eigenvalue(bad.data(), 8, out));
  bad(3, 5) = INFINITY;
  EXPECT_FALSE(fast_min_real_eigenvalue(bad.data(), 8, out));
  // Entries far from 1 (the QR step's unscaled sums of squares would underflow/overflow).
  rng gen(4104);
  const rmat g = gaussian(8, gen);
  const rmat tiny = 1e-150 * g;
  const rmat huge = 1e150 * g;
  EXPECT_FALSE(fast_min_real_eigenvalue(tiny.data(), 8, out));
  EXPECT_FALSE(fast_min_real_eigenvalue(huge.data(), 8, out));
  EXPECT_EQ(out, 42.0);
  EXPECT_FALSE(fast_min_real_eigenvalue(big.data(), 0, out));
  // Inside the range the answer scales with the matrix.
  const rmat small = 1e-90 * g;
  const double unit = fast_or_nan(g);
  EXPECT_NEAR(fast_or_nan(small) / 1e-90, unit, 1e-10 * (1.0 + std::abs(unit)));
}

}  // namespace
}  // namespace amimo::analog
