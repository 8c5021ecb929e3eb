// The batch solver interface's shared parts and the digital batch backends. The backends'
// kernels are compiled once per SIMD target (Highway's foreach_target.h re-includes this
// file; simd_target.h) and chosen at run time; the rest is compiled once.

#ifndef AMIMO_SOLVER_BATCH_SOLVER_ONCE_
#define AMIMO_SOLVER_BATCH_SOLVER_ONCE_
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/digital_solver.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace amimo::solver {

batch_shape shape_of(const batch_cref& b) noexcept {
  return std::visit([](const auto& v) { return batch_shape{v.count, v.rows, v.cols}; }, b);
}
batch_shape shape_of(const batch_ref& b) noexcept {
  return std::visit([](const auto& v) { return batch_shape{v.count, v.rows, v.cols}; }, b);
}

bool valid_batch(std::size_t statuses, const batch_ref& x, const batch_cref& a, const batch_cref& b) noexcept {
  const batch_shape sx = shape_of(x), sa = shape_of(a), sb = shape_of(b);
  const bool lanes_ok = std::visit([](const auto& v) { return v.format != batch_format::compact || v.lanes > 0; }, x) &&
                        std::visit([](const auto& v) { return v.format != batch_format::compact || v.lanes > 0; }, a) &&
                        std::visit([](const auto& v) { return v.format != batch_format::compact || v.lanes > 0; }, b);
  return lanes_ok && sa.count >= 0 && statuses == static_cast<std::size_t>(sa.count) && sb.count == sa.count &&
         sx.count == sa.count && sa.rows == sa.cols && sa.rows > 0 && sb.rows == sa.rows && sx.rows == sb.rows &&
         sx.cols == sb.cols && sb.cols > 0;
}

void zero_system(const batch_ref& x, int m) noexcept {
  std::visit(
      [m](const auto& v) {
        for (int j = 0; j < v.cols; ++j) {
          for (int i = 0; i < v.rows; ++i) v.set(m, i, j, {});
        }
      },
      x);
}

void zero_batch(const batch_ref& x) noexcept {
  const int count = shape_of(x).count;
  for (int m = 0; m < count; ++m) zero_system(x, m);
}

namespace {

void fail_all(std::span<batch_status> status, const batch_ref& x) {
  for (batch_status& s : status) {
    s.matrix.ok = false;
    s.matrix.positive_definite = false;
    s.solve = {};
    s.solve.ok = false;
  }
  if (std::visit([](const auto& v) { return v.format != batch_format::compact || v.lanes > 0; }, x)) zero_batch(x);
}

// One system between a batch view and an f64 matrix (the per-matrix interface's type).
template <typename Block, typename Real>
void copy_in(Block& dst, const matrix_batch<Real>& src, int m) {
  for (int j = 0; j < src.cols; ++j) {
    for (int i = 0; i < src.rows; ++i) dst(i, j) = cf64(src.get(m, i, j));
  }
}
template <typename Block, typename Real>
void copy_out(const matrix_batch<Real>& dst, const Block& src, int m) {
  using real = std::remove_const_t<Real>;
  for (int j = 0; j < dst.cols; ++j) {
    for (int i = 0; i < dst.rows; ++i) {
      dst.set(m, i, j, {static_cast<real>(src(i, j).real()), static_cast<real>(src(i, j).imag())});
    }
  }
}

// Grows a per-matrix digital backend's own work buffers to the widest right-hand side now
// (an identity system solved for every column of b), so its first real use allocates nothing.
void reserve_inner(linear_solver& inner, cmat& a, cmat& b, cmat& x) {
  a.setIdentity();
  b.setZero();
  if (inner.set_matrix(a, matrix_structure::hermitian).ok) (void)inner.solve(x, b);
}

// One system through a per-matrix backend; shared by the adapter and the digital batch
// backends' fallback.
batch_status solve_one(linear_solver& inner, cmat& a, cmat& b, cmat& x, const batch_ref& xb, const batch_cref& ab,
                       const batch_cref& bb, int m, matrix_structure structure) {
  const batch_shape sa = shape_of(ab), sb = shape_of(bb);
  // Buffers only grow, and the system sits in their top-left corner: alternating shapes
  // (K×K identity right-hand sides, then K×N) do not reallocate.
  const auto grow = [](cmat& buf, int rows, int cols) {
    if (buf.rows() < rows || buf.cols() < cols) buf.resize(std::max<Eigen::Index>(buf.rows(), rows), std::max<Eigen::Index>(buf.cols(), cols));
  };
  grow(a, sa.rows, sa.cols);
  grow(b, sb.rows, sb.cols);
  grow(x, sb.rows, sb.cols);
  auto av = a.topLeftCorner(sa.rows, sa.cols);
  auto bv = b.topLeftCorner(sb.rows, sb.cols);
  auto xv = x.topLeftCorner(sb.rows, sb.cols);
  std::visit([&](const auto& v) { copy_in(av, v, m); }, ab);
  std::visit([&](const auto& v) { copy_in(bv, v, m); }, bb);
  batch_status status;
  status.matrix = inner.set_matrix(av, structure);
  status.solve = inner.solve(xv, bv);
  std::visit([&](const auto& v) { copy_out(v, xv, m); }, xb);
  return status;
}

}  // namespace
}  // namespace amimo::solver
#endif  // AMIMO_SOLVER_BATCH_SOLVER_ONCE_

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "amimo/solver/batch_solver.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include <amimo/solver/compact_io.h>
#include <amimo/solver/compact_kernels.h>

