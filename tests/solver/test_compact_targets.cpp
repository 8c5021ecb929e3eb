// The compact kernels and group loads on every SIMD target this machine runs (AVX-512,
// AVX2, the one-lane scalar target): this file is compiled once per target with Highway's
// foreach_target.h, and each test calls every runnable target's code in turn. (Compiled
// once with the build's flags — -march=x86-64-v3, Highway's SSE4 targets disabled — the
// headers' static target is Highway's scalar one, one lane: the vector code, register
// tiles, transposes and masks, went untested at this level.)
//
// Per-target code takes and returns plain float arrays in the compact layout (element e,
// part p = 0 real / 1 imaginary, lane l at (2e + p)·L + l); the references, Eigen and the
// test framework's containers stay in the target-independent part below.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "solver/test_compact_targets.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <amimo/solver/batch_solver.h>
#include <amimo/solver/compact_io.h>
#include <amimo/solver/compact_kernels.h>

#include <cstddef>
#include <type_traits>

HWY_BEFORE_NAMESPACE();
namespace amimo::solver::HWY_NAMESPACE {

using VF = simd::HWY_NAMESPACE::lanes<float>;

// f32 lanes of this target (systems per group).
int TargetLanes() { return VF::size; }

// count vectors from / to plain floats (L per vector).
void ToLanes(const float* from, int count, VF* to) {
  alignas(64) float v[VF::size];
  for (int e = 0; e < count; ++e) {
    for (int l = 0; l < VF::size; ++l) v[l] = from[e * VF::size + l];
    to[e] = VF::load(v);
  }
}
void FromLanes(const VF* from, int count, float* to) {
  alignas(64) float v[VF::size];
  for (int e = 0; e < count; ++e) {
    from[e].store(v);
    for (int l = 0; l < VF::size; ++l) to[e * VF::size + l] = v[l];
  }
}

// Fixed-size work buffers (the tests' largest, 70 × 16, fills one exactly): no std::vector
// of a shared type is instantiated in per-target code.
constexpr int kMaxVectors = 2 * 70 * 16;

// C = Hᴴ B (k × m) with compact::adjoint_multiply in R × C register tiles (shape 0: 4×2,
// 1: 6×1, 2: 2×2, 3: 5×3).
template <int R, int C>
void AdjointMultiplyShape(const float* h, const float* b, int n, int k, int m, float* c) {
  static VF hv[kMaxVectors], bv[kMaxVectors], cv[kMaxVectors];
  ToLanes(h, 2 * n * k, hv);
  ToLanes(b, 2 * n * m, bv);
  compact::HWY_NAMESPACE::adjoint_multiply<VF, R, C>(cv, hv, bv, n, k, m);
  FromLanes(cv, 2 * k * m, c);
}
void AdjointMultiply(int shape, const float* h, const float* b, int n, int k, int m, float* c) {
  switch (shape) {
    case 0: return AdjointMultiplyShape<4, 2>(h, b, n, k, m, c);
    case 1: return AdjointMultiplyShape<6, 1>(h, b, n, k, m, c);
    case 2: return AdjointMultiplyShape<2, 2>(h, b, n, k, m, c);
    default: return AdjointMultiplyShape<5, 3>(h, b, n, k, m, c);
  }
}

// A = HᴴH + reg·I (k × k) with compact::gram in the same tile shapes.
template <int R, int C>
void GramShape(const float* h, int n, int k, float reg, float* a) {
  static VF hv[kMaxVectors], av[kMaxVectors];
  ToLanes(h, 2 * n * k, hv);
  compact::HWY_NAMESPACE::gram<VF, R, C>(av, hv, n, k, VF::broadcast(reg));
  FromLanes(av, 2 * k * k, a);
}
void Gram(int shape, const float* h, int n, int k, float reg, float* a) {
  switch (shape) {
    case 0: return GramShape<4, 2>(h, n, k, reg, a);
    case 1: return GramShape<6, 1>(h, n, k, reg, a);
    case 2: return GramShape<2, 2>(h, n, k, reg, a);
    default: return GramShape<5, 3>(h, n, k, reg, a);
  }
}

// X = (HᴴH + reg·I)⁻¹ B through compact::gram, cholesky and cholesky_solve with `columns`
// (1 or 2) right-hand sides per pass.
void CholeskySolve(int columns, const float* h, int n, int k, float reg, const float* b, int m, float* x) {
  static VF hv[kMaxVectors], av[kMaxVectors], xv[kMaxVectors], inv_diag[16];
  ToLanes(h, 2 * n * k, hv);
  ToLanes(b, 2 * k * m, xv);
  compact::HWY_NAMESPACE::gram(av, hv, n, k, VF::broadcast(reg));
  VF failed, min_root, max_root;
  compact::HWY_NAMESPACE::cholesky(av, inv_diag, k, failed, min_root, max_root);
  if (columns == 1) {
    compact::HWY_NAMESPACE::cholesky_solve<VF, 1>(xv, av, inv_diag, k, m);
  } else {
    compact::HWY_NAMESPACE::cholesky_solve<VF, 2>(xv, av, inv_diag, k, m);
  }
  FromLanes(xv, 2 * k * m, x);
}

// Group g of a view through compact::load_group (pad on the padding lanes' diagonals):
// the group's 2·rows·cols vectors into out, the non-finite lane mask returned.
template <typename Real>
unsigned LoadGroupOf(const matrix_batch<const Real>& view, int g, float pad, float* out) {
  static VF group[kMaxVectors];
  const unsigned bad = compact::HWY_NAMESPACE::load_group(group, view, g, pad);
  FromLanes(group, 2 * view.rows * view.cols, out);
  return bad;
}
unsigned LoadGroupF32(const matrix_batch<const float>& view, int g, float pad, float* out) {
  return LoadGroupOf(view, g, pad, out);
}
unsigned LoadGroupF64(const matrix_batch<const double>& view, int g, float pad, float* out) {
  return LoadGroupOf(view, g, pad, out);
}

// The lanes in `write` of a group (2·rows·cols vectors from plain floats) into group g of
// an f64 view through compact::store_group, the lanes in `zero` as zeros.
template <typename Real>
void StoreGroupOf(const float* group, const matrix_batch<Real>& view, int g, unsigned write, unsigned zero) {
  static VF lanes[kMaxVectors];
  ToLanes(group, 2 * view.rows * view.cols, lanes);
  compact::HWY_NAMESPACE::store_group(view, lanes, g, write, zero);
}
void StoreGroupF64(const float* group, const matrix_batch<double>& view, int g, unsigned write, unsigned zero) {
  StoreGroupOf(group, view, g, write, zero);
}
void StoreGroupF32(const float* group, const matrix_batch<float>& view, int g, unsigned write, unsigned zero) {
  StoreGroupOf(group, view, g, write, zero);
}

}  // namespace amimo::solver::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <Eigen/Cholesky>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace amimo::solver {

