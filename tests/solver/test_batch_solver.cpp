// The batch solver interface: the native digital batch backends (compact SIMD kernels
// across systems) against the per-matrix digital-f64 path, the per-matrix adapter against
// its backend, and singular, non-finite and misshapen batches.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/compact_io.h>
#include <amimo/solver/compact_kernels.h>
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

// Every path of compact::load_group (dense column-major, rows contiguous with a register
// transpose, systems one complex apart as in the receiver's FFT grid, any strides) puts
// element (i, j) of system m in lane m % L of group m / L, converted to the group's type;
// padding lanes of the last group get pad on the diagonal.
template <typename Source>
void check_group_loads(const matrix_batch<const Source>& view, const std::vector<std::complex<Source>>& want,
                       int rows, int cols, int count) {
  using V = simd::HWY_NAMESPACE::lanes<float>;  // the build's static target
  constexpr int L = V::size;
  std::vector<V> group(static_cast<std::size_t>(2 * rows * cols));
  for (int g = 0; g < (count + L - 1) / L; ++g) {
    const unsigned bad = compact::HWY_NAMESPACE::load_group(group.data(), view, g, 3.0F);
    EXPECT_EQ(bad, 0U);
    for (int j = 0; j < cols; ++j) {
      for (int i = 0; i < rows; ++i) {
        alignas(64) float re[L], im[L];
        group[static_cast<std::size_t>(2 * (j * rows + i))].store(re);
        group[static_cast<std::size_t>(2 * (j * rows + i) + 1)].store(im);
        for (int l = 0; l < L; ++l) {
          const int m = g * L + l;
          if (m < count) {
            const auto w = want[static_cast<std::size_t>((m * cols + j) * rows + i)];
            EXPECT_EQ(re[l], static_cast<float>(w.real())) << m << " " << i << " " << j;
            EXPECT_EQ(im[l], static_cast<float>(w.imag())) << m << " " << i << " " << j;
          } else {
            EXPECT_EQ(re[l], i == j ? 3.0F : 0.0F);
            EXPECT_EQ(im[l], 0.0F);
          }
        }
      }
    }
  }
}

TEST(CompactLoad, EveryLayoutLoadsTheSameGroups) {
  rng gen(31);
  for (const int rows : {3, 8, 9}) {
    const int cols = 5, count = 19;  // two full groups and a partial one (with AVX2)
    std::vector<cf32> v32(static_cast<std::size_t>(count * rows * cols));  // [m][j][i]
    for (auto& x : v32) x = cf32(static_cast<float>(gen.normal()), static_cast<float>(gen.normal()));
    std::vector<cf64> v64(v32.begin(), v32.end());
    // Dense column-major, one system after another (rows contiguous).
    check_group_loads(column_major_batch(static_cast<const cf32*>(v32.data()), count, rows, cols), v32, rows, cols, count);
    check_group_loads(column_major_batch(static_cast<const cf64*>(v64.data()), count, rows, cols), v64, rows, cols, count);
    // Systems one complex apart: element (i, j) of system m at (j·rows + i)·count + m.
    std::vector<cf32> grid(v32.size());
    for (int m = 0; m < count; ++m)
      for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i)
          grid[static_cast<std::size_t>((j * rows + i) * count + m)] = v32[static_cast<std::size_t>((m * cols + j) * rows + i)];
    const matrix_batch<const float> adjacent{reinterpret_cast<const float*>(grid.data()), count, rows, cols,
                                             batch_format::column_major, count, std::ptrdiff_t{rows} * count, 1, 1};
    check_group_loads(adjacent, v32, rows, cols, count);
    // Rows not contiguous and systems apart (the generic strided path): rows reversed in memory.
    std::vector<cf64> odd(v64.size());
    for (int m = 0; m < count; ++m)
      for (int j = 0; j < cols; ++j)
        for (int i = 0; i < rows; ++i)
          odd[static_cast<std::size_t>((m * cols + j) * rows + (rows - 1 - i))] = v64[static_cast<std::size_t>((m * cols + j) * rows + i)];
    const matrix_batch<const double> reversed{reinterpret_cast<const double*>(odd.data()) + 2 * (rows - 1), count, rows, cols,
                                              batch_format::column_major, -1, rows, std::ptrdiff_t{rows} * cols, 1};
    check_group_loads(reversed, v64, rows, cols, count);
  }
}

