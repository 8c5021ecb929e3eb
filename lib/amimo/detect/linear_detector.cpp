#include <amimo/core/error.h>
#include <amimo/detect/linear_detector.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace amimo::detect {
namespace {

// std::complex<double> arrays may be accessed as arrays of (real, imaginary) doubles
// ([complex.numbers.general]); the kernels below use that to avoid complex-operator calls.
constexpr double kMaxSinr = 1e15;

const double* as_reals(const cf64* p) noexcept { return reinterpret_cast<const double*>(p); }
double* as_reals(cf64* p) noexcept { return reinterpret_cast<double*>(p); }


// ŝ = W' Y (W' the unbiased filter) for a fixed user count K, T received vectors at a time: the K·T
// complex accumulators live in registers and every antenna adds one independent
// multiply-add to each, so the loop is bound by arithmetic throughput, not by the
// latency of one long sum.
template <int K, int T>
void equalise_fixed(const double* w, int antennas, const double* y, Eigen::Index y_stride, double* s,
                    Eigen::Index s_stride, Eigen::Index vectors) noexcept {
  Eigen::Index t = 0;
  const auto block = [&](auto columns) {
    constexpr int C = decltype(columns)::value;
    double acc[C][2 * K] = {};
    for (int a = 0; a < antennas; ++a) {
      const double* wa = w + 2 * K * a;
      for (int j = 0; j < C; ++j) {
        const double yr = y[(t + j) * y_stride + 2 * a];
        const double yi = y[(t + j) * y_stride + 2 * a + 1];
        for (int k = 0; k < K; ++k) {
          acc[j][2 * k] += wa[2 * k] * yr - wa[2 * k + 1] * yi;
          acc[j][2 * k + 1] += wa[2 * k] * yi + wa[2 * k + 1] * yr;
        }
      }
    }
    for (int j = 0; j < C; ++j) {
      double* out = s + (t + j) * s_stride;
      for (int k = 0; k < K; ++k) {
        out[2 * k] = acc[j][2 * k];
        out[2 * k + 1] = acc[j][2 * k + 1];
      }
    }
  };
  for (; t + T <= vectors; t += T) block(std::integral_constant<int, T>{});
  for (; t < vectors; ++t) block(std::integral_constant<int, 1>{});
}

}  // namespace

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
      filter_t_(antennas, users), inverse_(users, users), identity_(cmat::Identity(users, users)),
      gains_(users, users), matched_(users, max_vectors), inverse_gain_(users, cf64{}), sinr_(users, 0.0),
      noise_variance_(users, kErased) {
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
  // Plain loops: at MIMO sizes (K ≤ 16) a general matrix-product kernel costs more in
  // set-up than the arithmetic.
  const auto n = static_cast<std::size_t>(antennas_);
  for (int j = 0; j < users_; ++j) {
    const double* hj = as_reals(h_.col(j).data());
    for (int i = j; i < users_; ++i) {
      const double* hi = as_reals(h_.col(i).data());
      double re = 0.0;
      double im = 0.0;
      for (std::size_t a = 0; a < 2 * n; a += 2) {  // conj(h_ai) · h_aj
        re += hi[a] * hj[a] + hi[a + 1] * hj[a + 1];
        im += hi[a] * hj[a + 1] - hi[a + 1] * hj[a];
      }
      gram_(i, j) = cf64(re, im);
      gram_(j, i) = cf64(re, -im);
    }
    gram_(j, j) = cf64(gram_(j, j).real() + (kind_ == detector_kind::mmse ? n0 : 0.0), 0.0);
  }

  const solver::matrix_status loaded = solver_.set_matrix(gram_, solver::matrix_structure::hermitian);
  bool resolved = loaded.ok && std::isfinite(n0) && n0 >= 0.0;
  if (resolved && mode_ == detection_mode::per_block && users_ >= antennas_) {
    resolved = solver_.solve(filter_, h_adjoint_).ok;  // W = A⁻¹Hᴴ: N ≤ K right-hand sides
  } else if (resolved && mode_ == detection_mode::per_block) {
    // W = X Hᴴ with X the solver's answer to A X = I: K < N right-hand sides instead of
    // Hᴴ's N (DESIGN.md §2), a quarter of the analog refinement solves at 16×4.
    resolved = solver_.solve(inverse_, identity_).ok;
    if (resolved) filter_.noalias() = inverse_.lazyProduct(h_adjoint_);  // K×K by K×N: no GEMM set-up
  } else if (resolved) {
    // Per-vector mode: each vector is its own solve; the filter those solves amount to is
    // W = X Hᴴ with X the solver's answer to A X = I (K right-hand sides, as before).
    resolved = solver_.solve(inverse_, identity_).ok;
    if (resolved) filter_.noalias() = inverse_ * h_adjoint_;
  }
  compute_stream_quality(resolved);
  channel_report report{resolved, 0};
  for (int k = 0; k < users_; ++k) report.erased_streams += erased(k) ? 1 : 0;
  return report;
}

