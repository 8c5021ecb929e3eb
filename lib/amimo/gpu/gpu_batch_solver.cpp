#include <amimo/gpu/batched_gpu_solver.h>
#include <amimo/gpu/gpu_batch_solver.h>
#include <amimo/solver/digital_solver.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace amimo::gpu {
namespace {

// Whether view v is densely packed f32 column-major (device layout: no host copy needed).
bool packed_f32(const solver::matrix_batch<const float>& v) noexcept {
  return v.format == solver::batch_format::column_major && v.row_stride == 1 && v.column_stride == v.rows &&
         v.matrix_stride == std::ptrdiff_t{v.rows} * v.cols;
}

class gpu_batch_solver final : public solver::batch_solver {
 public:
  explicit gpu_batch_solver(int max_size)
      : max_size_(max_size), fallback_(solver::create_digital_solver(solver::digital_precision::f32, max_size)),
        fa_(max_size, max_size), fb_(max_size, max_size), fx_(max_size, max_size) {
    const device_info devices = query_devices();
    if (devices.count <= 0) throw gpu_error(devices.error);
  }

  std::string_view name() const noexcept override { return "gpu"; }
  solver::batch_preference preference() const noexcept override {
    return {solver::element_type::f32, solver::batch_format::column_major, 1};
  }
  void reserve(int max_rhs) override { max_rhs_ = std::max(max_rhs_, max_rhs); }

  void solve(std::span<solver::batch_status> status, solver::batch_ref x, solver::batch_cref a, solver::batch_cref b,
             solver::matrix_structure structure) override {
    if (!solver::valid_batch(status.size(), x, a, b)) {
      for (solver::batch_status& s : status) s = failed();
      if (std::visit([](const auto& v) { return v.format != solver::batch_format::compact || v.lanes > 0; }, x)) {
        solver::zero_batch(x);
      }
      return;
    }
    const solver::batch_shape shape = solver::shape_of(b);
    const int count = shape.count, n = shape.rows, r = shape.cols;
    if (count == 0) return;
    if (structure != solver::matrix_structure::hermitian || n > max_size_) {
      for (int m = 0; m < count; ++m) status[static_cast<std::size_t>(m)] = solve_on_host(x, a, b, m, structure);
      return;
    }
    grow(count, n, r);
    const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    const auto nr = static_cast<std::size_t>(n) * static_cast<std::size_t>(r);
    const cf32* a_data = stage(a, a_host_, count, nn);
    const cf32* b_data = stage(b, b_host_, count, nr);
    // Non-finite systems are not sent as they are: identity and zeros stand in (their status
    // is not ok whatever the device computes).
    bad_.assign(static_cast<std::size_t>(count), 0);
    for (int m = 0; m < count; ++m) {
      const auto mm = static_cast<std::size_t>(m);
      if (!finite(a_data + mm * nn, nn) || !finite(b_data + mm * nr, nr)) bad_[mm] = 1;
    }
    if (std::find(bad_.begin(), bad_.end(), 1) != bad_.end()) {
      if (a_data != a_host_.data()) std::copy_n(a_data, count * nn, a_host_.begin());
      if (b_data != b_host_.data()) std::copy_n(b_data, count * nr, b_host_.begin());
      for (int m = 0; m < count; ++m) {
        const auto mm = static_cast<std::size_t>(m);
        if (!bad_[mm]) continue;
        std::fill_n(b_host_.begin() + static_cast<std::ptrdiff_t>(mm * nr), nr, cf32{});
        std::fill_n(a_host_.begin() + static_cast<std::ptrdiff_t>(mm * nn), nn, cf32{});
        for (int j = 0; j < n; ++j) a_host_[mm * nn + static_cast<std::size_t>(j * n + j)] = cf32(1.0F, 0.0F);
      }
      a_data = a_host_.data();
      b_data = b_host_.data();
    }
    // Solutions straight into x when it is packed f32, through the staging buffer otherwise.
    cf32* x_data = x_host_.data();
    if (const auto* xv = std::get_if<solver::matrix_batch<float>>(&x)) {
      if (packed_f32(*xv)) x_data = reinterpret_cast<cf32*>(xv->data);
    }
    device_->solve_packed(a_data, b_data, x_data, diag_.data(), info_.data(), count, n, r);

    constexpr float eps = std::numeric_limits<float>::epsilon();
    for (int m = 0; m < count; ++m) {
      const auto mm = static_cast<std::size_t>(m);
      solver::batch_status& s = status[mm];
      s = {};
      if (bad_[mm]) {
        s = failed();
      } else if (info_[mm] != 0) {
        continue;  // not positive definite: answered on the host below
      } else {
        const float* d = diag_.data() + mm * static_cast<std::size_t>(n);
        const auto [lo, hi] = std::minmax_element(d, d + n);
        const float ratio = *lo / *hi;
        s.matrix.ok = std::isfinite(ratio) && ratio * ratio > eps;
        s.solve.ok = s.matrix.ok && finite(x_data + mm * nr, nr);
      }
      if (!s.solve.ok) std::fill_n(x_data + mm * nr, nr, cf32{});
    }
    if (x_data == x_host_.data()) {
      std::visit(
          [&](const auto& v) {
            for (int m = 0; m < count; ++m) {
              for (int j = 0; j < r; ++j) {
                for (int i = 0; i < n; ++i) v.set(m, i, j, x_host_[static_cast<std::size_t>(m) * nr + static_cast<std::size_t>(j * n + i)]);
              }
            }
          },
          x);
    }
    for (int m = 0; m < count; ++m) {
      if (!bad_[static_cast<std::size_t>(m)] && info_[static_cast<std::size_t>(m)] != 0) {
        status[static_cast<std::size_t>(m)] = solve_on_host(x, a, b, m, structure);
      }
    }
  }