// Compact groups of L random f32 matrices (rows × cols) and the per-lane values they hold.
struct lane_matrices {
  using V = simd::HWY_NAMESPACE::lanes<float>;  // the build's static target
  static constexpr int L = V::size;
  int rows, cols;
  std::vector<V> group;
  std::vector<std::vector<float>> re, im;  // [lane][element], column-major
  lane_matrices(int rows_, int cols_, rng& gen)
      : rows(rows_),
        cols(cols_),
        group(static_cast<std::size_t>(2 * rows_ * cols_)),
        re(L, std::vector<float>(static_cast<std::size_t>(rows_ * cols_))),
        im(L, std::vector<float>(static_cast<std::size_t>(rows_ * cols_))) {
    for (int l = 0; l < L; ++l) {
      for (int e = 0; e < rows * cols; ++e) {
        re[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)] = static_cast<float>(gen.normal());
        im[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)] = static_cast<float>(gen.normal());
      }
    }
    pack();
  }
  void pack() {
    alignas(64) float lanes[L];
    for (int e = 0; e < rows * cols; ++e) {
      for (int part = 0; part < 2; ++part) {
        for (int l = 0; l < L; ++l) {
          lanes[l] = (part == 0 ? re : im)[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)];
        }
        group[static_cast<std::size_t>(2 * e + part)] = V::load(lanes);
      }
    }
  }
  float at(const std::vector<V>& g, int vector, int l) const {
    alignas(64) float lanes[L];
    g[static_cast<std::size_t>(vector)].store(lanes);
    return lanes[l];
  }
};

// f(R, C) for the register-tile shapes of compact::gram and adjoint_multiply: AVX-512's 4×2,
// AVX2's 6×1 and two others, all on the build's static target (the shape never changes a
// result, so every one must match the reference bit for bit).
template <typename F>
void for_each_tile_shape(F&& f) {
  f(std::integral_constant<int, 4>{}, std::integral_constant<int, 2>{});
  f(std::integral_constant<int, 6>{}, std::integral_constant<int, 1>{});
  f(std::integral_constant<int, 2>{}, std::integral_constant<int, 2>{});
  f(std::integral_constant<int, 5>{}, std::integral_constant<int, 3>{});
}

// Σ_a conj(h_ai) x_aj of lane l as the kernels sum it: one running sum per entry, antennas
// in order, the same four fused multiply-adds per antenna (fnma(a, b, c) = fma(−a, b, c)
// exactly), in scalar code.
cf32 reference_dot(const lane_matrices& h, int i, const lane_matrices& x, int j, int l) {
  float r = 0.0F, m = 0.0F;
  const auto& hr = h.re[static_cast<std::size_t>(l)];
  const auto& hi = h.im[static_cast<std::size_t>(l)];
  const auto& xr = x.re[static_cast<std::size_t>(l)];
  const auto& xi = x.im[static_cast<std::size_t>(l)];
  for (int a = 0; a < h.rows; ++a) {
    const auto p = static_cast<std::size_t>(i * h.rows + a), q = static_cast<std::size_t>(j * x.rows + a);
    r = std::fma(hr[p], xr[q], r);
    r = std::fma(hi[p], xi[q], r);
    m = std::fma(hr[p], xi[q], m);
    m = std::fma(-hi[p], xr[q], m);
  }
  return {r, m};
}