HWY_EXPORT(TargetLanes);
HWY_EXPORT(AdjointMultiply);
HWY_EXPORT(Gram);
HWY_EXPORT(CholeskySolve);
HWY_EXPORT(LoadGroupF32);
HWY_EXPORT(LoadGroupF64);
HWY_EXPORT(StoreGroupF64);
HWY_EXPORT(StoreGroupF32);

namespace {

// f(L) once per target this machine runs, with that target's code dispatched (L: its
// f32 lanes, checked against the target's width), then the real CPU's targets restored.
template <typename F>
void for_every_target(F&& f) {
  const std::vector<std::int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  for (const std::int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    const int lanes = HWY_DYNAMIC_DISPATCH(TargetLanes)();
    EXPECT_EQ(lanes, target == HWY_AVX3 ? 16 : target == HWY_AVX2 ? 8 : 1);
    f(lanes);
  }
  hwy::SetSupportedTargetsForTest(0);
}

// L random f32 matrices (rows × cols, column-major) and their compact layout.
struct lane_matrices {
  int lanes, rows, cols;
  std::vector<std::vector<float>> re, im;  // [lane][element]
  std::vector<float> packed;               // (2e + part)·L + l
  lane_matrices(int lanes_, int rows_, int cols_, rng& gen)
      : lanes(lanes_),
        rows(rows_),
        cols(cols_),
        re(static_cast<std::size_t>(lanes_), std::vector<float>(static_cast<std::size_t>(rows_ * cols_))),
        im(re) {
    for (int l = 0; l < lanes; ++l) {
      for (int e = 0; e < rows * cols; ++e) {
        re[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)] = static_cast<float>(gen.normal());
        im[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)] = static_cast<float>(gen.normal());
      }
    }
    pack();
  }
  void pack() {
    packed.assign(static_cast<std::size_t>(2 * rows * cols * lanes), 0.0F);
    for (int e = 0; e < rows * cols; ++e) {
      for (int l = 0; l < lanes; ++l) {
        packed[static_cast<std::size_t>((2 * e) * lanes + l)] = re[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)];
        packed[static_cast<std::size_t>((2 * e + 1) * lanes + l)] = im[static_cast<std::size_t>(l)][static_cast<std::size_t>(e)];
      }
    }
  }
};