namespace {

// The per-block rule for one stream, branch-free, so that a loop over streams vectorises:
// every choice is a bit select rather than a branch (GCC will not if-convert a branch that
// guards a division under -ftrapping-math), and every operation is one IEEE rounding with no
// contraction left to the compiler (|g|² by an explicit fma), so scalar and vector code give
// the same bits.
inline double select(bool condition, double if_true, double if_false) noexcept {
  const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(condition);
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(if_true) & mask) |
                               (std::bit_cast<std::uint64_t>(if_false) & ~mask));
}
struct block_quality {
  double sinr, scale_re, scale_im;
  bool usable;  // finite gain with a normal |g|²: 1/g = conj(g)/|g|² to rounding
};
inline block_quality per_block_quality(double re, double im, double disturbance) noexcept {
  constexpr double kMin = std::numeric_limits<double>::min();
  constexpr double kMax = std::numeric_limits<double>::max();
  const double power = std::fma(re, re, im * im);
  const bool usable = (power >= kMin) & (power <= kMax);
  return {power / disturbance, re / power, -im / power, usable};
}
// Zero disturbance (a noiseless, exactly inverted channel) is a perfect stream, not an
// unknown one: SINR is capped at 150 dB so LLRs stay finite in float. A usable gain's
// stream keeps a finite, positive SINR; anything else is erased (SINR 0), a NaN SINR (a NaN
// disturbance) included.
inline double final_sinr(double sinr, bool usable) noexcept {
  const double capped = select(usable & (sinr > kMaxSinr), kMaxSinr, sinr);
  return select(usable & (capped > 0.0) & (capped <= kMaxSinr), capped, 0.0);
}

}  // namespace

stream_quality assess_stream(detector_kind kind, detection_mode mode, double n0, cf64 g, double disturbance,
                             double x_kk, bool resolved) noexcept {
  if (!resolved) return {};
  const block_quality q = per_block_quality(g.real(), g.imag(), disturbance);
  double sinr = q.sinr;
  cf64 scale(q.scale_re, q.scale_im);
  if (mode == detection_mode::per_vector) {
    const double b = kind == detector_kind::mmse ? 1.0 - n0 * x_kk : 1.0;
    if (std::isfinite(b) && b > 0.0) {
      sinr = b * b / (std::norm(g - b) + disturbance);
      scale = cf64(1.0 / b, 0.0);
    }
  }
  sinr = final_sinr(sinr, q.usable);
  if (!(sinr > 0.0)) return {};
  return {sinr, scale};
}

void assess_streams_per_block(int count, const double* g_re, const double* g_im, const double* disturbance,
                              const unsigned char* resolved, double* __restrict sinr,
                              double* __restrict noise_variance, double* __restrict scale_re,
                              double* __restrict scale_im) noexcept {
  // __restrict: the outputs alias nothing (with nine pointers GCC will not version the loop
  // for aliasing, and would leave it scalar).
  for (int i = 0; i < count; ++i) {
    const block_quality q = per_block_quality(g_re[i], g_im[i], disturbance[i]);
    const double s = final_sinr(q.sinr, q.usable & (resolved[i] != 0));
    const bool kept = s > 0.0;
    sinr[i] = s;
    noise_variance[i] = select(kept, 1.0 / s, linear_detector::kErased);
    scale_re[i] = select(kept, q.scale_re, 0.0);
    scale_im[i] = select(kept, q.scale_im, 0.0);
  }
}