// compact::adjoint_multiply (C = Hᴴ B, the factored detector's HᴴY): per lane, bit for bit
// the one-running-sum-per-entry reference (whatever the antenna ranges and row blocks it
// takes: 9 antennas in one range, 70 in three), and within rounding of Eigen in double, for
// row counts that take each tile height, full and partial.
TEST(CompactKernels, AdjointMultiplyIsHAdjointTimesBInEveryLane) {
  constexpr int L = lane_matrices::L;
  rng gen(57);
  for (const int n : {9, 70}) {
    for (const int k : {1, 4, 5, 6, 11, 16}) {
      const int m = 4;  // a column left over at three columns per tile
      const lane_matrices h(n, k, gen), b(n, m, gen);
      for_each_tile_shape([&](auto rows, auto cols) {
        constexpr int R = decltype(rows)::value, C = decltype(cols)::value;
        std::vector<lane_matrices::V> cg(static_cast<std::size_t>(2 * k * m));
        compact::HWY_NAMESPACE::adjoint_multiply<lane_matrices::V, R, C>(cg.data(), h.group.data(), b.group.data(), n,
                                                                         k, m);
        for (int l = 0; l < L; ++l) {
          for (int j = 0; j < m; ++j) {
            for (int i = 0; i < k; ++i) {
              const int e = j * k + i;
              const cf32 want = reference_dot(h, i, b, j, l);
              ASSERT_EQ(h.at(cg, 2 * e, l), want.real())
                  << R << "x" << C << " n=" << n << " k=" << k << " lane " << l << " element " << e;
              ASSERT_EQ(h.at(cg, 2 * e + 1, l), want.imag())
                  << R << "x" << C << " n=" << n << " k=" << k << " lane " << l << " element " << e;
              cf64 exact{};
              for (int a = 0; a < n; ++a) {
                const auto p = static_cast<std::size_t>(i * n + a), q = static_cast<std::size_t>(j * n + a);
                exact += std::conj(cf64(h.re[l][p], h.im[l][p])) * cf64(b.re[l][q], b.im[l][q]);
              }
              EXPECT_NEAR(want.real(), exact.real(), 1e-5 * n);
              EXPECT_NEAR(want.imag(), exact.imag(), 1e-5 * n);
            }
          }
        }
      });
    }
  }
}

// compact::gram (A = HᴴH + reg I): the lower triangle bit for bit the reference sums, the
// upper triangle their exact conjugates, the diagonal real plus reg; with two equal
// columns of H the entries formed by the same sums from each are bit-equal; in one antenna
// range and in several, for every tile shape.
TEST(CompactKernels, GramIsTheReferenceSumInEveryLaneAndHermitian) {
  constexpr int L = lane_matrices::L;
  rng gen(58);
  for (const int n : {9, 64, 70}) {
    for (const int k : {1, 5, 6, 11, 16}) {
      lane_matrices h(n, k, gen);
      if (k >= 5) {  // column 4 a copy of column 1 in every lane
        for (int l = 0; l < L; ++l) {
          for (int a = 0; a < n; ++a) {
            h.re[l][static_cast<std::size_t>(4 * n + a)] = h.re[l][static_cast<std::size_t>(n + a)];
            h.im[l][static_cast<std::size_t>(4 * n + a)] = h.im[l][static_cast<std::size_t>(n + a)];
          }
        }
        h.pack();
      }
      const float reg = 0.25F;
      for_each_tile_shape([&](auto tile_rows, auto tile_cols) {
        constexpr int R = decltype(tile_rows)::value, C = decltype(tile_cols)::value;
        std::vector<lane_matrices::V> ag(static_cast<std::size_t>(2 * k * k));
        compact::HWY_NAMESPACE::gram<lane_matrices::V, R, C>(ag.data(), h.group.data(), n, k,
                                                             lane_matrices::V::broadcast(reg));
        for (int l = 0; l < L; ++l) {
          for (int j = 0; j < k; ++j) {
            for (int i = j; i < k; ++i) {
              const cf32 sum = reference_dot(h, i, h, j, l);
              const int lower = j * k + i, upper = i * k + j;
              const std::string where = std::to_string(R) + "x" + std::to_string(C) + " n=" + std::to_string(n) +
                                        " k=" + std::to_string(k) + " lane " + std::to_string(l) + " (" +
                                        std::to_string(i) + ", " + std::to_string(j) + ")";
              if (i == j) {
                ASSERT_EQ(h.at(ag, 2 * lower, l), sum.real() + reg) << where;
                ASSERT_EQ(h.at(ag, 2 * lower + 1, l), 0.0F) << where;
                continue;
              }
              ASSERT_EQ(h.at(ag, 2 * lower, l), sum.real()) << where;
              ASSERT_EQ(h.at(ag, 2 * lower + 1, l), sum.imag()) << where;
              ASSERT_EQ(h.at(ag, 2 * upper, l), sum.real()) << where;
              ASSERT_EQ(h.at(ag, 2 * upper + 1, l), -sum.imag()) << where;
            }
          }
          if (k >= 5) {                    // the entries summed from column 4 equal those summed from column 1
            for (int j = 5; j < k; ++j) {  // rows below both: A(j, 4) and A(j, 1)
              EXPECT_EQ(h.at(ag, 2 * (4 * k + j), l), h.at(ag, 2 * (1 * k + j), l)) << "lane " << l << " row " << j;
              EXPECT_EQ(h.at(ag, 2 * (4 * k + j) + 1, l), h.at(ag, 2 * (1 * k + j) + 1, l))
                  << "lane " << l << " row " << j;
            }
            EXPECT_EQ(h.at(ag, 2 * 4, l), h.at(ag, 2 * 1, l)) << "lane " << l;  // A(4, 0) and A(1, 0)
            EXPECT_EQ(h.at(ag, 2 * 4 + 1, l), h.at(ag, 2 * 1 + 1, l)) << "lane " << l;
            EXPECT_EQ(h.at(ag, 2 * (4 * k + 4), l), h.at(ag, 2 * (1 * k + 1), l)) << "lane " << l;  // the diagonals
          }
        }
      });
    }
  }
}