// Value of lane l of vector `vector` in a compact float array of `lanes` lanes.
float at(const std::vector<float>& v, int lanes, int vector, int l) {
  return v[static_cast<std::size_t>(vector * lanes + l)];
}

constexpr int kShapes = 4;
const char* const kShapeNames[kShapes] = {"4x2", "6x1", "2x2", "5x3"};

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
// takes: 9 antennas in one range, 70 in three), and within rounding of the exact product in
// double, for row counts that take each tile height, full and partial, in every tile shape.
TEST(CompactKernels, AdjointMultiplyIsHAdjointTimesBInEveryLaneOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(57);
    for (const int n : {9, 70}) {
      for (const int k : {1, 4, 5, 6, 11, 16}) {
        const int m = 4;  // a column left over at three columns per tile
        const lane_matrices h(L, n, k, gen), b(L, n, m, gen);
        for (int shape = 0; shape < kShapes; ++shape) {
          std::vector<float> c(static_cast<std::size_t>(2 * k * m * L));
          HWY_DYNAMIC_DISPATCH(AdjointMultiply)(shape, h.packed.data(), b.packed.data(), n, k, m, c.data());
          for (int l = 0; l < L; ++l) {
            for (int j = 0; j < m; ++j) {
              for (int i = 0; i < k; ++i) {
                const int e = j * k + i;
                const cf32 want = reference_dot(h, i, b, j, l);
                ASSERT_EQ(at(c, L, 2 * e, l), want.real())
                    << kShapeNames[shape] << " n=" << n << " k=" << k << " lane " << l << " element " << e;
                ASSERT_EQ(at(c, L, 2 * e + 1, l), want.imag())
                    << kShapeNames[shape] << " n=" << n << " k=" << k << " lane " << l << " element " << e;
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
        }
      }
    }
  });
}

// compact::gram (A = HᴴH + reg I): the lower triangle bit for bit the reference sums, the
// upper triangle their exact conjugates, the diagonal real plus reg; with two equal
// columns of H the entries formed by the same sums from each are bit-equal; in one antenna
// range and in several, for every tile shape.
TEST(CompactKernels, GramIsTheReferenceSumInEveryLaneAndHermitianOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(58);
    for (const int n : {9, 64, 70}) {
      for (const int k : {1, 5, 6, 11, 16}) {
        lane_matrices h(L, n, k, gen);
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
        for (int shape = 0; shape < kShapes; ++shape) {
          std::vector<float> ag(static_cast<std::size_t>(2 * k * k * L));
          HWY_DYNAMIC_DISPATCH(Gram)(shape, h.packed.data(), n, k, reg, ag.data());
          for (int l = 0; l < L; ++l) {
            for (int j = 0; j < k; ++j) {
              for (int i = j; i < k; ++i) {
                const cf32 sum = reference_dot(h, i, h, j, l);
                const int lower = j * k + i, upper = i * k + j;
                const std::string where = std::string(kShapeNames[shape]) + " n=" + std::to_string(n) +
                                          " k=" + std::to_string(k) + " lane " + std::to_string(l) + " (" +
                                          std::to_string(i) + ", " + std::to_string(j) + ")";
                if (i == j) {
                  ASSERT_EQ(at(ag, L, 2 * lower, l), sum.real() + reg) << where;
                  ASSERT_EQ(at(ag, L, 2 * lower + 1, l), 0.0F) << where;
                  continue;
                }
                ASSERT_EQ(at(ag, L, 2 * lower, l), sum.real()) << where;
                ASSERT_EQ(at(ag, L, 2 * lower + 1, l), sum.imag()) << where;
                ASSERT_EQ(at(ag, L, 2 * upper, l), sum.real()) << where;
                ASSERT_EQ(at(ag, L, 2 * upper + 1, l), -sum.imag()) << where;
              }
            }
            if (k >= 5) {                    // the entries summed from column 4 equal those summed from column 1
              for (int j = 5; j < k; ++j) {  // rows below both: A(j, 4) and A(j, 1)
                EXPECT_EQ(at(ag, L, 2 * (4 * k + j), l), at(ag, L, 2 * (1 * k + j), l)) << "lane " << l << " row " << j;
                EXPECT_EQ(at(ag, L, 2 * (4 * k + j) + 1, l), at(ag, L, 2 * (1 * k + j) + 1, l))
                    << "lane " << l << " row " << j;
              }
              EXPECT_EQ(at(ag, L, 2 * 4, l), at(ag, L, 2 * 1, l)) << "lane " << l;  // A(4, 0) and A(1, 0)
              EXPECT_EQ(at(ag, L, 2 * 4 + 1, l), at(ag, L, 2 * 1 + 1, l)) << "lane " << l;
              EXPECT_EQ(at(ag, L, 2 * (4 * k + 4), l), at(ag, L, 2 * (1 * k + 1), l)) << "lane " << l;  // the diagonals
            }
          }
        }
      }
    }
  });
}