void linear_detector::compute_stream_quality(bool resolved) {
  const auto users = static_cast<std::size_t>(users_);
  if (resolved) gains_.noalias() = filter_ * h_;
  for (std::size_t k = 0; k < users; ++k) {
    const auto ki = static_cast<Eigen::Index>(k);
    cf64 gain{};
    double disturbance = 0.0;
    double x_kk = 0.0;
    if (resolved) {
      gain = gains_(ki, ki);
      disturbance = n0_ * filter_.row(ki).squaredNorm();  // noise through w_k
      for (Eigen::Index j = 0; j < users_; ++j) {
        if (j != ki) disturbance += std::norm(gains_(ki, j));  // residual interference
      }
      if (mode_ == detection_mode::per_vector) x_kk = inverse_(ki, ki).real();
    }
    const stream_quality q = assess_stream(kind_, mode_, n0_, gain, disturbance, x_kk, resolved);
    sinr_[k] = q.sinr;
    noise_variance_[k] = q.sinr > 0.0 ? 1.0 / q.sinr : kErased;
    inverse_gain_[k] = q.scale;
  }
  resolved_ = resolved;
  if (resolved && mode_ == detection_mode::per_block) {
    // W' = diag(1/g) W: unbiased, and an erased stream's row is 0 (its output is 0).
    for (std::size_t k = 0; k < users; ++k) filter_.row(static_cast<Eigen::Index>(k)) *= inverse_gain_[k];
    filter_t_ = filter_.transpose();
  }
}

void linear_detector::equalise(cmat_ref s_hat, cmat_cref y) const {
  const double* w = as_reals(filter_.data());  // users × antennas, column-major
  const double* yv = as_reals(y.data());
  double* sv = as_reals(s_hat.data());
  const Eigen::Index y_stride = 2 * y.outerStride();
  const Eigen::Index s_stride = 2 * s_hat.outerStride();
  const Eigen::Index vectors = y.cols();
  switch (users_) {
    case 1: return equalise_fixed<1, 4>(w, antennas_, yv, y_stride, sv, s_stride, vectors);
    case 2: return equalise_fixed<2, 4>(w, antennas_, yv, y_stride, sv, s_stride, vectors);
    case 4: return equalise_fixed<4, 4>(w, antennas_, yv, y_stride, sv, s_stride, vectors);
    case 8: return equalise_fixed<8, 2>(w, antennas_, yv, y_stride, sv, s_stride, vectors);
    case 16: return equalise_fixed<16, 1>(w, antennas_, yv, y_stride, sv, s_stride, vectors);
    default: break;
  }
  // Other user counts: one dot product per output (w'ᵀ columns contiguous).
  const auto n = static_cast<std::size_t>(antennas_);
  for (Eigen::Index t = 0; t < vectors; ++t) {
    const double* yt = as_reals(y.col(t).data());
    for (int k = 0; k < users_; ++k) {
      const double* wk = as_reals(filter_t_.col(k).data());
      double re = 0.0;
      double im = 0.0;
      for (std::size_t a = 0; a < 2 * n; a += 2) {
        re += wk[a] * yt[a] - wk[a + 1] * yt[a + 1];
        im += wk[a] * yt[a + 1] + wk[a + 1] * yt[a];
      }
      s_hat(k, t) = cf64(re, im);
    }
  }
}

bool linear_detector::detect(cmat_ref s_hat, cmat_cref y) {
  const Eigen::Index vectors = y.cols();
  // A non-finite received sample erases the call (as a non-finite channel does): per block
  // its vector's outputs would otherwise be NaN beside a finite SINR.
  if (!resolved_ || vectors > matched_.cols() || y.rows() != antennas_ || !y.allFinite()) {
    s_hat.setZero();
    return false;
  }
  if (mode_ == detection_mode::per_block) {
    equalise(s_hat, y);
    return true;
  }
  auto matched = matched_.leftCols(vectors);
  matched.noalias() = h_adjoint_ * y;
  if (!solver_.solve(s_hat, matched).ok) {
    s_hat.setZero();
    return false;
  }
  for (int k = 0; k < users_; ++k) s_hat.row(k) *= inverse_gain_[static_cast<std::size_t>(k)];
  return true;
}

}  // namespace amimo::detect
