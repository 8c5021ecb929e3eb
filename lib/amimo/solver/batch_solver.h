#pragma once
// The batch solver interface: many independent small systems — one per subcarrier of a
// block — set and solved in one call, one status per system (DESIGN.md §3.1).
//
//   solve(status, X, A, B):  A_m X_m = B_m  for m = 0 … count−1
//
// A is count × (n×n), B and X count × (n×r). Matrices come in f32 or f64 and in one of two
// layouts (matrix_batch below): column-major with free strides (a view on the caller's
// data, nothing copied), or "compact" groups where one SIMD lane is one system (Intel
// MKL's compact format). A backend states the element and layout it computes in
// (preference()); a batch given that way is used in place, any other is converted once,
// element by element, on its way in or out — never twice.
//
// A numerical failure is data: a system whose matrix is unusable (singular to working
// precision, non-finite) gets status.matrix.ok = false and X_m = 0; the others are solved.
// A batch whose shapes do not agree gets every status not ok and X zeroed where the shapes
// allow writing it. Nothing here allocates once buffers have seen the largest size.
//
// linear_solver stays the per-matrix interface; per_matrix_batch_solver (below) runs any
// linear_solver through this one, one set_matrix()/solve() pair per system, in order.

#include <amimo/solver/linear_solver.h>

#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>

namespace amimo::solver {

enum class batch_format {
  column_major,  ///< element (i, j) of system m at m·matrix_stride + i·row_stride + j·column_stride
  compact,       ///< groups of `lanes` systems, one SIMD lane each (compact_kernels.h)
};

/// A view of `count` complex rows×cols matrices. Real is float or double, const-qualified
/// for inputs. Strides of the column-major format count complex elements; the compact
/// format stores group g = m / lanes at data + g·2·lanes·rows·cols reals, element (i, j) of
/// lane l = m % lanes as real part [2(j·rows + i)·lanes + l], imaginary part `lanes` after.
template <typename Real>
struct matrix_batch {
  using real_type = std::remove_const_t<Real>;
  using complex_type = std::complex<real_type>;

  Real* data = nullptr;
  int count = 0;
  int rows = 0;
  int cols = 0;
  batch_format format = batch_format::column_major;
  std::ptrdiff_t row_stride = 1;
  std::ptrdiff_t column_stride = 0;
  std::ptrdiff_t matrix_stride = 0;
  int lanes = 1;

  std::ptrdiff_t real_index(int m, int i, int j) const noexcept {
    if (format == batch_format::column_major) {
      return 2 * (m * matrix_stride + i * row_stride + j * column_stride);
    }
    const std::ptrdiff_t group = m / lanes;
    return group * 2 * lanes * rows * cols + std::ptrdiff_t{2} * (j * rows + i) * lanes + m % lanes;
  }
  std::ptrdiff_t imag_offset() const noexcept { return format == batch_format::column_major ? 1 : lanes; }
  /// A writable view reads as a read-only one.
  operator matrix_batch<const real_type>() const noexcept
    requires(!std::is_const_v<Real>)
  {
    return {data, count, rows, cols, format, row_stride, column_stride, matrix_stride, lanes};
  }
  complex_type get(int m, int i, int j) const noexcept {
    const std::ptrdiff_t at = real_index(m, i, j);
    return {data[at], data[at + imag_offset()]};
  }
  void set(int m, int i, int j, complex_type v) const noexcept
    requires(!std::is_const_v<Real>)
  {
    const std::ptrdiff_t at = real_index(m, i, j);
    data[at] = v.real();
    data[at + imag_offset()] = v.imag();
  }
};

/// Densely packed column-major matrices, one after another (std::complex arrays may be
/// viewed as arrays of (real, imaginary) pairs, [complex.numbers.general]).
template <typename Complex>
auto column_major_batch(Complex* data, int count, int rows, int cols) {
  using plain = typename std::remove_const_t<Complex>::value_type;
  using real = std::conditional_t<std::is_const_v<Complex>, const plain, plain>;
  return matrix_batch<real>{reinterpret_cast<real*>(data), count, rows, cols, batch_format::column_major, 1, rows,
                            std::ptrdiff_t{rows} * cols, 1};
}
/// Compact groups of `lanes` systems at data (2·lanes·rows·cols reals per group).
template <typename Real>
matrix_batch<Real> compact_batch(Real* data, int count, int rows, int cols, int lanes) {
  return {data, count, rows, cols, batch_format::compact, 0, 0, 0, lanes};
}

using batch_cref = std::variant<matrix_batch<const float>, matrix_batch<const double>>;
using batch_ref = std::variant<matrix_batch<float>, matrix_batch<double>>;

enum class element_type { f32, f64 };

/// The element and layout a backend computes in; batches given this way are not copied.
struct batch_preference {
  element_type element = element_type::f64;
  batch_format format = batch_format::column_major;
  int lanes = 1;  ///< compact group width
};

/// Outcome of one system of a batch.
struct batch_status {
  matrix_status matrix;
  solve_status solve;
};

class batch_solver {
 public:
  virtual ~batch_solver() = default;