// compact::cholesky_solve with one and two columns per pass (AVX2's and AVX-512's) against
// Eigen in double: every user count 1 … 7 and 16 (odd ones end on a row outside the row
// pairs), right-hand-side counts that leave a column over.
TEST(CompactKernels, CholeskySolveMatchesEigenForEveryColumnBlockingOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(59);
    for (const int k : {1, 2, 3, 4, 5, 6, 7, 16}) {
      for (const int m : {1, 3, 4}) {
        const int n = 2 * k + 2;
        const lane_matrices h(L, n, k, gen), b(L, k, m, gen);
        for (const int columns : {1, 2}) {
          std::vector<float> x(static_cast<std::size_t>(2 * k * m * L));
          HWY_DYNAMIC_DISPATCH(CholeskySolve)(columns, h.packed.data(), n, k, 0.5F, b.packed.data(), m, x.data());
          for (int l = 0; l < L; ++l) {
            Eigen::MatrixXcd hl(n, k), bl(k, m);
            for (int e = 0; e < n * k; ++e) hl.data()[e] = cf64(h.re[l][e], h.im[l][e]);
            for (int e = 0; e < k * m; ++e) bl.data()[e] = cf64(b.re[l][e], b.im[l][e]);
            const Eigen::MatrixXcd al = hl.adjoint() * hl + 0.5 * Eigen::MatrixXcd::Identity(k, k);
            const Eigen::MatrixXcd want = al.llt().solve(bl);
            double err = 0.0;
            for (int e = 0; e < k * m; ++e) {
              err = std::max(err, std::abs(cf64(at(x, L, 2 * e, l), at(x, L, 2 * e + 1, l)) - want.data()[e]));
            }
            EXPECT_LT(err, 1e-4 * (1.0 + want.cwiseAbs().maxCoeff()))
                << columns << " columns, k=" << k << " m=" << m << " lane " << l;
          }
        }
      }
    }
  });
}

// Loads every group of a view and checks element (i, j) of system m in lane m % L of group
// m / L, converted to f32; lanes of systems in `flagged` come back in the returned mask and
// as padding (pad on the diagonal, 0 elsewhere), as do the last group's unused lanes.
template <typename Real>
void check_group_loads(int L, const matrix_batch<const Real>& view, const std::vector<std::complex<Real>>& want,
                       const std::vector<int>& flagged = {}) {
  const int rows = view.rows, cols = view.cols, count = view.count;
  const float pad = 3.0F;
  std::vector<float> group(static_cast<std::size_t>(2 * rows * cols * L));
  for (int g = 0; g < (count + L - 1) / L; ++g) {
    unsigned bad = 0;
    if constexpr (std::is_same_v<Real, float>) {
      bad = HWY_DYNAMIC_DISPATCH(LoadGroupF32)(view, g, pad, group.data());
    } else {
      bad = HWY_DYNAMIC_DISPATCH(LoadGroupF64)(view, g, pad, group.data());
    }
    unsigned want_bad = 0;
    for (const int m : flagged) {
      if (m / L == g) want_bad |= 1U << (m % L);
    }
    EXPECT_EQ(bad, want_bad) << "group " << g << " rows " << rows;
    for (int j = 0; j < cols; ++j) {
      for (int i = 0; i < rows; ++i) {
        for (int l = 0; l < L; ++l) {
          const int m = g * L + l;
          const float re = at(group, L, 2 * (j * rows + i), l), im = at(group, L, 2 * (j * rows + i) + 1, l);
          if (m < count && ((want_bad >> l) & 1U) == 0) {
            const auto w = want[static_cast<std::size_t>((m * cols + j) * rows + i)];
            ASSERT_EQ(re, static_cast<float>(w.real())) << m << " " << i << " " << j;
            ASSERT_EQ(im, static_cast<float>(w.imag())) << m << " " << i << " " << j;
          } else {
            ASSERT_EQ(re, i == j ? pad : 0.0F) << m << " " << i << " " << j;
            ASSERT_EQ(im, 0.0F) << m << " " << i << " " << j;
          }
        }
      }
    }
  }
}

