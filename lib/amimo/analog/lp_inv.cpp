#include <amimo/analog/bit_slicing.h>
#include <amimo/analog/circuit_spectrum.h>
#include <amimo/analog/lp_inv.h>
#include <amimo/analog/vector_ops.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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
  rvec fb;            // nominal feedback diagonal (node units; zero with the paper mapping)
  rvec fb_g;          // |programmed feedback conductance| in units of G_in
  programmed_cells cells;
  rmat circuit;  // Ã/β + diag(fb)/β + finite-gain term, in units of G_in
  // The circuit's dynamics: row i of `circuit` over op-amp i's total input-node
  // conductance D_i (G_in + ΣG_row + G_fb) in units of G_in (stability_margin()).
  rmat loaded;
  Eigen::PartialPivLU<rmat> lu;
  rmat inverse;  // circuit⁻¹, formed once at programming for the noisy evaluations
  Eigen::EigenSolver<rmat> eig;
  // The board's 8×8 circuits: the same Hessenberg + Francis QR with the size fixed at
  // compile time (unrolled, on the stack): λ_min within rounding of the dynamic solver's.
  Eigen::EigenSolver<Eigen::Matrix<double, 8, 8>> eig8;
  double lambda_min = 0.0;
  // Split: coupling MVM arrays A2 (n1×n2) and A3 (n2×n1) with their scales, buffers.
  programmed_cells a2;
  programmed_cells a3;
  double a2_scale = 1.0;
  double a3_scale = 1.0;
  rmat d12, d21, q12, q21, s_target, solved12;
  Eigen::PartialPivLU<rmat> lu11;
  rvec t1, u, x2, v, x1, z0, dz, sq;
  int normals = 0;  // read-noise normals one noisy evaluation of this subtree draws
};

namespace {

int split_point(int size, int array) {
  const int blocks = (size + array - 1) / array;
  return array * ((blocks + 1) / 2);
}

// The inverse from partial-pivoting LU factors: the identity permuted (P·I), then the
// unit-lower and the upper substitution, the eight columns side by side in one vector per
// row (one lane per column). Every element sees the operations of Eigen's lu.solve(e_j)
// for a single panel (size ≤ its triangular panel width) in the same order — x_t −= x_i·L_ti
// for i ascending, x_i /= U_ii, x_t −= x_i·U_ti for i descending — so the same values (the
// analog reference test checks; Eigen skips an update whose x_i is exactly zero, which
// here changes at most the sign of a zero), with n divisions on the serial path, not n².
constexpr int kInlineSolve = 8;

void inverse_from_lu(const Eigen::PartialPivLU<rmat>& lu, int n, double* inverse) noexcept {
  using v8d = double __attribute__((vector_size(64)));
  const double* f = lu.matrixLU().data();
  const auto& perm = lu.permutationP().indices();
  v8d x[kInlineSolve];
  for (int i = 0; i < n; ++i) x[i] = v8d{};
  for (int j = 0; j < n; ++j) x[perm(j)][j] = 1.0;
  for (int i = 0; i < n; ++i) {  // L (unit diagonal): x[i+1:] −= x_i · L[i+1:, i]
    const double* col = f + static_cast<std::ptrdiff_t>(i) * n;
    for (int t = i + 1; t < n; ++t) x[t] = x[t] - x[i] * col[t];
  }
  for (int i = n - 1; i >= 0; --i) {  // U: x_i /= U_ii, x[:i] −= x_i · U[:i, i]
    const double* col = f + static_cast<std::ptrdiff_t>(i) * n;
    x[i] = x[i] / col[i];
    for (int t = 0; t < i; ++t) x[t] = x[t] - x[i] * col[t];
  }
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) inverse[static_cast<std::ptrdiff_t>(j) * n + i] = x[i][j];
  }
}

// Pivot-ratio singularity test on an LU factorisation.
bool lu_usable(const Eigen::PartialPivLU<rmat>& lu) {
  const auto diag = lu.matrixLU().diagonal().cwiseAbs();
  const double largest = diag.maxCoeff();
  return std::isfinite(largest) && largest > 0.0 && diag.minCoeff() > largest * 1e-12;
}

