#include <amimo/analog/bit_slicing.h>
#include <amimo/analog/device_model.h>
#include <amimo/analog/hp_inv_solver.h>
#include <amimo/analog/hp_mvm.h>
#include <amimo/analog/lp_inv.h>
#include <amimo/core/error.h>
#include <amimo/core/normal_stream.h>
#include <amimo/core/rng.h>
#include <amimo/solver/digital_solver.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace amimo::analog {

namespace {
constexpr double kDivergenceFloorCap = 0.125;
}  // namespace

struct hp_inv_solver::impl {
  impl(analog_profile p, analog_mode m, int max, std::uint64_t chip_seed)
      : profile(std::move(p)),
        mode(m),
        devices(profile.device, chip_seed),
        mvm(profile, devices),
        inv(profile, devices),
        fallback(solver::create_digital_solver(profile.refinement.fallback == "digital-f32"
                                                   ? solver::digital_precision::f32
                                                   : solver::digital_precision::f64,
                                               max)),
        history(static_cast<std::size_t>(profile.refinement.iterations) + 1, 0.0) {
    // Residual growth below 2^8 times the precision floor is read noise, not divergence;
    // capped at 1/8 so that with few bits (slices·bits < 11) a residual growing above an
    // eighth of the right-hand side is still caught (uncapped, 6 bits gave a floor of 4 and
    // a growing, 700%-wrong answer came back as an analog success).
    const int precision_bits = std::min(profile.refinement.input_bits, profile.device.bits * profile.refinement.slices);
    divergence_floor = std::min(std::ldexp(1.0, -(precision_bits - 8)), kDivergenceFloorCap);
  }

  struct column_result {
    bool analog_ok = true;
    bool diverged = false;
    int iterations = 0;
    double residual = std::numeric_limits<double>::quiet_NaN();
  };

  column_result refine(int column, const rvec& rhs, rvec& out);
  bool solve_fallback_column(cmat_ref x, cmat_cref b, Eigen::Index j);

  analog_profile profile;
  analog_mode mode;
  rng gen;             // uniforms (HP-MVM thinning)
  normal_stream noise;  // every normal: programming error, read noise, feedback trim
  device_model devices;
  hp_mvm mvm;
  lp_inv inv;
  std::unique_ptr<solver::linear_solver> fallback;
  bool fallback_loaded = false;
  solver::matrix_structure structure = solver::matrix_structure::general;

  cmat a_copy;
  bool matrix_ok = false;
  bool analog_usable = false;
  bool real_mode = false;
  int n = 0;       // complex size
  int nr = 0;      // real size
  double alpha = 1.0;
  double lambda = 0.0;
  double divergence_floor = 0.0;
  double lp_gain = 1.0;  // LP-INV input gain set from the diagonal at programming
  bool equilibrated = false;
  rvec scale;            // D of the equilibration D·A·D (ones when not equilibrated)
  rmat a_real;
  rmat a_bar;
  rmat a_q;
  std::vector<rmat> digits;
  programming_activity programming;
  solve_activity activity;
  std::vector<double> history;
  iterate_observer observer;
  rvec b_r, x_r, x_bar, r, y, d, r_scaled, x_obs;
};

hp_inv_solver::impl::column_result hp_inv_solver::impl::refine(int column, const rvec& rhs, rvec& out) {
  column_result result;
  const double b_norm = rhs.norm();
  if (b_norm == 0.0) {
    out.setZero(nr);
    result.residual = 0.0;
    return result;
  }
  if (!std::isfinite(b_norm)) {
    result.analog_ok = false;
    return result;
  }
  const refinement_params& rp = profile.refinement;
  const int max_iterations = mode == analog_mode::lp_only ? 1 : rp.iterations;
  x_bar.setZero(nr);
  r = rhs;
  double rel = 1.0;
  history[0] = std::max(history[0], rel);
  for (int k = 1; k <= max_iterations; ++k) {
    if (rp.tolerance > 0.0 && rel <= rp.tolerance) break;
    // An exactly zero residual (x̄ solves the programmed system exactly, e.g. a 1×1 system
    // on an ideal chip) is converged: there is nothing left to refine, and the next step
    // would divide by ‖r‖∞ = 0 and be mistaken for divergence.
    if (rel == 0.0) break;
    const double s = r.lpNorm<Eigen::Infinity>();
    r_scaled = r / s;
    inv.apply(r_scaled, d, noise, activity);
    x_bar += (s * lp_gain) * d;
    result.iterations = k;
    if (mode == analog_mode::lp_only) {
      if (observer) {
        x_obs = x_bar.cwiseProduct(scale) / alpha;
        observer(column, k, std::span<const double>(x_obs.data(), static_cast<std::size_t>(nr)));
      }
      break;
    }
    mvm.multiply(x_bar, y, gen, noise, activity);
    r = rhs - y;
    const double previous = rel;
    rel = r.norm() / b_norm;
    history[static_cast<std::size_t>(k)] = std::max(history[static_cast<std::size_t>(k)], rel);
    if (observer) {
      x_obs = x_bar.cwiseProduct(scale) / alpha;
      observer(column, k, std::span<const double>(x_obs.data(), static_cast<std::size_t>(nr)));
    }
    if (!std::isfinite(rel) || (rel > rp.divergence_growth * previous && rel > divergence_floor)) {
      result.analog_ok = false;
      result.diverged = true;
      result.residual = rel;
      return result;
    }
  }
  if (mode == analog_mode::refine) {
    result.residual = rel;
    // A final residual no smaller than the right-hand side (x̄ no better than 0) is not an
    // answer, whatever the tolerance.
    if ((rp.tolerance > 0.0 && !(rel <= rp.tolerance)) || !(rel < 1.0)) {
      result.analog_ok = false;
      return result;
    }
  }
  out = x_bar.cwiseProduct(scale) / alpha;
  return result;
}