 private:
  static solver::batch_status failed() noexcept {
    solver::batch_status s;
    s.matrix.ok = false;
    s.matrix.positive_definite = false;
    s.solve.ok = false;
    return s;
  }
  static bool finite(const cf32* p, std::size_t count) noexcept {
    float acc = 0.0F;
    for (std::size_t i = 0; i < count; ++i) acc += (p[i].real() - p[i].real()) + (p[i].imag() - p[i].imag());
    return acc == 0.0F;
  }

  // Device buffers for count systems of n with r right-hand sides (grown, never shrunk).
  void grow(int count, int n, int r) {
    r = std::max(r, max_rhs_);
    if (!device_ || count > device_->batch() || n > device_->size() || r > device_->rhs()) {
      const int batch = std::max(count, device_ ? device_->batch() : 0);
      const int size = std::max(n, device_ ? device_->size() : 0);
      const int rhs = std::max(r, device_ ? device_->rhs() : 0);
      device_ = std::make_unique<batched_gpu_solver>(size, batch, rhs);
      const auto b = static_cast<std::size_t>(batch);
      a_host_.resize(b * static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
      b_host_.resize(b * static_cast<std::size_t>(size) * static_cast<std::size_t>(rhs));
      x_host_.resize(b * static_cast<std::size_t>(size) * static_cast<std::size_t>(rhs));
      diag_.resize(b * static_cast<std::size_t>(size));
      info_.resize(b);
    }
  }

  // The batch as packed cf32: the caller's own data when it already is, else converted once
  // into staging.
  static const cf32* stage(const solver::batch_cref& v, std::vector<cf32>& staging, int count, std::size_t each) {
    if (const auto* f = std::get_if<solver::matrix_batch<const float>>(&v)) {
      if (packed_f32(*f)) return reinterpret_cast<const cf32*>(f->data);
    }
    std::visit(
        [&](const auto& view) {
          for (int m = 0; m < count; ++m) {
            for (int j = 0; j < view.cols; ++j) {
              for (int i = 0; i < view.rows; ++i) {
                const auto e = view.get(m, i, j);
                staging[static_cast<std::size_t>(m) * each + static_cast<std::size_t>(j * view.rows + i)] =
                    cf32(static_cast<float>(e.real()), static_cast<float>(e.imag()));
              }
            }
          }
        },
        v);
    return staging.data();
  }

  // System m on the host's digital-f32 backend (general matrices, FP32 Cholesky failures).
  solver::batch_status solve_on_host(const solver::batch_ref& x, const solver::batch_cref& a,
                                     const solver::batch_cref& b, int m, solver::matrix_structure structure) {
    const solver::batch_shape sb = solver::shape_of(b);
    if (fa_.rows() < sb.rows) fa_.resize(sb.rows, sb.rows);
    if (fb_.rows() < sb.rows || fb_.cols() < sb.cols) {
      fb_.resize(std::max<Eigen::Index>(fb_.rows(), sb.rows), std::max<Eigen::Index>(fb_.cols(), sb.cols));
      fx_.resize(fb_.rows(), fb_.cols());
    }
    auto av = fa_.topLeftCorner(sb.rows, sb.rows);
    auto bv = fb_.topLeftCorner(sb.rows, sb.cols);
    auto xv = fx_.topLeftCorner(sb.rows, sb.cols);
    std::visit([&](const auto& v) {
      for (int j = 0; j < sb.rows; ++j)
        for (int i = 0; i < sb.rows; ++i) av(i, j) = cf64(v.get(m, i, j));
    }, a);
    std::visit([&](const auto& v) {
      for (int j = 0; j < sb.cols; ++j)
        for (int i = 0; i < sb.rows; ++i) bv(i, j) = cf64(v.get(m, i, j));
    }, b);
    solver::batch_status s;
    s.matrix = fallback_->set_matrix(av, structure);
    s.solve = fallback_->solve(xv, bv);
    std::visit([&](const auto& v) {
      using real = typename std::remove_reference_t<decltype(v)>::real_type;
      for (int j = 0; j < sb.cols; ++j)
        for (int i = 0; i < sb.rows; ++i)
          v.set(m, i, j, {static_cast<real>(xv(i, j).real()), static_cast<real>(xv(i, j).imag())});
    }, x);
    return s;
  }

  int max_size_;
  int max_rhs_ = 1;
  std::unique_ptr<solver::linear_solver> fallback_;
  std::unique_ptr<batched_gpu_solver> device_;
  std::vector<cf32> a_host_, b_host_, x_host_;
  std::vector<float> diag_;
  std::vector<int> info_;
  std::vector<unsigned char> bad_;
  cmat fa_, fb_, fx_;
};

}  // namespace

std::unique_ptr<solver::batch_solver> create_gpu_batch_solver(int max_size) {
  return std::make_unique<gpu_batch_solver>(max_size);
}

}  // namespace amimo::gpu
