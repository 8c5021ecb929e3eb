#include <amimo/analog/bit_slicing.h>
#include <amimo/analog/lp_inv.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

namespace amimo::analog {

struct lp_inv::node {
  int size = 0;
  int n1 = 0;  // 0 for a leaf
  int child_a1 = -1;
  int child_s = -1;
  double gain = 1.0;  // array scale β: a leaf's matrix is β·D/L + diag(fb)
  rmat nominal;       // what the periphery believes the node inverts
  // Leaf: the INV circuit.
  rmat digits;
  rvec fb;            // nominal feedback diagonal (node units; zero with lp_diagonal = array)
  rvec fb_g;          // |programmed feedback conductance| in units of G_in
  programmed_cells cells;
  rmat circuit;  // Ã/β + diag(fb)/β + finite-gain term, in units of G_in
  Eigen::PartialPivLU<rmat> lu;
  Eigen::EigenSolver<rmat> eig;
  double lambda_min = 0.0;
  // Split: coupling MVM arrays A2 (n1×n2) and A3 (n2×n1) with their scales, buffers.
  programmed_cells a2;
  programmed_cells a3;
  double a2_scale = 1.0;
  double a3_scale = 1.0;
  rmat d12, d21, q12, q21, s_target, solved12;
  Eigen::PartialPivLU<rmat> lu11;
  rvec t1, u, x2, v, x1, z0, dz;
};

namespace {

int split_point(int size, int array) {
  const int blocks = (size + array - 1) / array;
  return array * ((blocks + 1) / 2);
}

// Pivot-ratio singularity test on an LU factorisation.
bool lu_usable(const Eigen::PartialPivLU<rmat>& lu) {
  const auto diag = lu.matrixLU().diagonal().cwiseAbs();
  const double largest = diag.maxCoeff();
  return std::isfinite(largest) && largest > 0.0 && diag.minCoeff() > largest * 1e-12;
}

}  // namespace

lp_inv::lp_inv(const analog_profile& profile, const device_model& devices)
    : profile_(profile), devices_(devices), levels_(1 << profile.device.bits) {}

lp_inv::~lp_inv() = default;

int lp_inv::build(int size) {
  const int index = static_cast<int>(nodes_.size());
  nodes_.push_back(std::make_unique<node>());
  node& nd = *nodes_.back();
  nd.size = size;
  nd.z0.resize(size);
  nd.dz.resize(size);
  if (size > profile_.circuit.array_size) {
    const int n1 = split_point(size, profile_.circuit.array_size);
    const int n2 = size - n1;
    nd.n1 = n1;
    nd.t1.resize(n1);
    nd.v.resize(n1);
    nd.x1.resize(n1);
    nd.u.resize(n2);
    nd.x2.resize(n2);
    nd.lu11 = Eigen::PartialPivLU<rmat>(n1);
    const int a1 = build(n1);
    const int s = build(n2);
    nodes_[static_cast<std::size_t>(index)]->child_a1 = a1;
    nodes_[static_cast<std::size_t>(index)]->child_s = s;
  } else {
    nd.lu = Eigen::PartialPivLU<rmat>(size);
    // The eigen-solver sizes its workspace on its first compute(); nodes are rebuilt only
    // when the matrix size changes, so later programming reuses it.
  }
  return index;
}

bool lp_inv::program(const rmat& target, rng& gen, programming_activity& activity) {
  const int n = static_cast<int>(target.rows());
  if (n != size_) {
    nodes_.clear();
    size_ = n;
    build(n);
    r_q_.resize(n);
    scratch_.resize(n);
    unit_.resize(n);
    row_abs_.resize(n);
  }
  lambda_min_ = INFINITY;
  // "array": the root keeps the slices' scale (A0 = D_0/L, the most significant slice);
  // "feedback": every array is scaled to its own off-diagonal range.
  const bool own_scale = profile_.circuit.lp_diagonal == "feedback";
  if (!program_node(0, target, own_scale, 1000, gen, activity)) return false;
  // Ranging: the ADC full scale is the largest output the programmed operator can give
  // for a full-scale input, ‖M‖∞, found column by column.
  row_abs_.setZero();
  for (int j = 0; j < n; ++j) {
    unit_.setZero();
    unit_(j) = 1.0;
    apply_noise_free(unit_, scratch_);
    row_abs_ += scratch_.cwiseAbs();
  }
  full_scale_ = profile_.circuit.lp_headroom * row_abs_.maxCoeff();
  return std::isfinite(full_scale_) && full_scale_ > 0.0;
}

const rmat& lp_inv::nominal() const noexcept { return nodes_.front()->nominal; }

// Digits of a block for one array; returns its scale β (block ≈ β·D/L). own_scale puts
// the block's largest (off-diagonal, with split_diagonal) entry on the top level; otherwise
// the slices' scale 1 is kept and larger entries saturate.
double lp_inv::map_block(const rmat& target, bool own_scale, bool split_diagonal, rmat& digits) const {
  const auto l = static_cast<double>(levels_);
  double largest = 0.0;
  for (Eigen::Index j = 0; j < target.cols(); ++j) {
    for (Eigen::Index i = 0; i < target.rows(); ++i) {
      if (!(split_diagonal && i == j)) largest = std::max(largest, std::abs(target(i, j)));
    }
  }
  const double scale = own_scale && largest > 0.0 ? largest * l / (l - 1.0) : 1.0;
  truncate_to_digits(target, scale, levels_, digits);
  if (split_diagonal) digits.diagonal().setZero();
  return scale;
}

void lp_inv::count(const programmed_cells& cells, programming_activity& activity) const {
  ++activity.arrays;
  activity.devices += cells.devices;
  activity.pulses += cells.pulses;
  activity.unverified_cells += cells.faults.size();
  activity.max_pulses_per_device = std::max(activity.max_pulses_per_device, cells.max_device_pulses);
}

bool lp_inv::program_node(int index, const rmat& target, bool own_scale, std::uint64_t key, rng& gen,
                          programming_activity& activity) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  const bool feedback = profile_.circuit.lp_diagonal == "feedback";
  if (nd.n1 == 0) {
    nd.gain = map_block(target, own_scale, feedback, nd.digits);
    if (feedback) {
      nd.fb = target.diagonal();
    } else {
      nd.fb.setZero(nd.size);
    }
    devices_.program(nd.digits, key, profile_.circuit.array_size, gen, nd.cells);
    count(nd.cells, activity);
    nd.nominal = nd.digits * (nd.gain / l);
    nd.nominal.diagonal() += nd.fb;
    // G_in = L·ΔG (one normalised unit); finite gain adds (ΣG_row + G_fb + G_in)/(A_ol·G_in).
    nd.circuit = nd.cells.effective / l;
    nd.fb_g.resize(nd.size);
    for (int i = 0; i < nd.size; ++i) {
      const double fb = nd.fb(i) == 0.0 ? 0.0 : nd.fb(i) * (1.0 + profile_.circuit.feedback_sigma * gen.normal());
      nd.circuit(i, i) += fb / nd.gain;
      nd.fb_g(i) = std::abs(fb / nd.gain);
    }
    if (std::isfinite(profile_.circuit.opamp_gain)) {
      const double g_in = l * devices_.delta_g();
      for (int i = 0; i < nd.size; ++i) {
        nd.circuit(i, i) += (nd.cells.row_g(i) / g_in + nd.fb_g(i) + 1.0) / profile_.circuit.opamp_gain;
      }
    }
    nd.lu.compute(nd.circuit);
    if (!lu_usable(nd.lu)) return false;
    nd.eig.compute(nd.circuit, false);
    if (nd.eig.info() != Eigen::Success) return false;
    nd.lambda_min = nd.eig.eigenvalues().real().minCoeff();
    lambda_min_ = std::min(lambda_min_, nd.lambda_min);
    activity.digital_ops += static_cast<double>(nd.size) * nd.size * nd.size;  // ranging
    return nd.lambda_min > 0.0;
  }
  // BlockAMC split. A1 and the coupling arrays map their blocks of the target; the Schur
  // complement is formed from what the periphery knows they hold (their nominal values)
  // and programmed as its own block with its own scale.
  ++activity.arrays;
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  node& a1 = *nodes_[static_cast<std::size_t>(nd.child_a1)];
  if (!program_node(nd.child_a1, target.topLeftCorner(n1, n1), own_scale, key * 4 + 3, gen, activity)) return false;
  nd.a2_scale = map_block(target.topRightCorner(n1, n2), own_scale, false, nd.d12);
  nd.a3_scale = map_block(target.bottomLeftCorner(n2, n1), own_scale, false, nd.d21);
  devices_.program(nd.d12, key * 4 + 1, profile_.circuit.array_size, gen, nd.a2);
  devices_.program(nd.d21, key * 4 + 2, profile_.circuit.array_size, gen, nd.a3);
  count(nd.a2, activity);
  count(nd.a3, activity);
  nd.q12 = nd.d12 * (nd.a2_scale / l);
  nd.q21 = nd.d21 * (nd.a3_scale / l);
  nd.lu11.compute(a1.nominal);
  if (!lu_usable(nd.lu11)) return false;
  nd.solved12 = nd.lu11.solve(nd.q12);
  nd.s_target.noalias() = nd.q21 * nd.solved12;
  nd.s_target = target.bottomRightCorner(n2, n2) - nd.s_target;
  activity.digital_ops += 2.0 * n1 * n1 * n1 / 3.0 + 2.0 * n1 * n1 * n2 + 2.0 * n2 * n1 * n2;
  const double largest = nd.s_target.cwiseAbs().maxCoeff();
  if (!(largest > 0.0) || !std::isfinite(largest)) return false;
  if (!program_node(nd.child_s, nd.s_target, true, key * 4 + 4, gen, activity)) return false;
  const node& sc = *nodes_[static_cast<std::size_t>(nd.child_s)];
  nd.nominal.resize(nd.size, nd.size);
  nd.nominal.topLeftCorner(n1, n1) = a1.nominal;
  nd.nominal.topRightCorner(n1, n2) = nd.q12;
  nd.nominal.bottomLeftCorner(n2, n1) = nd.q21;
  nd.nominal.bottomRightCorner(n2, n2) = sc.nominal + nd.q21 * nd.solved12;
  nd.gain = 1.0;
  return true;
}

