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
  double gain = 1.0;  // the node's matrix is gain · D / L
  // Leaf: the INV circuit.
  programmed_cells cells;
  rmat circuit;  // Ã + finite-gain term, normalised units
  Eigen::PartialPivLU<rmat> lu;
  Eigen::EigenSolver<rmat> eig;
  double lambda_min = 0.0;
  // Split: coupling MVM arrays A2 (n1×n2) and A3 (n2×n1), buffers.
  programmed_cells a2;
  programmed_cells a3;
  rmat d11, d12, d21, d22, s_matrix, s_digits, solved12;
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

bool lp_inv::program(const rmat& digits, rng& gen, programming_activity& activity) {
  const int n = static_cast<int>(digits.rows());
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
  if (!program_node(0, digits, 1000, gen, activity)) return false;
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

bool lp_inv::program_node(int index, const rmat& digits, std::uint64_t key, rng& gen,
                          programming_activity& activity) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  ++activity.arrays;
  if (nd.n1 == 0) {
    devices_.program(digits, key, profile_.circuit.array_size, gen, nd.cells);
    activity.devices += nd.cells.devices;
    activity.pulses += nd.cells.pulses;
    activity.unverified_cells += nd.cells.faults.size();
    activity.max_pulses_per_device = std::max(activity.max_pulses_per_device, nd.cells.max_device_pulses);
    // G_in = L·ΔG (one normalised unit); finite gain adds (ΣG_row + G_in)/(A_ol·G_in).
    const double g_in = l * devices_.delta_g();
    nd.circuit = nd.cells.effective / l;
    if (std::isfinite(profile_.circuit.opamp_gain)) {
      for (int i = 0; i < nd.size; ++i) {
        nd.circuit(i, i) += (nd.cells.row_g(i) + g_in) / (profile_.circuit.opamp_gain * g_in);
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
  // BlockAMC split: Schur complement from the target digits (what the periphery knows).
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  nd.d11 = digits.topLeftCorner(n1, n1);
  nd.d12 = digits.topRightCorner(n1, n2);
  nd.d21 = digits.bottomLeftCorner(n2, n1);
  nd.d22 = digits.bottomRightCorner(n2, n2);
  nd.lu11.compute(nd.d11);
  if (!lu_usable(nd.lu11)) return false;
  nd.solved12 = nd.lu11.solve(nd.d12);
  // S = D22/L − (D21/L)(D11/L)⁻¹(D12/L) = (D22 − D21·D11⁻¹·D12)/L.
  nd.s_matrix.noalias() = nd.d21 * nd.solved12;
  nd.s_matrix = (nd.d22 - nd.s_matrix) / l;
  activity.digital_ops += 2.0 * n1 * n1 * n1 / 3.0 + 2.0 * n1 * n1 * n2 + 2.0 * n2 * n1 * n2;
  const double largest = nd.s_matrix.cwiseAbs().maxCoeff();
  if (!(largest > 0.0) || !std::isfinite(largest)) return false;
  node& s_node = *nodes_[static_cast<std::size_t>(nd.child_s)];
  s_node.gain = largest * l / (l - 1.0);
  truncate_to_digits(nd.s_matrix, s_node.gain, levels_, nd.s_digits);
  devices_.program(nd.d12, key * 4 + 1, profile_.circuit.array_size, gen, nd.a2);
  devices_.program(nd.d21, key * 4 + 2, profile_.circuit.array_size, gen, nd.a3);
  for (const programmed_cells* c : {&nd.a2, &nd.a3}) {
    activity.devices += c->devices;
    activity.pulses += c->pulses;
    activity.unverified_cells += c->faults.size();
    activity.max_pulses_per_device = std::max(activity.max_pulses_per_device, c->max_device_pulses);
  }
  activity.arrays += 2;
  return program_node(nd.child_a1, nd.d11, key * 4 + 3, gen, activity) &&
         program_node(nd.child_s, nd.s_digits, key * 4 + 4, gen, activity);
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
      if (peak > 0.0) activity->inv_conductance_weight += nd.cells.col_g.dot((nd.z0 / peak).cwiseAbs2()) * inv_lambda;
    }
    z /= nd.gain;
    return;
  }
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  const auto mvm = [&](const programmed_cells& cells, const rvec& in, rvec& out) {
    out.noalias() = cells.effective * in / l;
    if (sigma > 0.0) {
      for (Eigen::Index i = 0; i < out.size(); ++i) {
        out(i) += sigma * std::sqrt(cells.noise_w.row(i).dot(in.cwiseAbs2())) / l * gen->normal();
      }
    }
    if (activity != nullptr) {
      const double peak = in.cwiseAbs().maxCoeff();
      ++activity->block_mvm_reads;
      activity->tia_reads += static_cast<std::uint64_t>(out.size());
      if (peak > 0.0) activity->read_conductance += cells.col_g.dot((in / peak).cwiseAbs2());
    }
  };
  apply_node(nd.child_a1, r.head(n1), nd.t1, gen, activity);
  mvm(nd.a3, nd.t1, nd.u);
  nd.u = r.tail(n2) - nd.u;
  apply_node(nd.child_s, nd.u, nd.x2, gen, activity);
  mvm(nd.a2, nd.x2, nd.v);
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
