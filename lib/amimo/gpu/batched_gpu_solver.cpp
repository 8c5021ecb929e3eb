#include <amimo/gpu/batched_gpu_solver.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace amimo::gpu {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw gpu_error(fmt::format("{} failed: {} ({})", what, cudaGetErrorString(status), static_cast<int>(status)));
  }
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw gpu_error(fmt::format("{} failed: cuBLAS status {}", what, static_cast<int>(status)));
}

void check(cusolverStatus_t status, const char* what) {
  if (status != CUSOLVER_STATUS_SUCCESS) {
    throw gpu_error(fmt::format("{} failed: cuSOLVER status {}", what, static_cast<int>(status)));
  }
}

/// A device allocation freed on destruction.
template <typename T>
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(std::size_t count) : count_(count) {
    void* p = nullptr;
    check(cudaMalloc(&p, count * sizeof(T)), "cudaMalloc");
    data_ = static_cast<T*>(p);
  }
  ~device_buffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  device_buffer(device_buffer&& other) noexcept : data_(other.data_), count_(other.count_) { other.data_ = nullptr; }
  device_buffer& operator=(device_buffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  T* get() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return count_ * sizeof(T); }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace

device_info query_devices() noexcept {
  device_info info;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    info.error = fmt::format("no CUDA device: cudaGetDeviceCount failed: {}", cudaGetErrorString(status));
    return info;
  }
  if (count <= 0) {
    info.error = "no CUDA device: cudaGetDeviceCount returned 0";
    return info;
  }
  info.count = count;
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) info.name = prop.name;
  return info;
}

struct batched_gpu_solver::impl {
  cublasHandle_t blas = nullptr;
  cusolverDnHandle_t solver = nullptr;
  device_buffer<cuComplex> a_source, a_work, b_source, b_work;
  device_buffer<cuComplex*> a_pointers, b_pointers;
  device_buffer<int> info;
  std::vector<int> host_info;
  std::vector<cf32> staging;
  // solve_packed: the pointer arrays are laid out for this shape (rewritten when it changes).
  int packed_count = -1, packed_n = -1, packed_rhs = -1;
  std::vector<cuComplex*> a_ptrs, b_ptrs;
  std::vector<cf32> factors;

  ~impl() {
    if (solver != nullptr) cusolverDnDestroy(solver);
    if (blas != nullptr) cublasDestroy(blas);
  }
};

batched_gpu_solver::batched_gpu_solver(int n, int batch, int nrhs) : n_(n), batch_(batch), nrhs_(nrhs) {
  if (n < 1 || batch < 1 || nrhs < 1) {
    throw std::invalid_argument(
        fmt::format("batched_gpu_solver: n, batch and nrhs must be >= 1 (got {}, {}, {})", n, batch, nrhs));
  }
  const device_info devices = query_devices();
  if (devices.count <= 0) throw gpu_error(devices.error);
  check(cudaSetDevice(0), "cudaSetDevice");
  impl_ = std::make_unique<impl>();
  check(cublasCreate(&impl_->blas), "cublasCreate");
  check(cusolverDnCreate(&impl_->solver), "cusolverDnCreate");
  const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  const auto nb = static_cast<std::size_t>(n) * static_cast<std::size_t>(nrhs);
  const auto count = static_cast<std::size_t>(batch);
  impl_->a_source = device_buffer<cuComplex>(nn * count);
  impl_->a_work = device_buffer<cuComplex>(nn * count);
  impl_->b_source = device_buffer<cuComplex>(nb * count);
  impl_->b_work = device_buffer<cuComplex>(nb * count);
  impl_->a_pointers = device_buffer<cuComplex*>(count);
  impl_->b_pointers = device_buffer<cuComplex*>(count);
  impl_->info = device_buffer<int>(count);
  impl_->host_info.assign(count, 0);
  std::vector<cuComplex*> a_ptrs(count), b_ptrs(count);
  for (std::size_t i = 0; i < count; ++i) {
    a_ptrs[i] = impl_->a_work.get() + i * nn;
    b_ptrs[i] = impl_->b_work.get() + i * nb;
  }
  check(cudaMemcpy(impl_->a_pointers.get(), a_ptrs.data(), count * sizeof(cuComplex*), cudaMemcpyHostToDevice),
        "cudaMemcpy (pointers)");
  check(cudaMemcpy(impl_->b_pointers.get(), b_ptrs.data(), count * sizeof(cuComplex*), cudaMemcpyHostToDevice),
        "cudaMemcpy (pointers)");
}

