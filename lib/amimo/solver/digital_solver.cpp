#include <amimo/solver/digital_solver.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <limits>

namespace amimo::solver {
namespace {

template <typename Real>
class digital_solver final : public linear_solver {
  using scalar = std::complex<Real>;
  using matrix = Eigen::Matrix<scalar, Eigen::Dynamic, Eigen::Dynamic>;

 public:
  explicit digital_solver(int max_size)
      : a_(max_size, max_size), work_(max_size, max_size), llt_(max_size), ldlt_(max_size), lu_(max_size) {}

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
      llt_.compute(a_);
      if (llt_.info() == Eigen::Success) {
        const auto diag = llt_.matrixLLT().diagonal().real().cwiseAbs();
        const Real ratio = diag.minCoeff() / diag.maxCoeff();
        method_ = method::llt;
        usable_ = ratio * ratio > eps;
      } else {
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
  enum class method { llt, ldlt, lu };
  matrix a_;
  matrix work_;  // right-hand sides in, solutions out (rows = max size, columns grow on demand)
  Eigen::LLT<matrix> llt_;
  Eigen::LDLT<matrix> ldlt_;
  Eigen::PartialPivLU<matrix> lu_;
  method method_ = method::llt;
  bool usable_ = false;
};

}  // namespace

std::unique_ptr<linear_solver> create_digital_solver(digital_precision precision, int max_size) {
  if (precision == digital_precision::f32) return std::make_unique<digital_solver<float>>(max_size);
  return std::make_unique<digital_solver<double>>(max_size);
}

}  // namespace amimo::solver