// compact::cholesky_solve with one and two columns per pass (AVX2's and AVX-512's), on the
// static target, against Eigen in double: every user count 1 … 7 and 16 (odd ones end on a
// row outside the row pairs), right-hand-side counts that leave a column over.
TEST(CompactKernels, CholeskySolveMatchesEigenForEveryColumnBlocking) {
  using V = lane_matrices::V;
  constexpr int L = lane_matrices::L;
  rng gen(59);
  for (const int k : {1, 2, 3, 4, 5, 6, 7, 16}) {
    for (const int m : {1, 3, 4}) {
      const lane_matrices h(2 * k + 2, k, gen), b(k, m, gen);
      std::vector<V> a(static_cast<std::size_t>(2 * k * k)), inv_diag(static_cast<std::size_t>(k));
      compact::HWY_NAMESPACE::gram(a.data(), h.group.data(), 2 * k + 2, k, V::broadcast(0.5F));
      V failed, min_root, max_root;
      compact::HWY_NAMESPACE::cholesky(a.data(), inv_diag.data(), k, failed, min_root, max_root);
      const auto check = [&](auto columns) {
        constexpr int C = decltype(columns)::value;
        std::vector<V> x = b.group;
        compact::HWY_NAMESPACE::cholesky_solve<V, C>(x.data(), a.data(), inv_diag.data(), k, m);
        for (int l = 0; l < L; ++l) {
          Eigen::MatrixXcd hl(2 * k + 2, k), bl(k, m);
          for (int e = 0; e < (2 * k + 2) * k; ++e) hl.data()[e] = cf64(h.re[l][e], h.im[l][e]);
          for (int e = 0; e < k * m; ++e) bl.data()[e] = cf64(b.re[l][e], b.im[l][e]);
          const Eigen::MatrixXcd al = hl.adjoint() * hl + 0.5 * Eigen::MatrixXcd::Identity(k, k);
          const Eigen::MatrixXcd want = al.llt().solve(bl);
          double err = 0.0;
          for (int e = 0; e < k * m; ++e) {
            err = std::max(err, std::abs(cf64(h.at(x, 2 * e, l), h.at(x, 2 * e + 1, l)) - want.data()[e]));
          }
          EXPECT_LT(err, 1e-4 * (1.0 + want.cwiseAbs().maxCoeff()))
              << C << " columns, k=" << k << " m=" << m << " lane " << l;
        }
      };
      check(std::integral_constant<int, 1>{});
      check(std::integral_constant<int, 2>{});
    }
  }
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