bool hp_inv_solver::impl::solve_fallback_column(cmat_ref x, cmat_cref b, Eigen::Index j) {
  if (!fallback_loaded) {
    fallback_loaded = true;
    if (!fallback->set_matrix(a_copy, structure).ok) {
      matrix_ok = false;
    }
  }
  if (!matrix_ok) return false;
  return fallback->solve(x.col(j), b.col(j)).ok;
}

hp_inv_solver::hp_inv_solver(analog_profile profile, analog_mode mode, int max_size, std::uint64_t chip_seed) {
  validate(profile);
  if (max_size <= 0) throw config_error("solver size must be positive");
  impl_ = std::make_unique<impl>(std::move(profile), mode, max_size, chip_seed);
}

hp_inv_solver::~hp_inv_solver() = default;

std::string_view hp_inv_solver::name() const noexcept {
  return impl_->mode == analog_mode::refine ? "analog" : "analog-lp";
}

void hp_inv_solver::reseed(std::uint64_t seed) noexcept {
  impl_->gen.reseed(seed);
  impl_->noise.reseed(seed);
}

void hp_inv_solver::set_iterate_observer(iterate_observer observer) { impl_->observer = std::move(observer); }

const analog_profile& hp_inv_solver::profile() const noexcept { return impl_->profile; }
analog_mode hp_inv_solver::mode() const noexcept { return impl_->mode; }
const programming_activity& hp_inv_solver::last_programming() const noexcept { return impl_->programming; }
const solve_activity& hp_inv_solver::last_solve() const noexcept { return impl_->activity; }
double hp_inv_solver::last_lambda_min() const noexcept { return impl_->lambda; }
int hp_inv_solver::real_size() const noexcept { return impl_->nr; }

std::span<const double> hp_inv_solver::last_residual_history() const noexcept {
  std::size_t used = 1;
  for (std::size_t k = 0; k < impl_->history.size(); ++k) {
    if (impl_->history[k] > 0.0) used = k + 1;
  }
  return {impl_->history.data(), used};
}

