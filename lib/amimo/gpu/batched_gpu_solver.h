#pragma once
// Optional CUDA backend (built only with AMIMO_WITH_CUDA): many small Hermitian positive
// definite complex systems solved at once on an NVIDIA GPU with host-side library calls
// only — cuSOLVER's batched Cholesky (cusolverDnCpotrfBatched, lower triangle) followed by
// two cuBLAS batched triangular solves (cublasCtrsmBatched: L Y = B, then Lᴴ X = Y), all
// in complex FP32 (the GPU baseline of DESIGN.md §1.2). No .cu files, no nvcc.
//
// Data are column-major cuComplex on the device; host matrices are amimo::cmat (complex
// double), converted on upload and download. A machine without a CUDA device gets a
// gpu_error naming why (cudaGetDeviceCount failed, or returned 0) from the constructor;
// query_devices() never throws.

#include <amimo/core/types.h>

#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace amimo::gpu {

/// A CUDA, cuBLAS or cuSOLVER call failed, or there is no device.
class gpu_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// CUDA devices visible to this process.
struct device_info {
  int count = 0;      ///< 0 when there is none or the query failed
  std::string name;   ///< device 0's name, e.g. "NVIDIA H100 80GB HBM3"
  std::string error;  ///< why count is 0 ("no CUDA device: ...")
};

device_info query_devices() noexcept;

/// Batched factor-and-solve of `batch` n×n systems with nrhs right-hand sides each, on
/// device 0. Not thread-safe; one instance per thread.
class batched_gpu_solver {
 public:
  /// Allocates device buffers. Throws std::invalid_argument for n, batch or nrhs < 1,
  /// gpu_error when there is no device or an allocation fails.
  batched_gpu_solver(int n, int batch, int nrhs);
  ~batched_gpu_solver();
  batched_gpu_solver(const batched_gpu_solver&) = delete;
  batched_gpu_solver& operator=(const batched_gpu_solver&) = delete;

  /// Copies `batch` matrices (n×n, Hermitian; the lower triangle is used) and right-hand
  /// sides (n×nrhs) to the device as FP32. Throws std::invalid_argument on a size mismatch.
  void upload(std::span<const cmat> a, std::span<const cmat> b);

  /// Reloads the uploaded matrices and right-hand sides (device-to-device), factors and
  /// solves every system, waits for the device. Returns the number of systems whose
  /// factorisation failed (not positive definite); their solutions are meaningless.
  int run();

  /// Copies the solutions of the last run() to x (resized to n×nrhs each, batch entries).
  void download(std::span<cmat> x);

  /// One batch straight from host f32 column-major arrays (the batch backend's path, no
  /// conversion): count ≤ batch() systems of size n ≤ size() with nrhs ≤ rhs() right-hand
  /// sides each, packed densely at a (n×n each), b and x (n×nrhs each). Factors, solves and
  /// copies back the solutions to x, the diagonal of each Cholesky factor L to l_diagonal
  /// (count·n values, real) and cuSOLVER's info per system to info (0: factorised; > 0: not
  /// positive definite, that system's x and diagonal are meaningless).
  void solve_packed(const cf32* a, const cf32* b, cf32* x, float* l_diagonal, int* info, int count, int n, int nrhs);

  int size() const noexcept { return n_; }
  int batch() const noexcept { return batch_; }
  int rhs() const noexcept { return nrhs_; }

 private:
  struct impl;
  int n_, batch_, nrhs_;
  std::unique_ptr<impl> impl_;
};

}  // namespace amimo::gpu