  /// Backend name as the factory knows it ("digital-f32", "analog", …).
  virtual std::string_view name() const noexcept = 0;
  virtual batch_preference preference() const noexcept = 0;

  /// Solves A_m X_m = B_m for every system; status.size() must equal the batch count.
  /// A is Hermitian (positive definite or nearly so) or general as `structure` says.
  /// For a backend whose preference() is compact, x may be exactly b's view (same data,
  /// layout and lanes): B is then overwritten by X, with nothing copied. Other overlaps
  /// between x and a or b are not allowed.
  virtual void solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
                     matrix_structure structure) = 0;

  /// As linear_solver::reseed(): callers reseed per unit of work (frame, block).
  virtual void reseed(std::uint64_t seed) noexcept { (void)seed; }

  /// Sizes the work buffers for up to max_rhs right-hand sides per system, so that solve()
  /// allocates nothing from the first call on (buffers otherwise grow on first use, which
  /// in a thread pool can be any later frame). Backends without such buffers ignore it.
  virtual void reserve(int max_rhs) { (void)max_rhs; }
};

/// Shape of a batch (any element, any layout).
struct batch_shape {
  int count = 0;
  int rows = 0;
  int cols = 0;
};
batch_shape shape_of(const batch_cref& b) noexcept;
batch_shape shape_of(const batch_ref& b) noexcept;
/// Whether a, b and x form a valid batch (same count, A square n×n, B and X n×r, status
/// sized count); used by every backend before touching the data.
bool valid_batch(std::size_t statuses, const batch_ref& x, const batch_cref& a, const batch_cref& b) noexcept;
/// Sets every element of x to zero (any layout).
void zero_batch(const batch_ref& x) noexcept;
/// Sets system m of x to zero.
void zero_system(const batch_ref& x, int m) noexcept;

/// Runs a per-matrix backend over a batch: for each system in order, set_matrix(A_m) then
/// solve(X_m, B_m), converting each element once to and from the backend's f64 matrices.
/// The backend is borrowed (so a decorator such as accounting_solver can sit in between)
/// or owned.
class per_matrix_batch_solver final : public batch_solver {
 public:
  per_matrix_batch_solver(linear_solver& inner, int max_size);
  per_matrix_batch_solver(std::unique_ptr<linear_solver> inner, int max_size);

  std::string_view name() const noexcept override { return inner_->name(); }
  batch_preference preference() const noexcept override { return {}; }
  void solve(std::span<batch_status> status, batch_ref x, batch_cref a, batch_cref b,
             matrix_structure structure) override;
  void reseed(std::uint64_t seed) noexcept override { inner_->reseed(seed); }
  void reserve(int max_rhs) override;

 private:
  std::unique_ptr<linear_solver> owned_;
  linear_solver* inner_;
  cmat a_;
  cmat b_;
  cmat x_;
};

/// Digital batch backends on the compact SIMD kernels (AVX2/FMA when built for
/// x86-64-v3, one lane otherwise): Cholesky across the lanes of a group, then forward and
/// backward substitution for every right-hand side. A system whose Cholesky fails (not
/// positive definite in working precision) is answered by the per-matrix digital backend
/// of the same precision (LDLT), so statuses and results match create_digital_solver();
/// general (non-Hermitian) batches go to it entirely. Singularity is the same pivot-ratio
/// test as the per-matrix backend.
std::unique_ptr<batch_solver> create_digital_batch_solver(bool single_precision, int max_size);

}  // namespace amimo::solver