void lp_inv::apply_node(int index, Eigen::Ref<const rvec> r, Eigen::Ref<rvec> z, rng* gen,
                        solve_activity* activity) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  const double sigma = gen != nullptr ? profile_.device.read_noise : 0.0;
  if (nd.n1 == 0) {
    nd.z0 = nd.lu.solve(r);
    if (sigma > 0.0) {
      for (int i = 0; i < nd.size; ++i) {
        const double var = nd.cells.noise_w.row(i).dot(nd.z0.cwiseAbs2());
        nd.dz(i) = sigma * std::sqrt(var) / l * gen->normal();
      }
      z = nd.lu.solve(nd.dz);
      z = nd.z0 - z;  // first-order: Ã⁻¹r − Ã⁻¹(δÃ·Ã⁻¹r)
    } else {
      z = nd.z0;
    }
    if (activity != nullptr) {
      const double inv_lambda = 1.0 / nd.lambda_min;
      const double peak = nd.z0.cwiseAbs().maxCoeff();
      ++activity->inv_settles;
      activity->inv_settle_weight += inv_lambda;
      activity->inv_opamp_weight += nd.size * inv_lambda;
      if (peak > 0.0) {
        const double g_in = static_cast<double>(levels_) * devices_.delta_g();
        const double g = nd.cells.col_g.dot((nd.z0 / peak).cwiseAbs2()) + g_in * nd.fb_g.dot((nd.z0 / peak).cwiseAbs2());
        activity->inv_conductance_weight += g * inv_lambda;
      }
    }
    z /= nd.gain;
    return;
  }
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  const auto mvm = [&](const programmed_cells& cells, double scale, const rvec& in, rvec& out) {
    out.noalias() = cells.effective * in;
    if (sigma > 0.0) {
      for (Eigen::Index i = 0; i < out.size(); ++i) {
        out(i) += sigma * std::sqrt(cells.noise_w.row(i).dot(in.cwiseAbs2())) * gen->normal();
      }
    }
    out *= scale / l;
    if (activity != nullptr) {
      const double peak = in.cwiseAbs().maxCoeff();
      ++activity->block_mvm_reads;
      activity->tia_reads += static_cast<std::uint64_t>(out.size());
      if (peak > 0.0) activity->read_conductance += cells.col_g.dot((in / peak).cwiseAbs2());
    }
  };
  apply_node(nd.child_a1, r.head(n1), nd.t1, gen, activity);
  mvm(nd.a3, nd.a3_scale, nd.t1, nd.u);
  nd.u = r.tail(n2) - nd.u;
  apply_node(nd.child_s, nd.u, nd.x2, gen, activity);
  mvm(nd.a2, nd.a2_scale, nd.x2, nd.v);
  nd.v = r.head(n1) - nd.v;
  apply_node(nd.child_a1, nd.v, nd.x1, gen, activity);
  z.head(n1) = nd.x1 / nd.gain;
  z.tail(n2) = nd.x2 / nd.gain;
}