// y = A x for a column-major rows×cols matrix (sequential over columns, vectorised over
// rows; no call into a general product for these few-element operands). R, C > 0 fix the
// shape at compile time (the 8×8 arrays of the board), 0 takes it from rows/cols.
template <int R, int C>
inline void matvec(const double* __restrict a, int rows_, int cols_, const double* __restrict x,
                   double* __restrict y) noexcept {
  if constexpr (R == 8 && C == 8) {
    // The board's 8×8 arrays: four independent accumulator chains (columns 0–3 and 4–7,
    // rows 0–3 and 4–7) so the FMA latency overlaps; GCC/Clang vector extension, which
    // compiles to AVX on x86-64-v3 and to SSE pairs below it.
    using v4d = double __attribute__((vector_size(32)));
    v4d lo0 = {0.0, 0.0, 0.0, 0.0};
    v4d hi0 = lo0;
    v4d lo1 = lo0;
    v4d hi1 = lo0;
    for (int j = 0; j < 4; ++j) {
      v4d c0;
      v4d c1;
      v4d c2;
      v4d c3;
      std::memcpy(&c0, a + 8 * j, sizeof c0);
      std::memcpy(&c1, a + 8 * j + 4, sizeof c1);
      std::memcpy(&c2, a + 8 * (j + 4), sizeof c2);
      std::memcpy(&c3, a + 8 * (j + 4) + 4, sizeof c3);
      const double x0 = x[j];
      const double x1 = x[j + 4];
      lo0 += c0 * x0;
      hi0 += c1 * x0;
      lo1 += c2 * x1;
      hi1 += c3 * x1;
    }
    const v4d lo = lo0 + lo1;
    const v4d hi = hi0 + hi1;
    std::memcpy(y, &lo, sizeof lo);
    std::memcpy(y + 4, &hi, sizeof hi);
    return;
  }
  const int rows = R > 0 ? R : rows_;
  const int cols = C > 0 ? C : cols_;
  for (int i = 0; i < rows; ++i) y[i] = 0.0;
  for (int j = 0; j < cols; ++j) {
    const double xj = x[j];
    const double* __restrict col = a + static_cast<std::ptrdiff_t>(j) * rows;
    for (int i = 0; i < rows; ++i) y[i] += col[i] * xj;
  }
}

// v ← √v (Eigen's packet square root, correctly rounded like std::sqrt, which does not
// vectorise because of errno).
template <int K>
inline void sqrt_in_place(double* v, int size) noexcept {
  if constexpr (K > 0) {
    Eigen::Map<Eigen::Array<double, K, 1>> a(v);
    a = a.sqrt();
  } else {
    Eigen::Map<Eigen::ArrayXd> a(v, size);
    a = a.sqrt();
  }
}

// Σ_i w_i (v_i / peak)², as Σ_i w_i v_i² / peak² (a cost-model weight, not a signal).
inline double weighted_square_sum(const double* __restrict w, const double* __restrict v, double peak,
                                  int size) noexcept {
  double sum = 0.0;
  for (int i = 0; i < size; ++i) sum += w[i] * (v[i] * v[i]);
  return sum / (peak * peak);
}

inline double max_abs(const double* v, int size) noexcept {
  double peak = 0.0;
  for (int i = 0; i < size; ++i) peak = std::max(peak, std::abs(v[i]));
  return peak;
}

}  // namespace

lp_inv::lp_inv(const analog_profile& profile, const device_model& devices)
    : profile_(profile),
      devices_(devices),
      levels_(1 << profile.device.bits),
      sigma_(profile.device.read_noise),
      dac_max_(std::ldexp(1.0, profile.circuit.lp_dac_bits - 1) - 1.0),
      adc_max_(std::ldexp(1.0, profile.circuit.lp_adc_bits - 1) - 1.0),
      dac_steps_(std::ldexp(1.0, profile.circuit.lp_dac_bits)),
      adc_steps_(std::ldexp(1.0, profile.circuit.lp_adc_bits)) {}

lp_inv::~lp_inv() = default;

