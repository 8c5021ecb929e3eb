#pragma once
// LP-INV (DESIGN.md §1.1 steps 4 and 7): the closed-loop op-amp circuit around an RRAM
// array that solves A0 y = r in one analog step. With circuit.lp_mapping = "paper", A0 =
// D_0/L, the most significant slice of the normalised matrix. With "feedback", each
// op-amp's own feedback conductance (a trimmed element, relative error feedback_sigma)
// holds the diagonal and the array holds the off-diagonal part at its own full scale β:
// A0 = diag(a_ii) + β·D/L. The feedback path of op-amp i is exactly where the array's
// diagonal cell sits in the INV circuit, so this is a mapping choice, not a new circuit;
// it keeps couplings far below the diagonal (MIMO Gram matrices) from rounding to zero.
//
// Each INV circuit inverts what is really programmed, Ã (write error, stuck cells, drift,
// IR drop), plus the finite open-loop gain term diag(ΣG + G_in)/(A_ol·G_in); it settles
// only when every eigenvalue of that matrix has a positive real part (checked at
// programming, never assumed). Read noise is drawn per operation as a first-order
// conductance perturbation: y = Ã⁻¹r − Ã⁻¹(δÃ·Ã⁻¹r). The input goes through a DAC, the
// output through an ADC whose full scale the periphery sets from the programmed operator
// (rails clip anything beyond).
//
// BlockAMC: above the array size the matrix is split at an array boundary,
//   A0 = [A1 A2; A3 A4],  S = A4 − A3·A1⁻¹·A2 (formed at programming, programmed as its
//   own m-bit block with its own scale), y2 = S⁻¹(r2 − A3·A1⁻¹r1), y1 = A1⁻¹(r1 − A2·y2),
// recursively; A2 and A3 are analog MVM arrays. Intermediate values stay analog.
//
// Simulation cost: programming factorises every INV circuit once and keeps its inverse, so
// an evaluation is a few small matrix-vector products per array; all read-noise normals
// of one evaluation are drawn in one bulk call (the same values, in the same order, as
// one draw per op-amp). apply() and program() do not allocate once the size has been seen.

#include <amimo/analog/activity.h>
#include <amimo/analog/analog_profile.h>
#include <amimo/analog/device_model.h>
#include <amimo/core/normal_stream.h>
#include <amimo/core/types.h>

#include <Eigen/LU>

#include <memory>
#include <vector>

namespace amimo::analog {

class lp_inv {
 public:
  lp_inv(const analog_profile& profile, const device_model& devices);
  ~lp_inv();
  lp_inv(const lp_inv&) = delete;
  lp_inv& operator=(const lp_inv&) = delete;

  /// Maps the normalised matrix (n×n, |entries| ≤ 1) to A0 and programs it. Returns false
  /// when the circuit cannot solve it (a singular block, a Schur complement that vanishes,
  /// an unstable INV circuit).
  bool program(const rmat& target, normal_stream& noise, programming_activity& activity);

  /// A0 as the periphery believes it is programmed (nominal conductances), n×n.
  const rmat& nominal() const noexcept;

  /// Smallest real eigenvalue part over the INV circuits (normalised units).
  double lambda_min() const noexcept { return lambda_min_; }

  /// y ≈ A0⁻¹ r for ‖r‖∞ ≤ 1, as the circuit computes it (y has r's size).
  void apply(const rvec& r, rvec& y, normal_stream& noise, solve_activity& activity);

  /// The noise-free operator applied to r, no DAC/ADC (for tests and ranging). Solves with
  /// the LU factors (the ADC full scale set at programming depends on it bit for bit).
  void apply_noise_free(const rvec& r, rvec& y);

 private:
  struct node;
  int build(int size);
  bool program_node(int index, Eigen::Ref<const rmat> target, bool own_scale, std::uint64_t key,
                    normal_stream& noise, programming_activity& activity);
  static double stability_margin(node& nd);
  double map_block(Eigen::Ref<const rmat> target, bool own_scale, bool split_diagonal, rmat& digits) const;
  void count(const programmed_cells& cells, programming_activity& activity) const;
  void apply_node(int index, const double* r, double* z, solve_activity& activity);
  template <int K>
  void settle(node& nd, const double* r, double* z);
  void coupling_mvm(const programmed_cells& cells, double scale, const double* in, double* out, int rows, int cols,
                    solve_activity& activity);
  void apply_node_noise_free(int index, Eigen::Ref<const rvec> r, Eigen::Ref<rvec> z);

  analog_profile profile_;
  const device_model& devices_;
  int levels_;
  std::vector<std::unique_ptr<node>> nodes_;
  int size_ = 0;
  double lambda_min_ = 0.0;
  double full_scale_ = 1.0;
  double sigma_ = 0.0;           ///< read noise σ (relative), 0: no normals drawn
  double dac_max_;               ///< largest input DAC code magnitude
  double adc_max_;               ///< largest output ADC code magnitude
  double dac_steps_;             ///< 2^bits of the input DAC (activity)
  double adc_steps_;             ///< 2^bits of the output ADC (activity)
  std::vector<double> normals_;  ///< the normals one apply() draws (root's count)
  const double* next_normal_ = nullptr;
  rvec coupling_sq_;   ///< in² of a coupling read
  rvec coupling_var_;  ///< per-row read-noise variance of a coupling read
  rvec r_q_;
  rvec scratch_;
  rvec unit_;
  rvec row_abs_;
};

}  // namespace amimo::analog
