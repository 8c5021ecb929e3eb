// The batch solver interface: the native digital batch backends (compact SIMD kernels
// across systems) against the per-matrix digital-f64 path, the per-matrix adapter against
// its backend, and singular, non-finite and misshapen batches.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/solver_factory.h>

#include <Eigen/Eigenvalues>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace amimo::solver {
namespace {

// count MMSE-like Gram systems A = HᴴH + n0 I (H n_ant × k) and right-hand sides B (k × r).
struct systems {
  int count, k, r;
  std::vector<cmat> a, b;
  std::vector<cf64> a_flat, b_flat;
  systems(int count_, int k_, int antennas, int r_, double n0, std::uint64_t seed) : count(count_), k(k_), r(r_) {
    rng gen(seed);
    for (int m = 0; m < count; ++m) {
      cmat h(antennas, k), rhs(k, r);
      gen.fill_complex_normal(h);
      gen.fill_complex_normal(rhs);
      a.push_back(h.adjoint() * h + n0 * cmat::Identity(k, k));
      b.push_back(rhs);
    }
    flatten();
  }
  void flatten() {
    a_flat.clear();
    b_flat.clear();
    for (int m = 0; m < count; ++m) {
      a_flat.insert(a_flat.end(), a[m].data(), a[m].data() + a[m].size());
      b_flat.insert(b_flat.end(), b[m].data(), b[m].data() + b[m].size());
    }
  }
};

// The per-matrix digital-f64 reference for system m.
cmat reference(const systems& s, int m, matrix_status* status = nullptr) {
  auto solver = create_linear_solver({"digital-f64", {}}, s.k, 1);
  cmat x(s.k, s.r);
  const matrix_status st = solver->set_matrix(s.a[m], matrix_structure::hermitian);
  if (status != nullptr) *status = st;
  solver->solve(x, s.b[m]);
  return x;
}

double relative(const cmat& got, const cmat& want) { return (got - want).norm() / want.norm(); }

TEST(BatchSolver, DigitalF32MatchesPerMatrixF64WithinSinglePrecisionForEveryUserCount) {
  for (const int k : {1, 2, 3, 4, 5, 7, 8, 16}) {  // odd k: a last row outside the solves' row pairs
    for (const int antennas : {k, 2 * k, 64}) {
      const int count = 13;  // not a multiple of any SIMD width: a partly filled last group
      systems s(count, k, antennas, 5, 0.1, static_cast<std::uint64_t>(100 + k + antennas));
      auto batch = create_batch_solver({"digital-f32", {}}, k, 1);
      EXPECT_EQ(batch->preference().element, element_type::f32);
      std::vector<cf32> x(static_cast<std::size_t>(count * k * s.r), cf32(7.0F, 7.0F));
      std::vector<batch_status> status(static_cast<std::size_t>(count));
      batch->solve(status, column_major_batch(x.data(), count, k, s.r), column_major_batch(s.a_flat.data(), count, k, k),
                   column_major_batch(s.b_flat.data(), count, k, s.r), matrix_structure::hermitian);
      for (int m = 0; m < count; ++m) {
        ASSERT_TRUE(status[m].matrix.ok && status[m].solve.ok) << "k=" << k << " m=" << m;
        EXPECT_TRUE(status[m].matrix.positive_definite);
        const cmat want = reference(s, m);
        cmat got(k, s.r);
        for (int j = 0; j < s.r; ++j)
          for (int i = 0; i < k; ++i) got(i, j) = cf64(x[static_cast<std::size_t>((m * s.r + j) * k + i)]);
        // f32 rounding amplified by the condition number (HᴴH + 0.1 I: below ~1e3 here).
        const Eigen::VectorXd ev = Eigen::SelfAdjointEigenSolver<cmat>(s.a[m]).eigenvalues();
        const double cond = ev.maxCoeff() / ev.minCoeff();
        EXPECT_LT(relative(got, want), 4.0 * k * cond * std::numeric_limits<float>::epsilon())
            << "k=" << k << " antennas=" << antennas << " m=" << m;
        EXPECT_GT(relative(got, want), 0.0);  // really computed in single precision
      }
    }
  }
}

TEST(BatchSolver, DigitalF64MatchesPerMatrixF64ToDoubleRounding) {
  systems s(9, 8, 32, 3, 0.05, 7);
  auto batch = create_batch_solver({"digital-f64", {}}, 8, 1);
  std::vector<cf64> x(static_cast<std::size_t>(9 * 8 * 3));
  std::vector<batch_status> status(9);
  batch->solve(status, column_major_batch(x.data(), 9, 8, 3), column_major_batch(s.a_flat.data(), 9, 8, 8),
               column_major_batch(s.b_flat.data(), 9, 8, 3), matrix_structure::hermitian);
  for (int m = 0; m < 9; ++m) {
    ASSERT_TRUE(status[m].solve.ok);
    const Eigen::Map<const cmat> got(x.data() + m * 24, 8, 3);
    EXPECT_LT(relative(got, reference(s, m)), 1e-12);
  }
}

TEST(BatchSolver, AdapterRunsAPerMatrixBackendUnchanged) {
  systems s(5, 4, 8, 6, 0.2, 3);
  for (const char* name : {"digital-f64", "analog"}) {
    // The factory adapts analog itself; digital-f64 has a native batch backend, so the
    // adapter is built by hand around the per-matrix one.
    const bool native = has_native_batch({name, {}});
    EXPECT_EQ(native, std::string(name) == "digital-f64");
    std::unique_ptr<batch_solver> batch =
        native ? std::make_unique<per_matrix_batch_solver>(create_linear_solver({name, {}}, 4, 11), 4)
               : create_batch_solver({name, {}}, 4, 11);
    auto single = create_linear_solver({name, {}}, 4, 11);
    EXPECT_EQ(batch->name(), single->name());
    batch->reseed(5);
    single->reseed(5);
    std::vector<cf64> x(static_cast<std::size_t>(5 * 4 * 6));
    std::vector<batch_status> status(5);
    batch->solve(status, column_major_batch(x.data(), 5, 4, 6), column_major_batch(s.a_flat.data(), 5, 4, 4),
                 column_major_batch(s.b_flat.data(), 5, 4, 6), matrix_structure::hermitian);
    for (int m = 0; m < 5; ++m) {  // the same calls in the same order: bit-identical
      cmat want(4, 6);
      const matrix_status ms = single->set_matrix(s.a[m], matrix_structure::hermitian);
      const solve_status ss = single->solve(want, s.b[m]);
      const Eigen::Map<const cmat> got(x.data() + m * 24, 4, 6);
      EXPECT_EQ((got - want).norm(), 0.0) << name << " m=" << m;
      EXPECT_EQ(status[m].matrix.ok, ms.ok);
      EXPECT_EQ(status[m].solve.iterations, ss.iterations);
    }
  }
}

TEST(BatchSolver, CompactViewsAndF64InputGiveTheSameAnswerAsColumnMajorF32) {
  const int count = 11, k = 4, r = 3;
  systems s(count, k, 8, r, 0.1, 21);
  auto batch = create_batch_solver({"digital-f32", {}}, k, 1);
  const int lanes = batch->preference().lanes;
  const int groups = (count + lanes - 1) / lanes;
  // The same systems, converted to f32 by hand and packed compact.
  std::vector<float> a(static_cast<std::size_t>(groups * lanes * 2 * k * k), 0.0F);
  std::vector<float> b(static_cast<std::size_t>(groups * lanes * 2 * k * r), 0.0F);
  std::vector<float> x(b.size(), 0.0F);
  const auto av = compact_batch(a.data(), count, k, k, lanes);
  const auto bv = compact_batch(b.data(), count, k, r, lanes);
  for (int m = 0; m < count; ++m) {
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < k; ++i) av.set(m, i, j, cf32(s.a[m](i, j)));
    for (int j = 0; j < r; ++j)
      for (int i = 0; i < k; ++i) bv.set(m, i, j, cf32(s.b[m](i, j)));
  }
  std::vector<batch_status> st1(count), st2(count);
  batch->solve(st1, compact_batch(x.data(), count, k, r, lanes), compact_batch<const float>(a.data(), count, k, k, lanes),
               compact_batch<const float>(b.data(), count, k, r, lanes), matrix_structure::hermitian);
  std::vector<cf32> y(static_cast<std::size_t>(count * k * r));
  batch->solve(st2, column_major_batch(y.data(), count, k, r), column_major_batch(s.a_flat.data(), count, k, k),
               column_major_batch(s.b_flat.data(), count, k, r), matrix_structure::hermitian);
  const auto xv = compact_batch<const float>(x.data(), count, k, r, lanes);
  for (int m = 0; m < count; ++m) {
    EXPECT_TRUE(st1[m].solve.ok && st2[m].solve.ok);
    for (int j = 0; j < r; ++j)
      for (int i = 0; i < k; ++i) EXPECT_EQ(xv.get(m, i, j), y[static_cast<std::size_t>((m * r + j) * k + i)]);
  }
}