// Systems stored one system after another ([m][j][i]) rearranged so that systems are one
// complex apart: element (i, j) of system m at (j·rows + i)·count + m (the FFT grid's layout).
std::vector<cf32> adjacent_layout(const std::vector<cf32>& v, int count, int rows, int cols) {
  std::vector<cf32> grid(v.size());
  for (int m = 0; m < count; ++m) {
    for (int j = 0; j < cols; ++j) {
      for (int i = 0; i < rows; ++i) {
        grid[static_cast<std::size_t>((j * rows + i) * count + m)] = v[static_cast<std::size_t>((m * cols + j) * rows + i)];
      }
    }
  }
  return grid;
}
matrix_batch<const float> adjacent_view(const std::vector<cf32>& grid, int count, int rows, int cols) {
  return {reinterpret_cast<const float*>(grid.data()), count, rows, cols, batch_format::column_major, count,
          std::ptrdiff_t{rows} * count, 1, 1};
}

// Every path of compact::load_group (dense column-major, rows contiguous with a register
// transpose, systems one complex apart as in the receiver's FFT grid, any strides) puts
// element (i, j) of system m in lane m % L of group m / L, converted to the group's type;
// padding lanes of the last group get pad on the diagonal.
TEST(CompactLoad, EveryLayoutLoadsTheSameGroupsOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(31);
    for (const int rows : {3, 8, 9, 16}) {
      const int cols = 5, count = 2 * L + 3;  // two full groups and a partial one
      std::vector<cf32> v32(static_cast<std::size_t>(count * rows * cols));  // [m][j][i]
      for (auto& x : v32) x = cf32(static_cast<float>(gen.normal()), static_cast<float>(gen.normal()));
      std::vector<cf64> v64(v32.begin(), v32.end());
      // Dense column-major, one system after another (rows contiguous).
      check_group_loads(L, column_major_batch(static_cast<const cf32*>(v32.data()), count, rows, cols), v32);
      check_group_loads(L, column_major_batch(static_cast<const cf64*>(v64.data()), count, rows, cols), v64);
      // Systems one complex apart, as in the receiver's FFT grid.
      const std::vector<cf32> grid = adjacent_layout(v32, count, rows, cols);
      check_group_loads(L, adjacent_view(grid, count, rows, cols), v32);
      // Rows not contiguous and systems apart (the generic strided path): rows reversed in memory.
      std::vector<cf64> odd(v64.size());
      for (int m = 0; m < count; ++m)
        for (int j = 0; j < cols; ++j)
          for (int i = 0; i < rows; ++i)
            odd[static_cast<std::size_t>((m * cols + j) * rows + (rows - 1 - i))] = v64[static_cast<std::size_t>((m * cols + j) * rows + i)];
      const matrix_batch<const double> reversed{reinterpret_cast<const double*>(odd.data()) + 2 * (rows - 1), count,
                                                rows, cols, batch_format::column_major, -1, rows,
                                                std::ptrdiff_t{rows} * cols, 1};
      check_group_loads(L, reversed, v64);
    }
  });
}

// A non-finite element marks its own lane only, in a full group and in the batch's last,
// partial group (whose unused lanes read the last system again in the rows-contiguous
// transposes): that lane and the padding lanes come back as pad·I, in every layout.
TEST(CompactLoad, NonFiniteSystemsAreFlaggedByLaneAndLoadedAsPaddingOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(32);
    // The loaders test finiteness as they load: the flagged values sit in an eight-row
    // transpose (AVX-512), a four-row one, or a row loaded lane by lane, by the row count.
    for (const int rows : {4, 8, 9, 12}) {
      const int cols = 3, count = L + 3;
      std::vector<cf32> v(static_cast<std::size_t>(count * rows * cols));
      for (auto& x : v) x = cf32(static_cast<float>(gen.normal()), static_cast<float>(gen.normal()));
      const std::vector<int> flagged = {2, count - 1};  // count − 1: the last system, in the partial group
      v[static_cast<std::size_t>((2 * cols + 1) * rows + rows - 1)] = cf32(std::numeric_limits<float>::infinity(), 0.0F);
      v[static_cast<std::size_t>(((count - 1) * cols + cols - 1) * rows)] = cf32(0.0F, std::numeric_limits<float>::quiet_NaN());
      check_group_loads(L, column_major_batch(static_cast<const cf32*>(v.data()), count, rows, cols), v, flagged);
      const std::vector<cf32> grid = adjacent_layout(v, count, rows, cols);
      check_group_loads(L, adjacent_view(grid, count, rows, cols), v, flagged);
    }
  });
}