int lp_inv::build(int size) {
  const int index = static_cast<int>(nodes_.size());
  nodes_.push_back(std::make_unique<node>());
  node& nd = *nodes_.back();
  nd.size = size;
  nd.z0.resize(size);
  nd.dz.resize(size);
  nd.sq.resize(size);
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
    node& split = *nodes_[static_cast<std::size_t>(index)];
    split.child_a1 = a1;
    split.child_s = s;
    // Evaluation order: A1, A3 readout (n2 TIAs), S, A2 readout (n1 TIAs), A1 again.
    split.normals = 2 * nodes_[static_cast<std::size_t>(a1)]->normals + nodes_[static_cast<std::size_t>(s)]->normals +
                    (sigma_ > 0.0 ? n1 + n2 : 0);
  } else {
    nd.normals = sigma_ > 0.0 ? size : 0;
    nd.lu = Eigen::PartialPivLU<rmat>(size);
    // The eigen-solver sizes its workspace on its first compute(); nodes are rebuilt only
    // when the matrix size changes, so later programming reuses it.
  }
  return index;
}

bool lp_inv::program(const rmat& target, normal_stream& noise, programming_activity& activity) {
  const int n = static_cast<int>(target.rows());
  if (n != size_) {
    nodes_.clear();
    size_ = n;
    build(n);
    normals_.resize(static_cast<std::size_t>(nodes_.front()->normals));
    coupling_sq_.resize(n);
    coupling_var_.resize(n);
    r_q_.resize(n);
    scratch_.resize(n);
    unit_.resize(n);
    row_abs_.resize(n);
  }
  lambda_min_ = INFINITY;
  // "paper": the root keeps the slices' scale (A0 = D_0/L, the most significant slice);
  // "feedback": every array is scaled to its own off-diagonal range.
  const bool own_scale = profile_.circuit.lp_mapping == "feedback";
  if (!program_node(0, target, own_scale, 1000, noise, activity)) return false;
  // Ranging: the ADC full scale is the largest output the programmed operator can give
  // for a full-scale input, ‖M‖∞, found column by column. A single INV circuit's columns
  // are those of its inverse (formed by the same LU solves) divided by the gain.
  row_abs_.setZero();
  const node& root = *nodes_.front();
  for (int j = 0; j < n; ++j) {
    if (root.n1 == 0) {
      scratch_ = root.inverse.col(j) / root.gain;
    } else {
      unit_.setZero();
      unit_(j) = 1.0;
      apply_noise_free(unit_, scratch_);
    }
    row_abs_ += scratch_.cwiseAbs();
  }
  full_scale_ = profile_.circuit.lp_headroom * row_abs_.maxCoeff();
  return std::isfinite(full_scale_) && full_scale_ > 0.0;
}