solver::matrix_status hp_inv_solver::set_matrix(cmat_cref a, solver::matrix_structure structure) {
  impl& m = *impl_;
  // Larger than max_size is allowed (buffers grow, like the digital backends); a
  // non-square or empty matrix is a caller error reported as an unusable matrix.
  if (a.rows() != a.cols() || a.rows() == 0) {
    m.matrix_ok = false;
    m.programming = {};
    return {false, false, 0.0, 0.0};
  }
  m.programming = {};
  m.structure = structure;
  m.fallback_loaded = false;
  m.n = static_cast<int>(a.rows());
  m.a_copy = a;
  m.lambda = 0.0;
  solver::matrix_status status;
  if (!a.allFinite()) {
    m.matrix_ok = false;
    m.analog_usable = false;
    m.programming.analog_usable = false;
    status.ok = false;
    status.positive_definite = false;
    return status;
  }
  m.matrix_ok = true;
  m.real_mode = a.imag().isZero(0.0);
  m.nr = m.real_mode ? m.n : 2 * m.n;
  if (m.real_mode) {
    m.a_real = a.real();
  } else {
    m.a_real.resize(m.nr, m.nr);
    m.a_real.topLeftCorner(m.n, m.n) = a.real();
    m.a_real.topRightCorner(m.n, m.n) = -a.imag();
    m.a_real.bottomLeftCorner(m.n, m.n) = a.imag();
    m.a_real.bottomRightCorner(m.n, m.n) = a.real();
  }
  const int levels = 1 << m.profile.device.bits;
  // Equilibration (digital, at programming time): D·A·D with D = diag(1/√a_ii) gives a
  // unit diagonal, the largest entry of a positive definite matrix, and α = L/(L−1) puts
  // it exactly on the top level of the most significant slice, so A0 holds the diagonal
  // without quantisation error. A matrix with a non-positive diagonal is mapped unscaled.
  m.equilibrated = m.profile.refinement.equilibrate && (m.a_real.diagonal().array() > 0.0).all();
  if (m.equilibrated) {
    m.scale = m.a_real.diagonal().cwiseSqrt().cwiseInverse();
    m.a_real = m.scale.asDiagonal() * m.a_real * m.scale.asDiagonal();
    m.programming.digital_ops += 3.0 * static_cast<double>(m.nr) * m.nr;
  } else {
    m.scale.setOnes(m.nr);
  }
  const double largest = m.a_real.cwiseAbs().maxCoeff();
  m.analog_usable = largest > 0.0 && std::isfinite(largest);
  if (m.analog_usable) {
    m.alpha = m.equilibrated ? largest * levels / (levels - 1.0)
                             : largest / slice_full_scale(levels, m.profile.refinement.slices);
    m.a_bar = m.a_real / m.alpha;
    slice_matrix(m.a_bar, levels, m.profile.refinement.slices, m.digits, m.a_q);
    if (m.mode == analog_mode::refine) {
      m.mvm.program(m.digits, m.a_q, m.noise, m.programming);
      if (m.profile.refinement.faults == fault_policy::fallback && m.mvm.faults() > 0) m.analog_usable = false;
    }
    const bool inv_ok = m.inv.program(m.a_bar, m.noise, m.programming);
    // The periphery sets the INV circuit's input gain so that A0/g matches Ā on the
    // diagonal in the least-squares sense (with the paper mapping the top digit
    // saturates at (L−1)/L, which would otherwise bias every LP-INV output):
    // g = Σ A0_ii² / Σ A0_ii·Ā_ii, A0 as the periphery believes it is programmed.
    m.lp_gain = 1.0;
    if (inv_ok) {
      const auto a0_diag = m.inv.nominal().diagonal();
      const double num = a0_diag.squaredNorm();
      const double den = a0_diag.dot(m.a_bar.diagonal());
      if (den > 0.0 && num > 0.0) m.lp_gain = num / den;
    }
    m.programming.digital_ops += 4.0 * m.nr;
    m.lambda = m.inv.lambda_min();
    m.analog_usable = m.analog_usable && inv_ok;
  }
  m.programming.analog_usable = m.analog_usable;
  const auto buffer = static_cast<Eigen::Index>(m.nr);
  for (rvec* v : {&m.b_r, &m.x_r, &m.x_bar, &m.r, &m.y, &m.d, &m.r_scaled, &m.x_obs}) v->resize(buffer);
  if (!m.analog_usable) {
    // Every solve will go to the digital backend: load it now so the status is honest.
    m.fallback_loaded = true;
    const solver::matrix_status digital = m.fallback->set_matrix(a, structure);
    m.matrix_ok = digital.ok;
    status.ok = digital.ok;
    status.positive_definite = digital.positive_definite;
  }
  return status;
}

solver::solve_status hp_inv_solver::solve(cmat_ref x, cmat_cref b) {
  impl& m = *impl_;
  m.activity.reset();
  std::fill(m.history.begin(), m.history.end(), 0.0);
  solver::solve_status status;
  if (!m.matrix_ok || b.rows() != m.n || x.rows() != m.n || x.cols() != b.cols()) {
    x.setZero();
    status.ok = false;
    return status;
  }
  double worst_residual = -1.0;
  for (Eigen::Index j = 0; j < b.cols(); ++j) {
    bool analog_ok = m.analog_usable;
    bool diverged = false;
    if (analog_ok) {
      const int parts = m.real_mode ? 2 : 1;
      for (int part = 0; part < parts && analog_ok; ++part) {
        if (m.real_mode) {
          if (part == 0) {
            m.b_r = b.col(j).real();
          } else {
            m.b_r = b.col(j).imag();
          }
        } else {
          m.b_r.head(m.n) = b.col(j).real();
          m.b_r.tail(m.n) = b.col(j).imag();
        }
        if (m.equilibrated) {
          m.b_r.array() *= m.scale.array();
          m.activity.digital_ops += 2.0 * m.nr;  // D·b and D·x̄
        }
        const impl::column_result res = m.refine(static_cast<int>(j), m.b_r, m.x_r);
        status.iterations = std::max(status.iterations, res.iterations);
        analog_ok = res.analog_ok;
        diverged = res.diverged;
        if (!analog_ok) break;
        if (std::isfinite(res.residual)) worst_residual = std::max(worst_residual, res.residual);
        if (m.real_mode) {
          if (part == 0) {
            x.col(j).real() = m.x_r;
          } else {
            x.col(j).imag() = m.x_r;
          }
        } else {
          x.col(j).real() = m.x_r.head(m.n);
          x.col(j).imag() = m.x_r.tail(m.n);
        }
      }
    }
    if (!analog_ok) {
      ++m.activity.fallback_columns;
      if (diverged) {
        ++m.activity.diverged_columns;
      } else if (m.analog_usable) {
        ++m.activity.unconverged_columns;
      }
      status.fallback = true;
      if (!m.solve_fallback_column(x, b, j)) {
        x.setZero();
        status.ok = false;
        return status;
      }
    }
  }
  if (worst_residual >= 0.0) status.residual = worst_residual;
  return status;
}

}  // namespace amimo::analog
