#include <amimo/solver/digital_solver.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace amimo::solver {
namespace {

template <typename Real>
class digital_solver final : public linear_solver {
  using scalar = std::complex<Real>;
  using matrix = Eigen::Matrix<scalar, Eigen::Dynamic, Eigen::Dynamic>;

 public:
  explicit digital_solver(int max_size)
      : a_(max_size, max_size), work_(max_size, max_size), llt_(max_size), ldlt_(max_size), lu_(max_size),
        inv_diag_(static_cast<std::size_t>(std::max(max_size, 1))) {}

  std::string_view name() const noexcept override {
    return std::is_same_v<Real, float> ? "digital-f32" : "digital-f64";
  }

  matrix_status set_matrix(cmat_cref a, matrix_structure structure) override {
    matrix_status status;
    usable_ = false;
    if (a.rows() != a.cols() || a.rows() == 0 || !a.allFinite()) {
      status.ok = false;
      status.positive_definite = false;
      return status;
    }
    a_ = a.template cast<scalar>();
    constexpr Real eps = std::numeric_limits<Real>::epsilon();
    if (structure == matrix_structure::hermitian) {
      bool factorised = false;
      if (a_.rows() <= kSmall) {
        if (inv_diag_.size() < static_cast<std::size_t>(a_.rows())) inv_diag_.resize(static_cast<std::size_t>(a_.rows()));
        factorised = small_cholesky();
        method_ = method::small_llt;
        if (!factorised) a_ = a.template cast<scalar>();  // undo the partial factorisation
      } else {
        llt_.compute(a_);
        factorised = llt_.info() == Eigen::Success;
        method_ = method::llt;
        if (factorised) {
          const auto diag = llt_.matrixLLT().diagonal().real().cwiseAbs();
          const Real ratio = diag.minCoeff() / diag.maxCoeff();
          usable_ = ratio * ratio > eps;
        }
      }
      if (!factorised) {
        status.positive_definite = false;
        ldlt_.compute(a_);
        const auto d = ldlt_.vectorD().cwiseAbs();
        method_ = method::ldlt;
        usable_ = ldlt_.info() == Eigen::Success && d.maxCoeff() > Real(0) &&
                  d.minCoeff() > eps * d.maxCoeff();
      }
    } else {
      status.positive_definite = false;
      lu_.compute(a_);
      const auto u = lu_.matrixLU().diagonal().cwiseAbs();
      method_ = method::lu;
      usable_ = u.maxCoeff() > Real(0) && u.minCoeff() > eps * u.maxCoeff();
    }
    status.ok = usable_;
    return status;
  }

  solve_status solve(cmat_ref x, cmat_cref b) override {
    solve_status status;
    if (!usable_ || b.rows() != a_.rows() || x.rows() != b.rows() || x.cols() != b.cols()) {
      x.setZero();
      status.ok = false;
      return status;
    }
    // Work in a corner of buffers that only ever grow, so alternating right-hand-side
    // counts (identity columns, then received vectors) do not reallocate.
    if (work_.rows() < b.rows() || work_.cols() < b.cols()) {
      work_.resize(std::max(work_.rows(), b.rows()), std::max(work_.cols(), b.cols()));
    }
    auto work = work_.topLeftCorner(b.rows(), b.cols());
    work = b.template cast<scalar>();
    switch (method_) {
      case method::small_llt: small_solve(work); break;
      case method::llt: llt_.solveInPlace(work); break;
      case method::ldlt: ldlt_.solveInPlace(work); break;
      case method::lu: work = lu_.solve(work); break;
    }
    x = work.template cast<cf64>();
    if (!x.allFinite()) {
      x.setZero();
      status.ok = false;
    }
    return status;
  }

 private:
  enum class method { small_llt, llt, ldlt, lu };
  // Up to this size a Hermitian matrix is factorised by the loops below: at MIMO sizes
  // Eigen's blocked LLT spends more on set-up (and an L1 norm of A) than on arithmetic.
  static constexpr Eigen::Index kSmall = 32;