// Smallest real part of an eigenvalue of the leaf's loaded circuit matrix (its settling
// rates in units of the op-amps' gain-bandwidth; circuit_spectrum.h:
// ELMHES + HQR on the stack, Eigen's solvers where that does not apply); NaN when no QR
// iteration converges.
double lp_inv::stability_margin(node& nd) {
  double fast = 0.0;
  if (fast_min_real_eigenvalue(nd.loaded.data(), nd.size, fast)) return fast;
  if (nd.size == 8) {
    nd.eig8.compute(nd.loaded, false);
    if (nd.eig8.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
    return nd.eig8.eigenvalues().real().minCoeff();
  }
  nd.eig.compute(nd.loaded, false);
  if (nd.eig.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
  return nd.eig.eigenvalues().real().minCoeff();
}

const rmat& lp_inv::nominal() const noexcept { return nodes_.front()->nominal; }

// Digits of a block for one array; returns its scale β (block ≈ β·D/L). own_scale puts
// the block's largest (off-diagonal, with split_diagonal) entry on the top level; otherwise
// the slices' scale 1 is kept and larger entries saturate.
double lp_inv::map_block(Eigen::Ref<const rmat> target, bool own_scale, bool split_diagonal, rmat& digits) const {
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
  // A block larger than one array (a BlockAMC coupling block such as A2 at 16×8) occupies
  // ⌈rows/array⌉·⌈cols/array⌉ physical arrays.
  const auto array = static_cast<std::uint64_t>(profile_.circuit.array_size);
  const auto rows = static_cast<std::uint64_t>(cells.effective.rows());
  const auto cols = static_cast<std::uint64_t>(cells.effective.cols());
  activity.arrays += ((rows + array - 1) / array) * ((cols + array - 1) / array);
  activity.gated_pulses += cells.gated_pulses;
  activity.devices += cells.devices;
  activity.pulses += cells.pulses;
  activity.unverified_cells += cells.faults.size();
  activity.max_pulses_per_device = std::max(activity.max_pulses_per_device, cells.max_device_pulses);
}

bool lp_inv::program_node(int index, Eigen::Ref<const rmat> target, bool own_scale, std::uint64_t key,
                          normal_stream& noise, programming_activity& activity) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  const bool feedback = profile_.circuit.lp_mapping == "feedback";
  if (nd.n1 == 0) {
    nd.gain = map_block(target, own_scale, feedback, nd.digits);
    if (feedback) {
      nd.fb = target.diagonal();
    } else {
      nd.fb.setZero(nd.size);
    }
    devices_.program(nd.digits, key, profile_.circuit.array_size, noise, nd.cells);
    count(nd.cells, activity);
    nd.nominal = nd.digits * (nd.gain / l);
    nd.nominal.diagonal() += nd.fb;
    // G_in = L·ΔG (one normalised unit); finite gain adds (ΣG_row + G_fb + G_in)/(A_ol·G_in).
    nd.circuit = nd.cells.effective / l;
    nd.fb_g.resize(nd.size);
    for (int i = 0; i < nd.size; ++i) {
      const double fb = nd.fb(i) == 0.0 ? 0.0 : nd.fb(i) * (1.0 + profile_.circuit.feedback_sigma * noise.next());
      nd.circuit(i, i) += fb / nd.gain;
      nd.fb_g(i) = std::abs(fb / nd.gain);
    }
    if (std::isfinite(profile_.circuit.opamp_gain)) {
      const double g_in = l * devices_.delta_g();
      for (int i = 0; i < nd.size; ++i) {
        nd.circuit(i, i) += (nd.cells.row_g(i) / g_in + nd.fb_g(i) + 1.0) / profile_.circuit.opamp_gain;
      }
    }
    // Op-amp i's inverting node sees G_in, every cell of its row (G+ and G−) and its
    // feedback element: D_i = G_in + ΣG_row + G_fb. With a single-pole op-amp (GBW ω_t)
    // the outputs obey (D/G_in)·V̇/ω_t = −(circuit·V + r), so the settling rates are the
    // eigenvalues of diag(G_in/D)·circuit (the "associated matrix" of Sun et al., IEEE TED
    // 2020), not of the circuit matrix alone: that ignored the loading and made settles
    // 2.6–6× faster than the circuit can (below ln(2^(b+1))/(2π·GBW), the floor any
    // |λ(D⁻¹G)| < 1 circuit obeys).
    {
      const double g_in_loaded = l * devices_.delta_g();
      nd.loaded.resize(nd.size, nd.size);
      for (int j = 0; j < nd.size; ++j) {
        for (int i = 0; i < nd.size; ++i) {
          nd.loaded(i, j) = nd.circuit(i, j) / (1.0 + nd.cells.row_g(i) / g_in_loaded + nd.fb_g(i));
        }
      }
    }
    nd.lu.compute(nd.circuit);
    if (!lu_usable(nd.lu)) return false;
    // Column by column (lu.inverse() would allocate a temporary for the permuted identity).
    nd.inverse.resize(nd.size, nd.size);
    if (nd.size <= kInlineSolve) {
      inverse_from_lu(nd.lu, nd.size, nd.inverse.data());
    } else {
      for (int j = 0; j < nd.size; ++j) {
        nd.sq.setZero();
        nd.sq(j) = 1.0;
        nd.inverse.col(j) = nd.lu.solve(nd.sq);
      }
    }
    nd.lambda_min = stability_margin(nd);
    if (!std::isfinite(nd.lambda_min)) return false;
    lambda_min_ = std::min(lambda_min_, nd.lambda_min);
    activity.digital_ops += static_cast<double>(nd.size) * nd.size * nd.size;  // ranging
    return nd.lambda_min > 0.0;
  }
  // BlockAMC split. A1 and the coupling arrays map their blocks of the target; the Schur
  // complement is formed from what the periphery knows they hold (their nominal values)
  // and programmed as its own block with its own scale. (The split itself is no array: A1,
  // A2, A3 and S count themselves.)
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  node& a1 = *nodes_[static_cast<std::size_t>(nd.child_a1)];
  if (!program_node(nd.child_a1, target.topLeftCorner(n1, n1), own_scale, key * 4 + 3, noise, activity)) {
    return false;
  }
  nd.a2_scale = map_block(target.topRightCorner(n1, n2), own_scale, false, nd.d12);
  nd.a3_scale = map_block(target.bottomLeftCorner(n2, n1), own_scale, false, nd.d21);
  devices_.program(nd.d12, key * 4 + 1, profile_.circuit.array_size, noise, nd.a2);
  devices_.program(nd.d21, key * 4 + 2, profile_.circuit.array_size, noise, nd.a3);
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
  if (!program_node(nd.child_s, nd.s_target, true, key * 4 + 4, noise, activity)) return false;
  const node& sc = *nodes_[static_cast<std::size_t>(nd.child_s)];
  nd.nominal.resize(nd.size, nd.size);
  nd.nominal.topLeftCorner(n1, n1) = a1.nominal;
  nd.nominal.topRightCorner(n1, n2) = nd.q12;
  nd.nominal.bottomLeftCorner(n2, n1) = nd.q21;
  // Same product as in s_target, into the block (a temporary would allocate), then + S.
  nd.nominal.bottomRightCorner(n2, n2).noalias() = nd.q21 * nd.solved12;
  nd.nominal.bottomRightCorner(n2, n2) += sc.nominal;
  nd.gain = 1.0;
  return true;
}

// One INV-circuit settle (noise as in apply_node); K > 0 fixes the array size.
template <int K>
void lp_inv::settle(node& nd, const double* __restrict r, double* __restrict z) {
  const int k = K > 0 ? K : nd.size;
  double* __restrict z0 = nd.z0.data();
  matvec<K, K>(nd.inverse.data(), k, k, r, z0);
  if (sigma_ > 0.0) {
    // First-order read noise: Ã⁻¹r − Ã⁻¹(δÃ·Ã⁻¹r), δÃ_i· with variance σ²·Σ_j w_ij z0_j².
    // L is a power of two, so ·(1/L) is exactly /L.
    double* __restrict sq = nd.sq.data();
    double* __restrict dz = nd.dz.data();
    const double* __restrict noise = next_normal_;
    next_normal_ += k;
    const double inv_l = 1.0 / static_cast<double>(levels_);
    for (int i = 0; i < k; ++i) sq[i] = z0[i] * z0[i];
    matvec<K, K>(nd.cells.noise_w.data(), k, k, sq, dz);
    sqrt_in_place<K>(dz, k);
    for (int i = 0; i < k; ++i) dz[i] = sigma_ * dz[i] * inv_l * noise[i];
    matvec<K, K>(nd.inverse.data(), k, k, dz, z);
    for (int i = 0; i < k; ++i) z[i] = (z0[i] - z[i]) / nd.gain;
  } else {
    for (int i = 0; i < k; ++i) z[i] = z0[i] / nd.gain;
  }
}

void lp_inv::apply_node(int index, const double* r, double* z, solve_activity& activity) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  if (nd.n1 == 0) {
    const int k = nd.size;
    if (k == 8) {
      settle<8>(nd, r, z);
    } else {
      settle<0>(nd, r, z);
    }
    const double* z0 = nd.z0.data();
    const double inv_lambda = 1.0 / nd.lambda_min;
    const double peak = max_abs(z0, k);
    ++activity.inv_settles;
    activity.inv_settle_weight += inv_lambda;
    activity.inv_opamp_weight += k * inv_lambda;
    if (peak > 0.0) {
      const double g_in = l * devices_.delta_g();
      const double g = weighted_square_sum(nd.cells.col_g.data(), z0, peak, k) +
                       g_in * weighted_square_sum(nd.fb_g.data(), z0, peak, k);
      activity.inv_conductance_weight += g * inv_lambda;
    }
    return;
  }
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  double* t1 = nd.t1.data();
  double* u = nd.u.data();
  double* x2 = nd.x2.data();
  double* v = nd.v.data();
  double* x1 = nd.x1.data();
  apply_node(nd.child_a1, r, t1, activity);
  coupling_mvm(nd.a3, nd.a3_scale, t1, u, n2, n1, activity);
  for (int i = 0; i < n2; ++i) u[i] = r[n1 + i] - u[i];
  apply_node(nd.child_s, u, x2, activity);
  coupling_mvm(nd.a2, nd.a2_scale, x2, v, n1, n2, activity);
  for (int i = 0; i < n1; ++i) v[i] = r[i] - v[i];
  apply_node(nd.child_a1, v, x1, activity);
  for (int i = 0; i < n1; ++i) z[i] = x1[i] / nd.gain;
  for (int i = 0; i < n2; ++i) z[n1 + i] = x2[i] / nd.gain;
}

