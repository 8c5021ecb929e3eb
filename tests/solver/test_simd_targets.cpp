// The batched kernels' run-time SIMD targets (solver/simd_target.h): every target this
// machine can run gives the same solutions and statuses as the one-lane scalar target.
// Targets compiled in but not runnable here (AVX3 without AVX-512) are reported, not run.

#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/simd_target.h>
#include <amimo/solver/solver_factory.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace amimo::simd {
namespace {

// Restores the best target when a test ends, whatever happened.
struct target_guard {
  ~target_guard() { use_target(""); }
};

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// The one-lane fallback: Highway names it EMU128 or SCALAR depending on the build.
std::string scalar_target() {
  for (const std::string& t : compiled_targets()) {
    if (t == "EMU128" || t == "SCALAR") return t;
  }
  return {};
}

TEST(SimdTarget, AllThreeWidthsAreCompiledAndTheBestRunnableIsUsed) {
  const std::vector<std::string> compiled = compiled_targets();
  EXPECT_TRUE(contains(compiled, "AVX3"));
  EXPECT_TRUE(contains(compiled, "AVX2"));
  ASSERT_FALSE(scalar_target().empty());
  const std::vector<std::string> runnable = runnable_targets();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(current_target(), runnable.front());
  EXPECT_TRUE(contains(runnable, scalar_target()));
  for (const std::string& t : compiled) {
    if (!contains(runnable, t)) std::printf("[ note     ] SIMD target %s is compiled but cannot run here: not tested\n", t.c_str());
  }
}

TEST(SimdTarget, UseTargetSwitchesAndRejectsUnknownOrUnsupportedTargets) {
  const target_guard restore;
  EXPECT_THROW(use_target("NEON"), config_error);
  for (const std::string& t : compiled_targets()) {
    if (contains(runnable_targets(), t)) {
      use_target(t);
      EXPECT_EQ(current_target(), t);
      EXPECT_EQ(current_f32_lanes(), t == "AVX3" ? 16 : t == "AVX2" ? 8 : 1);
    } else {
      EXPECT_THROW(use_target(t), config_error) << t;
    }
  }
  use_target("");
  EXPECT_EQ(current_target(), runnable_targets().front());
}

struct solved {
  std::vector<cf32> x32;
  std::vector<cf64> x64;
  std::vector<solver::batch_status> s32, s64;
};

// 21 systems (partial last group for every width) of size k, some exactly singular
// (two equal columns of H), one non-finite, solved in f32 and f64 on the current target.
solved solve_on_current_target(int k, int antennas) {
  constexpr int kCount = 21, kRhs = 5;
  rng gen(static_cast<std::uint64_t>(k * 1000 + antennas));
  std::vector<cf64> a, b;
  for (int m = 0; m < kCount; ++m) {
    cmat h(antennas, k), rhs(k, kRhs);
    gen.fill_complex_normal(h);
    gen.fill_complex_normal(rhs);
    if (m % 7 == 3 && k > 1) h.col(1) = h.col(0);
    cmat g = h.adjoint() * h;
    if (m % 7 != 3) g += 0.05 * cmat::Identity(k, k);
    if (m == 10) g(0, 0) = std::numeric_limits<double>::quiet_NaN();
    a.insert(a.end(), g.data(), g.data() + g.size());
    b.insert(b.end(), rhs.data(), rhs.data() + rhs.size());
  }
  solved out;
  out.x32.assign(static_cast<std::size_t>(kCount * k * kRhs), cf32(7.0F, 7.0F));
  out.x64.assign(static_cast<std::size_t>(kCount * k * kRhs), cf64(7.0, 7.0));
  out.s32.resize(kCount);
  out.s64.resize(kCount);
  auto f32 = solver::create_batch_solver({"digital-f32", {}}, k, 1);
  auto f64 = solver::create_batch_solver({"digital-f64", {}}, k, 1);
  EXPECT_EQ(f32->preference().lanes, current_f32_lanes());
  f32->solve(out.s32, solver::column_major_batch(out.x32.data(), kCount, k, kRhs),
             solver::column_major_batch(static_cast<const cf64*>(a.data()), kCount, k, k),
             solver::column_major_batch(static_cast<const cf64*>(b.data()), kCount, k, kRhs),
             solver::matrix_structure::hermitian);
  f64->solve(out.s64, solver::column_major_batch(out.x64.data(), kCount, k, kRhs),
             solver::column_major_batch(static_cast<const cf64*>(a.data()), kCount, k, k),
             solver::column_major_batch(static_cast<const cf64*>(b.data()), kCount, k, kRhs),
             solver::matrix_structure::hermitian);
  return out;
}

template <typename C>
double max_relative(const std::vector<C>& got, const std::vector<C>& want) {
  double err = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, static_cast<double>(std::abs(got[i] - want[i])));
    scale = std::max(scale, static_cast<double>(std::abs(want[i])));
  }
  return err / scale;
}

TEST(SimdTarget, EveryRunnableTargetSolvesBatchesAsTheScalarTarget) {
  const target_guard restore;
  for (const int k : {1, 3, 8, 16}) {
    use_target(scalar_target());
    const solved want = solve_on_current_target(k, 32);
    for (const std::string& t : runnable_targets()) {
      use_target(t);
      const solved got = solve_on_current_target(k, 32);
      for (std::size_t m = 0; m < want.s32.size(); ++m) {
        EXPECT_EQ(got.s32[m].matrix.ok, want.s32[m].matrix.ok) << t << " k=" << k << " m=" << m;
        EXPECT_EQ(got.s32[m].solve.ok, want.s32[m].solve.ok) << t << " k=" << k << " m=" << m;
        EXPECT_EQ(got.s32[m].matrix.positive_definite, want.s32[m].matrix.positive_definite) << t << " m=" << m;
        EXPECT_EQ(got.s64[m].matrix.ok, want.s64[m].matrix.ok) << t << " k=" << k << " m=" << m;
        EXPECT_EQ(got.s64[m].solve.ok, want.s64[m].solve.ok) << t << " k=" << k << " m=" << m;
      }
      // The same IEEE operations per lane: equal up to the compiler's freedom to fuse a
      // multiply and an add differently per target (a few ulps at most).
      EXPECT_LE(max_relative(got.x32, want.x32), 64 * std::numeric_limits<float>::epsilon()) << t << " k=" << k;
      EXPECT_LE(max_relative(got.x64, want.x64), 64 * std::numeric_limits<double>::epsilon()) << t << " k=" << k;
    }
  }
}

}  // namespace
}  // namespace amimo::simd