  // A = L Lᴴ into the lower triangle of a_, with 1/L_jj kept in inv_diag_. Returns false
  // (a_ then partly overwritten, so the caller refactorises from `a`) when a pivot is not
  // positive; otherwise sets usable_ by the same pivot-ratio test as the Eigen path.
  bool small_cholesky() {
    const Eigen::Index n = a_.rows();
    Real* l = reinterpret_cast<Real*>(a_.data());  // (i, k) at 2(i + k n)
    Real smallest = std::numeric_limits<Real>::infinity();
    Real largest = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      Real d = l[2 * (j + j * n)];
      for (Eigen::Index k = 0; k < j; ++k) {
        d -= l[2 * (j + k * n)] * l[2 * (j + k * n)] + l[2 * (j + k * n) + 1] * l[2 * (j + k * n) + 1];
      }
      if (!(d > Real(0))) return false;
      const Real root = std::sqrt(d);
      const Real inv = Real(1) / root;
      l[2 * (j + j * n)] = root;
      l[2 * (j + j * n) + 1] = 0;
      inv_diag_[static_cast<std::size_t>(j)] = inv;
      smallest = std::min(smallest, root);
      largest = std::max(largest, root);
      for (Eigen::Index i = j + 1; i < n; ++i) {
        Real re = l[2 * (i + j * n)];
        Real im = l[2 * (i + j * n) + 1];
        for (Eigen::Index k = 0; k < j; ++k) {  // − L_ik · conj(L_jk)
          const Real pr = l[2 * (i + k * n)];
          const Real pi = l[2 * (i + k * n) + 1];
          const Real qr = l[2 * (j + k * n)];
          const Real qi = l[2 * (j + k * n) + 1];
          re -= pr * qr + pi * qi;
          im -= pi * qr - pr * qi;
        }
        l[2 * (i + j * n)] = re * inv;
        l[2 * (i + j * n) + 1] = im * inv;
      }
    }
    const Real ratio = smallest / largest;
    usable_ = ratio * ratio > std::numeric_limits<Real>::epsilon();
    return true;
  }

  // Forward then backward substitution with the factor of small_cholesky(), in place, row
  // by row across all right-hand sides: the updates of one row are independent, so they
  // pipeline instead of forming one long dependency chain per column.
  template <typename Block>
  void small_solve(Block& x) const {
    const Eigen::Index n = a_.rows();
    const Eigen::Index m = x.cols();
    const Eigen::Index ld = 2 * x.outerStride();
    const Real* l = reinterpret_cast<const Real*>(a_.data());  // (i, k) at 2(i + k n)
    Real* v = reinterpret_cast<Real*>(x.data());               // (i, c) at 2i + c ld
    for (Eigen::Index i = 0; i < n; ++i) {  // L z = b
      for (Eigen::Index k = 0; k < i; ++k) {
        const Real lr = l[2 * (i + k * n)];
        const Real li = l[2 * (i + k * n) + 1];
        for (Eigen::Index c = 0; c < m; ++c) {  // z_i −= L_ik z_k
          Real* zi = v + 2 * i + c * ld;
          const Real* zk = v + 2 * k + c * ld;
          zi[0] -= lr * zk[0] - li * zk[1];
          zi[1] -= lr * zk[1] + li * zk[0];
        }
      }
      const Real inv = inv_diag_[static_cast<std::size_t>(i)];
      for (Eigen::Index c = 0; c < m; ++c) {
        v[2 * i + c * ld] *= inv;
        v[2 * i + c * ld + 1] *= inv;
      }
    }
    for (Eigen::Index i = n - 1; i >= 0; --i) {  // Lᴴ x = z
      for (Eigen::Index k = i + 1; k < n; ++k) {
        const Real lr = l[2 * (k + i * n)];
        const Real li = l[2 * (k + i * n) + 1];
        for (Eigen::Index c = 0; c < m; ++c) {  // x_i −= conj(L_ki) x_k
          Real* xi = v + 2 * i + c * ld;
          const Real* xk = v + 2 * k + c * ld;
          xi[0] -= lr * xk[0] + li * xk[1];
          xi[1] -= lr * xk[1] - li * xk[0];
        }
      }
      const Real inv = inv_diag_[static_cast<std::size_t>(i)];
      for (Eigen::Index c = 0; c < m; ++c) {
        v[2 * i + c * ld] *= inv;
        v[2 * i + c * ld + 1] *= inv;
      }
    }
  }

  matrix a_;
  matrix work_;  // right-hand sides in, solutions out (rows = max size, columns grow on demand)
  Eigen::LLT<matrix> llt_;
  Eigen::LDLT<matrix> ldlt_;
  Eigen::PartialPivLU<matrix> lu_;
  std::vector<Real> inv_diag_;
  method method_ = method::llt;
  bool usable_ = false;
};

}  // namespace

std::unique_ptr<linear_solver> create_digital_solver(digital_precision precision, int max_size) {
  if (precision == digital_precision::f32) return std::make_unique<digital_solver<float>>(max_size);
  return std::make_unique<digital_solver<double>>(max_size);
}

}  // namespace amimo::solver