// A BlockAMC coupling array read: out = (scale/L)·(G̃·in + read noise), one TIA per row.
void lp_inv::coupling_mvm(const programmed_cells& cells, double scale, const double* in, double* out, int rows,
                          int cols, solve_activity& activity) {
  const auto l = static_cast<double>(levels_);
  const bool board = rows == 8 && cols == 8;
  if (board) {
    matvec<8, 8>(cells.effective.data(), rows, cols, in, out);
  } else {
    matvec<0, 0>(cells.effective.data(), rows, cols, in, out);
  }
  if (sigma_ > 0.0) {
    double* __restrict sq = coupling_sq_.data();
    double* __restrict var = coupling_var_.data();
    for (int j = 0; j < cols; ++j) sq[j] = in[j] * in[j];
    if (board) {
      matvec<8, 8>(cells.noise_w.data(), rows, cols, sq, var);
    } else {
      matvec<0, 0>(cells.noise_w.data(), rows, cols, sq, var);
    }
    const double* __restrict noise = next_normal_;
    next_normal_ += rows;
    if (board) {
      sqrt_in_place<8>(var, rows);
    } else {
      sqrt_in_place<0>(var, rows);
    }
    for (int i = 0; i < rows; ++i) out[i] += sigma_ * var[i] * noise[i];
  }
  const double gain = scale / l;
  for (int i = 0; i < rows; ++i) out[i] *= gain;
  const double peak = max_abs(in, cols);
  ++activity.block_mvm_reads;
  activity.tia_reads += static_cast<std::uint64_t>(rows);
  if (peak > 0.0) activity.read_conductance += weighted_square_sum(cells.col_g.data(), in, peak, cols);
}

