#include <amimo/core/error.h>
#include <amimo/detect/linear_detector.h>

#include <cmath>
#include <limits>
#include <string>

namespace amimo::detect {

detector_kind parse_detector_kind(std::string_view name) {
  if (name == "zf") return detector_kind::zf;
  if (name == "mmse") return detector_kind::mmse;
  throw config_error("unknown detector '" + std::string(name) + "' (expected zf or mmse)");
}

std::string_view to_string(detector_kind kind) noexcept { return kind == detector_kind::zf ? "zf" : "mmse"; }

detection_mode parse_detection_mode(std::string_view name) {
  if (name == "per-vector") return detection_mode::per_vector;
  if (name == "per-block") return detection_mode::per_block;
  throw config_error("unknown detection mode '" + std::string(name) + "' (expected per-vector or per-block)");
}

std::string_view to_string(detection_mode mode) noexcept {
  return mode == detection_mode::per_vector ? "per-vector" : "per-block";
}

linear_detector::linear_detector(detector_kind kind, detection_mode mode, solver::linear_solver& solver,
                                 int antennas, int users, int max_vectors)
    : kind_(kind), mode_(mode), solver_(solver), antennas_(antennas), users_(users),
      h_(antennas, users), gram_(users, users), h_adjoint_(users, antennas), filter_(users, antennas),
      inverse_(users, users), identity_(cmat::Identity(users, users)), matched_(users, max_vectors),
      bias_(users, 1.0), sinr_(users, 0.0), noise_variance_(users, std::numeric_limits<double>::infinity()) {
  if (antennas <= 0 || users <= 0 || max_vectors <= 0) {
    throw config_error("detector sizes must be positive");
  }
  if (kind == detector_kind::zf && users > antennas) {
    throw config_error("zero-forcing needs users <= antennas (got " + std::to_string(users) + " users, " +
                       std::to_string(antennas) + " antennas)");
  }
}

channel_report linear_detector::set_channel(cmat_cref h, double n0) {
  h_ = h;
  n0_ = n0;
  h_adjoint_ = h_.adjoint();
  // HᴴH is Hermitian: compute one triangle (half the work of a full product), mirror it.
  gram_.setZero();
  gram_.selfadjointView<Eigen::Lower>().rankUpdate(h_adjoint_);
  gram_.triangularView<Eigen::StrictlyUpper>() = gram_.adjoint();
  if (kind_ == detector_kind::mmse) gram_.diagonal().array() += n0;

  const solver::matrix_status loaded = solver_.set_matrix(gram_, solver::matrix_structure::hermitian);
  bool resolved = loaded.ok;
  if (resolved && mode_ == detection_mode::per_block) {
    // W = A⁻¹Hᴴ. Its products give A⁻¹'s diagonal without a further solve:
    // ZF: W Wᴴ = A⁻¹; MMSE: W H = I − N0·A⁻¹.
    resolved = solver_.solve(filter_, h_adjoint_).ok;
    if (resolved) {
      for (int k = 0; k < users_; ++k) {
        inverse_(k, k) = kind_ == detector_kind::zf
                             ? cf64(filter_.row(k).squaredNorm(), 0.0)
                             : (1.0 - filter_.row(k).transpose().cwiseProduct(h_.col(k)).sum()) / n0;
      }
    }
  } else if (resolved) {
    // Per-vector mode: the diagonal of A⁻¹ needs its own solve with identity columns.
    resolved = solver_.solve(inverse_, identity_).ok;
  }
  compute_stream_quality(resolved);
  return {resolved};
}

void linear_detector::compute_stream_quality(bool resolved) {
  resolved_ = resolved;
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int k = 0; k < users_; ++k) {
    const double d = inverse_(k, k).real();
    double sinr = 0.0;
    double bias = 1.0;
    if (resolved && std::isfinite(d) && d > 0.0) {
      if (kind_ == detector_kind::zf) {
        sinr = 1.0 / (n0_ * d);
      } else {
        bias = 1.0 - n0_ * d;
        sinr = bias > 0.0 ? bias / (1.0 - bias) : 0.0;
      }
    }
    if (!(bias > 0.0)) bias = 1.0;
    bias_[k] = bias;
    sinr_[k] = sinr;
    noise_variance_[k] = sinr > 0.0 ? 1.0 / sinr : inf;
  }
}

bool linear_detector::detect(cmat_ref s_hat, cmat_cref y) {
  const Eigen::Index vectors = y.cols();
  if (!resolved_ || vectors > matched_.cols() || y.rows() != antennas_) {
    s_hat.setZero();
    return false;
  }
  bool ok = true;
  if (mode_ == detection_mode::per_block) {
    s_hat.noalias() = filter_ * y;
  } else {
    auto matched = matched_.leftCols(vectors);
    matched.noalias() = h_adjoint_ * y;
    ok = solver_.solve(s_hat, matched).ok;
  }
  if (!ok) {
    s_hat.setZero();
    return false;
  }
  if (kind_ == detector_kind::mmse) {
    for (int k = 0; k < users_; ++k) s_hat.row(k) /= bias_[k];
  }
  return true;
}

}  // namespace amimo::detect