batched_gpu_solver::~batched_gpu_solver() = default;

void batched_gpu_solver::upload(std::span<const cmat> a, std::span<const cmat> b) {
  if (a.size() != static_cast<std::size_t>(batch_) || b.size() != static_cast<std::size_t>(batch_)) {
    throw std::invalid_argument(
        fmt::format("batched_gpu_solver::upload: expected {} matrices and right-hand sides (got {}, {})", batch_,
                    a.size(), b.size()));
  }
  const auto to_device = [this](std::span<const cmat> host, Eigen::Index rows, Eigen::Index cols, cuComplex* device) {
    const auto each = static_cast<std::size_t>(rows * cols);
    impl_->staging.resize(each * host.size());
    for (std::size_t i = 0; i < host.size(); ++i) {
      if (host[i].rows() != rows || host[i].cols() != cols) {
        throw std::invalid_argument(fmt::format("batched_gpu_solver::upload: entry {} is {}x{}, expected {}x{}", i,
                                                host[i].rows(), host[i].cols(), rows, cols));
      }
      Eigen::Map<Eigen::Matrix<cf32, Eigen::Dynamic, Eigen::Dynamic>>(impl_->staging.data() + i * each, rows, cols) =
          host[i].cast<cf32>();
    }
    check(cudaMemcpy(device, impl_->staging.data(), impl_->staging.size() * sizeof(cf32), cudaMemcpyHostToDevice),
          "cudaMemcpy (upload)");
  };
  to_device(a, n_, n_, impl_->a_source.get());
  to_device(b, n_, nrhs_, impl_->b_source.get());
}

int batched_gpu_solver::run() {
  check(cudaMemcpy(impl_->a_work.get(), impl_->a_source.get(), impl_->a_source.bytes(), cudaMemcpyDeviceToDevice),
        "cudaMemcpy (reload A)");
  check(cudaMemcpy(impl_->b_work.get(), impl_->b_source.get(), impl_->b_source.bytes(), cudaMemcpyDeviceToDevice),
        "cudaMemcpy (reload B)");
  check(cusolverDnCpotrfBatched(impl_->solver, CUBLAS_FILL_MODE_LOWER, n_, impl_->a_pointers.get(), n_,
                                impl_->info.get(), batch_),
        "cusolverDnCpotrfBatched");
  const cuComplex one{1.0F, 0.0F};
  cuComplex* const* a_ptrs = impl_->a_pointers.get();
  check(cublasCtrsmBatched(impl_->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, n_,
                           nrhs_, &one, a_ptrs, n_, impl_->b_pointers.get(), n_, batch_),
        "cublasCtrsmBatched (L)");
  check(cublasCtrsmBatched(impl_->blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_C, CUBLAS_DIAG_NON_UNIT, n_,
                           nrhs_, &one, a_ptrs, n_, impl_->b_pointers.get(), n_, batch_),
        "cublasCtrsmBatched (L^H)");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  check(cudaMemcpy(impl_->host_info.data(), impl_->info.get(), impl_->info.bytes(), cudaMemcpyDeviceToHost),
        "cudaMemcpy (info)");
  return static_cast<int>(
      std::count_if(impl_->host_info.begin(), impl_->host_info.end(), [](int v) { return v != 0; }));
}

