// The CUDA batched solver: argument checks and the no-device error run everywhere; the
// numerical checks need a CUDA device and GTEST_SKIP without one (CI and the build machine
// have none).
#include <amimo/core/rng.h>
#include <amimo/gpu/batched_gpu_solver.h>

#include <gtest/gtest.h>
#include <Eigen/Cholesky>

#include <string>
#include <vector>

namespace {

using namespace amimo;

bool have_device() {
  return gpu::query_devices().count > 0;
}

TEST(GpuSolver, QueryNeverThrowsAndExplainsAMissingDevice) {
  const gpu::device_info info = gpu::query_devices();
  if (info.count == 0) {
    EXPECT_NE(info.error.find("no CUDA device"), std::string::npos) << info.error;
  } else {
    EXPECT_FALSE(info.name.empty());
  }
}

TEST(GpuSolver, BadSizesAreRejectedBeforeTouchingTheDevice) {
  EXPECT_THROW(gpu::batched_gpu_solver(0, 1, 1), std::invalid_argument);
  EXPECT_THROW(gpu::batched_gpu_solver(4, 0, 1), std::invalid_argument);
  EXPECT_THROW(gpu::batched_gpu_solver(4, 1, 0), std::invalid_argument);
}

TEST(GpuSolver, NoDeviceIsAClearError) {
  if (have_device()) GTEST_SKIP() << "a CUDA device is present";
  try {
    gpu::batched_gpu_solver solver(4, 2, 1);
    FAIL() << "constructed without a device";
  } catch (const gpu::gpu_error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(GpuSolver, SolvesBatchedHermitianSystemsLikeEigen) {
  if (!have_device()) GTEST_SKIP() << gpu::query_devices().error;
  constexpr int n = 8, batch = 5, nrhs = 3;
  rng gen(1);
  std::vector<cmat> a, b;
  for (int i = 0; i < batch; ++i) {
    cmat h(16, n);
    gen.fill_complex_normal(h);
    a.push_back(h.adjoint() * h);
    cmat r(n, nrhs);
    gen.fill_complex_normal(r);
    b.push_back(r);
  }
  a[4] = -cmat::Identity(n, n);  // not positive definite: counted as a failure
  gpu::batched_gpu_solver solver(n, batch, nrhs);
  solver.upload(a, b);
  EXPECT_EQ(solver.run(), 1);
  std::vector<cmat> x(batch);
  solver.download(x);
  for (int i = 0; i < 4; ++i) {
    const cmat expected = a[static_cast<std::size_t>(i)].llt().solve(b[static_cast<std::size_t>(i)]);
    EXPECT_LT((x[static_cast<std::size_t>(i)] - expected).norm() / expected.norm(), 1e-4) << "system " << i;
  }
  // A second run reloads the pristine matrices: same answer.
  EXPECT_EQ(solver.run(), 1);
  std::vector<cmat> again(batch);
  solver.download(again);
  EXPECT_LT((again[0] - x[0]).norm(), 1e-6 * x[0].norm());
  EXPECT_THROW(solver.upload(std::vector<cmat>(2, a[0]), b), std::invalid_argument);
}

}  // namespace