HWY_BEFORE_NAMESPACE();
namespace amimo::solver::HWY_NAMESPACE {
namespace {

template <typename Real>
class digital_batch_solver final : public batch_solver {
  using V = simd::HWY_NAMESPACE::lanes<Real>;
  static constexpr int L = V::size;

 public:
  explicit digital_batch_solver(int max_size)
      : fallback_(create_digital_solver(std::is_same_v<Real, float> ? digital_precision::f32 : digital_precision::f64,
                                        max_size)),
        a_(static_cast<std::size_t>(2 * max_size * max_size)), inv_diag_(static_cast<std::size_t>(max_size)),
        fa_(max_size, max_size), fb_(max_size, max_size), fx_(max_size, max_size) {}

  std::string_view name() const noexcept override { return fallback_->name(); }
  void reserve(int max_rhs) override {
    const auto n = static_cast<std::size_t>(fa_.rows());
    const auto r = static_cast<std::size_t>(std::max(max_rhs, 1));
    if (x_.size() < 2 * n * r) x_.resize(2 * n * r);
    if (fb_.cols() < static_cast<Eigen::Index>(r)) {
      fb_.resize(fb_.rows(), static_cast<Eigen::Index>(r));
      fx_.resize(fx_.rows(), static_cast<Eigen::Index>(r));
    }
    reserve_inner(*fallback_, fa_, fb_, fx_);
  }
  batch_preference preference() const noexcept override {
    return {std::is_same_v<Real, float> ? element_type::f32 : element_type::f64, batch_format::compact, L};
  }