void lp_inv::apply_noise_free(const rvec& r, rvec& y) {
  y.resize(size_);
  apply_node(0, r, y, nullptr, nullptr);
}

void lp_inv::apply(const rvec& r, rvec& y, rng& gen, solve_activity& activity) {
  const double dac_max = std::ldexp(1.0, profile_.circuit.lp_dac_bits - 1) - 1.0;
  const double adc_max = std::ldexp(1.0, profile_.circuit.lp_adc_bits - 1) - 1.0;
  for (int i = 0; i < size_; ++i) {
    r_q_(i) = std::nearbyint(std::clamp(r(i), -1.0, 1.0) * dac_max) / dac_max;
  }
  apply_node(0, r_q_, y, &gen, &activity);
  for (int i = 0; i < size_; ++i) {
    const double v = std::clamp(y(i) / full_scale_, -1.0, 1.0);  // rails
    y(i) = std::nearbyint(v * adc_max) / adc_max * full_scale_;
  }
  ++activity.lp_inv_ops;
  activity.dac_conversions += static_cast<std::uint64_t>(size_);
  activity.dac_steps += size_ * std::ldexp(1.0, profile_.circuit.lp_dac_bits);
  activity.adc_conversions += static_cast<std::uint64_t>(size_);
  activity.adc_steps += size_ * std::ldexp(1.0, profile_.circuit.lp_adc_bits);
  activity.digital_ops += 2.0 * size_;
}

}  // namespace amimo::analog