// compact::store_group into column-major views (f64 and f32), dense (systems one after
// another: full groups go through the register transposes, eight rows at a time on AVX-512
// and four on AVX2, the rest lane by lane) and with systems one complex apart (the
// detector's equalised symbols: a full group is one contiguous run per element), the last
// group partial: lanes in `write` land at element (i, j) of system g·L + l, those also in
// `zero` as zeros, every other value (lanes not written, systems past the batch) untouched.
template <typename Real>
void check_group_stores(int L, int rows, bool adjacent, unsigned write_mask, rng& gen) {
  using cplx = std::complex<Real>;
  const int cols = 3, count = 2 * L + 3;
  const cplx untouched(-7.0, 7.0);
  // count systems and one more after them (must stay untouched).
  std::vector<cplx> out(static_cast<std::size_t>((count + 1) * rows * cols), untouched);
  const matrix_batch<Real> view =
      adjacent ? matrix_batch<Real>{reinterpret_cast<Real*>(out.data()), count, rows, cols, batch_format::column_major,
                                    count + 1, std::ptrdiff_t{rows} * (count + 1), 1, 1}
               : matrix_batch<Real>{reinterpret_cast<Real*>(out.data()), count, rows, cols, batch_format::column_major,
                                    1, rows, std::ptrdiff_t{rows} * cols, 1};
  const auto index = [&](int m, int i, int j) {
    return static_cast<std::size_t>(adjacent ? (j * rows + i) * (count + 1) + m : (m * cols + j) * rows + i);
  };
  std::vector<std::vector<float>> groups;
  for (int g = 0; g < (count + L - 1) / L; ++g) {
    std::vector<float> group(static_cast<std::size_t>(2 * rows * cols * L));
    for (auto& x : group) x = static_cast<float>(gen.normal());
    // All lanes written (the fast paths), or some, one of them as zeros (the general path).
    const unsigned zero = write_mask == ~0U ? 0U : 1U << (g % L);
    if constexpr (std::is_same_v<Real, double>) {
      HWY_DYNAMIC_DISPATCH(StoreGroupF64)(group.data(), view, g, write_mask, zero);
    } else {
      HWY_DYNAMIC_DISPATCH(StoreGroupF32)(group.data(), view, g, write_mask, zero);
    }
    groups.push_back(std::move(group));
  }
  for (int m = 0; m <= count; ++m) {
    const int g = m / L, l = m % L;
    const bool written = m < count && ((write_mask >> l) & 1U) != 0;
    const bool zeroed = written && write_mask != ~0U && l == g % L;
    for (int j = 0; j < cols; ++j) {
      for (int i = 0; i < rows; ++i) {
        const cplx got = out[index(m, i, j)];
        cplx want = untouched;
        if (zeroed) {
          want = cplx(0.0, 0.0);
        } else if (written) {
          const auto& group = groups[static_cast<std::size_t>(g)];
          want = cplx(at(group, L, 2 * (j * rows + i), l), at(group, L, 2 * (j * rows + i) + 1, l));
        }
        ASSERT_EQ(got, want) << (adjacent ? "adjacent" : "dense") << " rows " << rows << " mask " << write_mask
                             << " system " << m << " (" << i << ", " << j << ")";
      }
    }
  }
}

TEST(CompactStore, EveryLaneLandsInItsSystemOnEveryTarget) {
  for_every_target([](int L) {
    rng gen(33);
    for (const int rows : {5, 8, 13, 16}) {  // leftover rows; one, one and a half, two transposes
      for (const bool adjacent : {false, true}) {
        for (const unsigned write_mask : {~0U, 0x5U}) {
          check_group_stores<double>(L, rows, adjacent, write_mask, gen);
          check_group_stores<float>(L, rows, adjacent, write_mask, gen);
        }
      }
    }
  });
}

}  // namespace
}  // namespace amimo::solver

#endif  // HWY_ONCE