void lp_inv::apply_node_noise_free(int index, Eigen::Ref<const rvec> r, Eigen::Ref<rvec> z) {
  node& nd = *nodes_[static_cast<std::size_t>(index)];
  const auto l = static_cast<double>(levels_);
  if (nd.n1 == 0) {
    z = nd.lu.solve(r);
    z /= nd.gain;
    return;
  }
  const int n1 = nd.n1;
  const int n2 = nd.size - n1;
  apply_node_noise_free(nd.child_a1, r.head(n1), nd.t1);
  nd.u.noalias() = nd.a3.effective * nd.t1;
  nd.u *= nd.a3_scale / l;
  nd.u = r.tail(n2) - nd.u;
  apply_node_noise_free(nd.child_s, nd.u, nd.x2);
  nd.v.noalias() = nd.a2.effective * nd.x2;
  nd.v *= nd.a2_scale / l;
  nd.v = r.head(n1) - nd.v;
  apply_node_noise_free(nd.child_a1, nd.v, nd.x1);
  z.head(n1) = nd.x1 / nd.gain;
  z.tail(n2) = nd.x2 / nd.gain;
}

void lp_inv::apply_noise_free(const rvec& r, rvec& y) {
  y.resize(size_);
  apply_node_noise_free(0, r, y);
}

void lp_inv::apply(const rvec& r, rvec& y, normal_stream& noise, solve_activity& activity) {
  const double dac_max = dac_max_;
  const double adc_max = adc_max_;
  // min/max rather than std::clamp so the loops vectorise (same values, NaN included).
  const double* __restrict in = r.data();
  double* __restrict r_q = r_q_.data();
  detail::dac_codes(in, r_q, size_, dac_max);
  y.resize(size_);
  noise.fill(normals_);
  next_normal_ = normals_.data();
  apply_node(0, r_q, y.data(), activity);
  double* __restrict out = y.data();
  const double full_scale = full_scale_;
  detail::adc_codes(out, size_, full_scale, adc_max);  // rails at ±full scale
  ++activity.lp_inv_ops;
  activity.dac_conversions += static_cast<std::uint64_t>(size_);
  activity.dac_steps += size_ * dac_steps_;
  activity.adc_conversions += static_cast<std::uint64_t>(size_);
  activity.adc_steps += size_ * adc_steps_;
  activity.digital_ops += 2.0 * size_;
}

}  // namespace amimo::analog
