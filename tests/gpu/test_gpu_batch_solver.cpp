// The factory's "gpu" batch backend. Without a CUDA device (CI, the build machine) the
// numerical checks GTEST_SKIP with the reason, and the missing device is checked to be a
// clear config_error; on a GPU machine they compare with the digital-f64 batch backend.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/gpu/batched_gpu_solver.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/solver_factory.h>

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace {

using namespace amimo;

std::string no_device_reason() {
  const gpu::device_info info = gpu::query_devices();
  return info.count > 0 ? std::string() : info.error;
}

TEST(GpuBatchSolver, IsANativeBatchBackendOfTheFactory) {
  EXPECT_TRUE(solver::has_native_batch({"gpu", {}}));
  EXPECT_THROW(solver::validate_solver_spec({"gpu", {{"iters", "2"}}}), config_error);
  // Per-matrix callers get a clear error, not a silent adapter.
  EXPECT_THROW((void)solver::create_linear_solver({"gpu", {}}, 4, 1), config_error);
}

TEST(GpuBatchSolver, WithoutADeviceValidationAndCreationSayWhy) {
  const std::string reason = no_device_reason();
  if (reason.empty()) GTEST_SKIP() << "a CUDA device is present";
  for (const bool create : {false, true}) {
    try {
      if (create) {
        (void)solver::create_batch_solver({"gpu", {}}, 4, 1);
      } else {
        solver::validate_solver_spec({"gpu", {}});
      }
      FAIL() << "no error without a device";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
    }
  }
}

// count HPD systems HᴴH + 0.05 I (one exactly singular, one non-finite, one indefinite)
// in f32 and f64 column-major and compact layouts, solved by "gpu" and by digital-f64.
TEST(GpuBatchSolver, MatchesTheDigitalF64BatchBackendInEveryLayout) {
  const std::string reason = no_device_reason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  for (const int k : {1, 4, 16}) {
    constexpr int kCount = 37, kRhs = 6, kAntennas = 32;
    rng gen(static_cast<std::uint64_t>(k));
    std::vector<cf64> a64, b64;
    for (int m = 0; m < kCount; ++m) {
      cmat h(kAntennas, k), rhs(k, kRhs);
      gen.fill_complex_normal(h);
      gen.fill_complex_normal(rhs);
      if (m == 5 && k > 1) h.col(1) = h.col(0);
      cmat g = h.adjoint() * h;
      if (m != 5) g += 0.05 * cmat::Identity(k, k);
      if (m == 9) g(0, 0) = std::numeric_limits<double>::quiet_NaN();
      if (m == 11) g = -g;  // negative definite: Cholesky fails, LDLT answers
      a64.insert(a64.end(), g.data(), g.data() + g.size());
      b64.insert(b64.end(), rhs.data(), rhs.data() + rhs.size());
    }
    const std::vector<cf32> a32(a64.begin(), a64.end()), b32(b64.begin(), b64.end());
    auto reference = solver::create_batch_solver({"digital-f64", {}}, k, 1);
    std::vector<cf64> want(static_cast<std::size_t>(kCount * k * kRhs));
    std::vector<solver::batch_status> want_status(kCount);
    reference->solve(want_status, solver::column_major_batch(want.data(), kCount, k, kRhs),
                     solver::column_major_batch(static_cast<const cf64*>(a64.data()), kCount, k, k),
                     solver::column_major_batch(static_cast<const cf64*>(b64.data()), kCount, k, kRhs),
                     solver::matrix_structure::hermitian);
    auto gpu = solver::create_batch_solver({"gpu", {}}, k, 1);
    EXPECT_EQ(gpu->name(), "gpu");
    EXPECT_EQ(gpu->preference().element, solver::element_type::f32);
    const auto check = [&](const std::vector<solver::batch_status>& status, const auto& x, const char* layout) {
      for (int m = 0; m < kCount; ++m) {
        const auto mm = static_cast<std::size_t>(m);
        const std::string where = std::string(layout) + " k=" + std::to_string(k) + " m=" + std::to_string(m);
        EXPECT_EQ(status[mm].solve.ok, want_status[mm].solve.ok) << where;
        if (!want_status[mm].solve.ok) continue;
        double err = 0.0, norm = 0.0;
        for (int e = 0; e < k * kRhs; ++e) {
          const std::size_t i = mm * static_cast<std::size_t>(k * kRhs) + static_cast<std::size_t>(e);
          err += std::norm(cf64(x[i]) - want[i]);
          norm += std::norm(want[i]);
        }
        EXPECT_LT(std::sqrt(err / norm), 1e-3) << where;  // FP32 on conditioning below ~1e3
      }
    };
    {  // f32 packed: copied to the device as it is
      std::vector<cf32> x(want.size(), cf32(7.0F, 7.0F));
      std::vector<solver::batch_status> status(kCount);
      gpu->solve(status, solver::column_major_batch(x.data(), kCount, k, kRhs),
                 solver::column_major_batch(a32.data(), kCount, k, k), solver::column_major_batch(b32.data(), kCount, k, kRhs),
                 solver::matrix_structure::hermitian);
      check(status, x, "f32");
    }
    {  // f64: converted once
      std::vector<cf64> x(want.size(), cf64(7.0, 7.0));
      std::vector<solver::batch_status> status(kCount);
      gpu->solve(status, solver::column_major_batch(x.data(), kCount, k, kRhs),
                 solver::column_major_batch(static_cast<const cf64*>(a64.data()), kCount, k, k),
                 solver::column_major_batch(static_cast<const cf64*>(b64.data()), kCount, k, kRhs),
                 solver::matrix_structure::hermitian);
      check(status, x, "f64");
    }
  }
}

}  // namespace