void batched_gpu_solver::solve_packed(const cf32* a, const cf32* b, cf32* x, float* l_diagonal, int* info, int count,
                                      int n, int nrhs) {
  if (count < 1 || count > batch_ || n < 1 || n > n_ || nrhs < 1 || nrhs > nrhs_) {
    throw std::invalid_argument(fmt::format(
        "batched_gpu_solver::solve_packed: {} systems of {}x{} with {} right-hand sides do not fit {} of {}x{} with {}",
        count, n, n, nrhs, batch_, n_, n_, nrhs_));
  }
  impl& d = *impl_;
  const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  const auto nb = static_cast<std::size_t>(n) * static_cast<std::size_t>(nrhs);
  const auto systems = static_cast<std::size_t>(count);
  if (d.packed_count != count || d.packed_n != n || d.packed_rhs != nrhs) {
    d.a_ptrs.resize(systems);
    d.b_ptrs.resize(systems);
    for (std::size_t i = 0; i < systems; ++i) {
      d.a_ptrs[i] = d.a_work.get() + i * nn;
      d.b_ptrs[i] = d.b_work.get() + i * nb;
    }
    check(cudaMemcpy(d.a_pointers.get(), d.a_ptrs.data(), systems * sizeof(cuComplex*), cudaMemcpyHostToDevice),
          "cudaMemcpy (pointers)");
    check(cudaMemcpy(d.b_pointers.get(), d.b_ptrs.data(), systems * sizeof(cuComplex*), cudaMemcpyHostToDevice),
          "cudaMemcpy (pointers)");
    d.packed_count = count;
    d.packed_n = n;
    d.packed_rhs = nrhs;
  }
  check(cudaMemcpy(d.a_work.get(), a, systems * nn * sizeof(cf32), cudaMemcpyHostToDevice), "cudaMemcpy (A)");
  check(cudaMemcpy(d.b_work.get(), b, systems * nb * sizeof(cf32), cudaMemcpyHostToDevice), "cudaMemcpy (B)");
  check(cusolverDnCpotrfBatched(d.solver, CUBLAS_FILL_MODE_LOWER, n, d.a_pointers.get(), n, d.info.get(), count),
        "cusolverDnCpotrfBatched");
  const cuComplex one{1.0F, 0.0F};
  check(cublasCtrsmBatched(d.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, n, nrhs,
                           &one, d.a_pointers.get(), n, d.b_pointers.get(), n, count),
        "cublasCtrsmBatched (L)");
  check(cublasCtrsmBatched(d.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_C, CUBLAS_DIAG_NON_UNIT, n, nrhs,
                           &one, d.a_pointers.get(), n, d.b_pointers.get(), n, count),
        "cublasCtrsmBatched (L^H)");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  check(cudaMemcpy(x, d.b_work.get(), systems * nb * sizeof(cf32), cudaMemcpyDeviceToHost), "cudaMemcpy (X)");
  check(cudaMemcpy(info, d.info.get(), systems * sizeof(int), cudaMemcpyDeviceToHost), "cudaMemcpy (info)");
  d.factors.resize(systems * nn);
  check(cudaMemcpy(d.factors.data(), d.a_work.get(), systems * nn * sizeof(cf32), cudaMemcpyDeviceToHost),
        "cudaMemcpy (factors)");
  for (std::size_t i = 0; i < systems; ++i) {
    for (std::size_t j = 0; j < static_cast<std::size_t>(n); ++j) {
      l_diagonal[i * static_cast<std::size_t>(n) + j] = d.factors[i * nn + j * static_cast<std::size_t>(n) + j].real();
    }
  }
}

void batched_gpu_solver::download(std::span<cmat> x) {
  if (x.size() != static_cast<std::size_t>(batch_)) {
    throw std::invalid_argument(
        fmt::format("batched_gpu_solver::download: expected {} solutions (got {})", batch_, x.size()));
  }
  const auto each = static_cast<std::size_t>(n_) * static_cast<std::size_t>(nrhs_);
  impl_->staging.resize(each * x.size());
  check(cudaMemcpy(impl_->staging.data(), impl_->b_work.get(), impl_->b_work.bytes(), cudaMemcpyDeviceToHost),
        "cudaMemcpy (download)");
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = Eigen::Map<const Eigen::Matrix<cf32, Eigen::Dynamic, Eigen::Dynamic>>(impl_->staging.data() + i * each, n_,
                                                                                 nrhs_)
               .cast<cf64>();
  }
}

}  // namespace amimo::gpu