TEST(BatchSolver, SingularAndNonFiniteSystemsAreErasedWithoutDisturbingTheirNeighbours) {
  const int count = 10, k = 8, r = 2;
  systems s(count, k, 16, r, 0.0, 31);
  // 1: exactly singular (a user with no channel: a zero column of H); 4: non-finite; 6: zero matrix;
  // 7: near-singular beyond f32 (pivot ratio² below f32 epsilon, above f64's).
  cmat h(16, k);
  rng gen(5);
  gen.fill_complex_normal(h);
  h.col(3).setZero();
  s.a[1] = h.adjoint() * h;
  s.a[4](2, 5) = cf64(std::numeric_limits<double>::quiet_NaN(), 0.0);
  s.a[6].setZero();
  cmat q = cmat::Identity(k, k);
  q(k - 1, k - 1) = 1e-9;
  s.a[7] = q;
  s.flatten();
  for (const char* name : {"digital-f32", "digital-f64"}) {
    auto batch = create_batch_solver({name, {}}, k, 1);
    auto single = create_linear_solver({name, {}}, k, 1);
    std::vector<cf32> x(static_cast<std::size_t>(count * k * r), cf32(3.0F, 3.0F));
    std::vector<batch_status> status(count);
    batch->solve(status, column_major_batch(x.data(), count, k, r), column_major_batch(s.a_flat.data(), count, k, k),
                 column_major_batch(s.b_flat.data(), count, k, r), matrix_structure::hermitian);
    for (int m = 0; m < count; ++m) {
      // Same decision as the per-matrix backend of the same precision.
      const matrix_status want = single->set_matrix(s.a[m], matrix_structure::hermitian);
      EXPECT_EQ(status[m].matrix.ok, want.ok) << name << " m=" << m;
      EXPECT_EQ(status[m].matrix.positive_definite, want.positive_definite) << name << " m=" << m;
      const Eigen::Map<const Eigen::MatrixXcf> got(x.data() + m * k * r, k, r);
      if (!status[m].matrix.ok) {
        EXPECT_FALSE(status[m].solve.ok);
        EXPECT_EQ(got.norm(), 0.0F) << "an unusable system's answer is zero, not garbage";
      } else {
        EXPECT_TRUE(got.allFinite());
      }
    }
    for (const int m : {1, 4, 6}) EXPECT_FALSE(status[m].matrix.ok) << name << " m=" << m;
    EXPECT_TRUE(status[0].solve.ok && status[2].solve.ok && status[9].solve.ok);
    EXPECT_EQ(status[7].matrix.ok, std::string(name) == "digital-f64");
  }
}