  void solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
             matrix_structure structure) override {
    if (!valid_batch(status.size(), x, a, b)) return fail_all(status, x);
    const batch_shape shape = shape_of(b);
    const int n = shape.rows;
    const int r = shape.cols;
    if (structure != matrix_structure::hermitian) {
      for (int m = 0; m < shape.count; ++m) {
        status[static_cast<std::size_t>(m)] = solve_one(*fallback_, fa_, fb_, fx_, x, a, b, m, structure);
      }
      return;
    }
    if (a_.size() < static_cast<std::size_t>(2 * n * n)) a_.resize(static_cast<std::size_t>(2 * n * n));
    if (inv_diag_.size() < static_cast<std::size_t>(n)) inv_diag_.resize(static_cast<std::size_t>(n));
    if (x_.size() < static_cast<std::size_t>(2 * n * r)) x_.resize(static_cast<std::size_t>(2 * n * r));
    // x exactly b's view in this backend's own layout: solved in place (batch_solver.h).
    bool in_place = false;
    if (const auto* xv = std::get_if<matrix_batch<Real>>(&x)) {
      if (const auto* bv = std::get_if<matrix_batch<const Real>>(&b)) {
        in_place = xv->data == bv->data && compact::HWY_NAMESPACE::same_layout<V>(*xv) &&
                   compact::HWY_NAMESPACE::same_layout<V>(*bv);
      }
    }
    constexpr Real eps = std::numeric_limits<Real>::epsilon();
    const int groups = (shape.count + L - 1) / L;
    for (int g = 0; g < groups; ++g) {
      const int used = compact::HWY_NAMESPACE::lanes_used(shape.count, g, L);
      const unsigned bad_a = compact::HWY_NAMESPACE::load_group(a_.data(), a, g, Real(1));
      V failed, lo, hi;
      compact::HWY_NAMESPACE::cholesky(a_.data(), inv_diag_.data(), n, failed, lo, hi);
      alignas(64) Real f[L], mn[L], mx[L];
      failed.store(f);
      lo.store(mn);
      hi.store(mx);
      // Lanes whose Cholesky failed go to the per-matrix backend (LDLT), as there.
      unsigned usable = 0;
      unsigned not_pd = 0;
      for (int l = 0; l < used; ++l) {
        batch_status& s = status[static_cast<std::size_t>(g * L + l)];
        s = {};
        if ((bad_a >> l) & 1U) {
          s.matrix.ok = false;
          s.matrix.positive_definite = false;
        } else if (f[l] != Real(0)) {
          not_pd |= 1U << l;
        } else {
          const Real ratio = mn[l] / mx[l];
          s.matrix.ok = ratio * ratio > eps;
          if (s.matrix.ok) usable |= 1U << l;
        }
        s.solve.ok = s.matrix.ok;
      }
      if (in_place && not_pd == 0) {
        // X over B in the caller's group: no copy in or out. A non-finite element of B
        // reaches X (the pivots are positive and finite), so scanning X finds it.
        V* xg = reinterpret_cast<V*>(std::get<matrix_batch<Real>>(x).data) + std::ptrdiff_t{g} * 2 * n * r;
        compact::HWY_NAMESPACE::cholesky_solve(xg, a_.data(), inv_diag_.data(), n, r);
        const unsigned bad_x = compact::HWY_NAMESPACE::nonfinite_lanes(xg, n * r);
        for (int l = 0; l < used; ++l) {
          if ((usable >> l) & (bad_x >> l) & 1U) status[static_cast<std::size_t>(g * L + l)].solve.ok = false;
        }
        const unsigned all = used == L ? ~0U : (1U << used) - 1U;
        compact::HWY_NAMESPACE::zero_lanes(xg, n * r, (~usable | bad_x) & all);
        continue;
      }
      const unsigned bad_b = compact::HWY_NAMESPACE::load_group(x_.data(), b, g, Real(0));
      compact::HWY_NAMESPACE::cholesky_solve(x_.data(), a_.data(), inv_diag_.data(), n, r);
      const unsigned bad_x = compact::HWY_NAMESPACE::nonfinite_lanes(x_.data(), n * r) | bad_b;
      for (int l = 0; l < used; ++l) {
        if ((usable >> l) & (bad_x >> l) & 1U) status[static_cast<std::size_t>(g * L + l)].solve.ok = false;
      }
      const unsigned write = ~not_pd;
      compact::HWY_NAMESPACE::store_group(x, x_.data(), g, write, ~usable | bad_x);
      for (int l = 0; l < used; ++l) {
        if ((not_pd >> l) & 1U) {
          status[static_cast<std::size_t>(g * L + l)] = solve_one(*fallback_, fa_, fb_, fx_, x, a, b, g * L + l, structure);
        }
      }
    }
  }

 private:
  std::unique_ptr<linear_solver> fallback_;
  std::vector<V> a_;         // one group's factor
  std::vector<V> inv_diag_;  // 1/L_jj
  std::vector<V> x_;         // one group's right-hand sides, then solutions
  cmat fa_, fb_, fx_;        // one system for the fallback
};

}  // namespace

std::unique_ptr<batch_solver> make_digital_batch_solver(bool single_precision, int max_size) {
  if (single_precision) return std::make_unique<digital_batch_solver<float>>(max_size);
  return std::make_unique<digital_batch_solver<double>>(max_size);
}

}  // namespace amimo::solver::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <amimo/solver/simd_dispatch.h>

namespace amimo::solver {
per_matrix_batch_solver::per_matrix_batch_solver(linear_solver& inner, int max_size)
    : inner_(&inner), a_(max_size, max_size), b_(max_size, max_size), x_(max_size, max_size) {}

per_matrix_batch_solver::per_matrix_batch_solver(std::unique_ptr<linear_solver> inner, int max_size)
    : owned_(std::move(inner)), inner_(owned_.get()), a_(max_size, max_size), b_(max_size, max_size),
      x_(max_size, max_size) {}

void per_matrix_batch_solver::reserve(int max_rhs) {
  const Eigen::Index r = std::max(max_rhs, 1);
  if (b_.cols() < r) {
    b_.resize(b_.rows(), r);
    x_.resize(x_.rows(), r);
  }
}

void per_matrix_batch_solver::solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
                                    matrix_structure structure) {
  if (!valid_batch(status.size(), x, a, b)) return fail_all(status, x);
  const int count = shape_of(a).count;
  for (int m = 0; m < count; ++m) {
    status[static_cast<std::size_t>(m)] = solve_one(*inner_, a_, b_, x_, x, a, b, m, structure);
  }
}

std::unique_ptr<batch_solver> create_digital_batch_solver(bool single_precision, int max_size) {
  return AMIMO_SIMD_DISPATCH(make_digital_batch_solver)(single_precision, max_size);
}

}  // namespace amimo::solver
#endif  // HWY_ONCE