// The singularity test compares pivots; an f64 lane started its smallest pivot at FLT_MAX,
// so A = 1e60·I (condition 1) was declared singular. Scale does not make a matrix singular.
TEST(BatchSolver, F64PivotsBeyondTheFloatRangeAreNotSingular) {
  const int k = 3;
  for (const double scale : {1e-60, 1.0, 1e39, 1e60, 1e100}) {
    const cmat a = scale * cmat::Identity(k, k);
    const cmat b = cmat::Ones(k, 2);
    cmat x(k, 2);
    auto batch = create_batch_solver({"digital-f64", {}}, k, 1);
    std::vector<batch_status> status(1);
    batch->solve(status, column_major_batch(x.data(), 1, k, 2), column_major_batch(static_cast<const cf64*>(a.data()), 1, k, k),
                 column_major_batch(static_cast<const cf64*>(b.data()), 1, k, 2), matrix_structure::hermitian);
    EXPECT_TRUE(status[0].matrix.ok) << scale;
    EXPECT_TRUE(status[0].solve.ok) << scale;
    EXPECT_NEAR(x(0, 0).real() * scale, 1.0, 1e-14) << scale;
  }
}

TEST(BatchSolver, GeneralMatricesAndBadShapes) {
  const int count = 3, k = 4;
  std::vector<cmat> a;
  rng gen(9);
  std::vector<cf64> a_flat, b_flat;
  for (int m = 0; m < count; ++m) {
    cmat g(k, k), b(k, 1);
    gen.fill_complex_normal(g);
    gen.fill_complex_normal(b);
    a_flat.insert(a_flat.end(), g.data(), g.data() + g.size());
    b_flat.insert(b_flat.end(), b.data(), b.data() + b.size());
    a.push_back(g);
  }
  auto batch = create_batch_solver({"digital-f32", {}}, k, 1);
  std::vector<cf32> x(static_cast<std::size_t>(count * k));
  std::vector<batch_status> status(count);
  batch->solve(status, column_major_batch(x.data(), count, k, 1), column_major_batch(a_flat.data(), count, k, k),
               column_major_batch(b_flat.data(), count, k, 1), matrix_structure::general);
  for (int m = 0; m < count; ++m) {
    ASSERT_TRUE(status[m].solve.ok);
    const Eigen::VectorXcd xm = Eigen::Map<const Eigen::VectorXcf>(x.data() + m * k, k).cast<cf64>();
    const Eigen::Map<const Eigen::VectorXcd> bm(b_flat.data() + m * k, k);
    EXPECT_LT((a[m] * xm - bm).norm() / bm.norm(), 1e-4);
  }
  // Status span of the wrong size, then mismatched shapes: nothing solved, X zeroed.
  std::vector<batch_status> short_status(count - 1);
  batch->solve(short_status, column_major_batch(x.data(), count, k, 1), column_major_batch(a_flat.data(), count, k, k),
               column_major_batch(b_flat.data(), count, k, 1), matrix_structure::hermitian);
  for (const auto& st : short_status) EXPECT_FALSE(st.matrix.ok || st.solve.ok);
  for (const cf32& v : x) EXPECT_EQ(v, cf32{});
  batch->solve(status, column_major_batch(x.data(), count, k, 1), column_major_batch(a_flat.data(), count, k, k),
               column_major_batch(b_flat.data(), count, k - 1, 1), matrix_structure::hermitian);
  for (const auto& st : status) EXPECT_FALSE(st.solve.ok);
}

}  // namespace
}  // namespace amimo::solver

namespace amimo::solver {
namespace {

// "gpu" exists only in CUDA builds and runs only with a device: everywhere else asking for
// it is a config_error that says which is missing (tests/gpu checks the backend itself).
TEST(BatchSolverFactory, GpuBackendIsAClearErrorWhereItCannotRun) {
  try {
    auto gpu = create_batch_solver({"gpu", {}}, 4, 1);
    EXPECT_EQ(gpu->name(), "gpu");  // a CUDA build on a machine with a device
    EXPECT_TRUE(has_native_batch({"gpu", {}}));
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("no CUDA device") != std::string::npos || what.find("no CUDA (configure") != std::string::npos)
        << what;
    EXPECT_THROW(validate_solver_spec({"gpu", {}}), config_error);
  }
}

}  // namespace
}  // namespace amimo::solver
