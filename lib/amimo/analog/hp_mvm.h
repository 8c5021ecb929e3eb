#pragma once
// HP-MVM (DESIGN.md §1.1 step 5): y = Ā x on S slice arrays tiled over array-sized tiles.
// The input is a block-floating-point integer split into DAC-width chunks applied one
// after the other; every (tile, slice, chunk) readout goes through an ADC. When the ADC
// covers the full integer range of a readout, the readout is integer-exact: programming
// error and read noise vanish in the rounding unless they reach half a digit. Readouts
// are recombined by shift-and-add; cells that failed verification are corrected with
// their known digit difference.
//
// Simulation: when every readout's deterministic error is provably below half a digit
// (bound β from the programmed errors) the result equals the exact integer product except
// where read noise crosses the rounding threshold. Those readouts are found by thinning:
// candidates are drawn with the probability of the worst-case readout (geometric skips)
// and each is then evaluated exactly, which is the same distribution as evaluating every
// readout. Otherwise (coarse ADC, large errors) every readout is simulated.

#include <amimo/analog/activity.h>
#include <amimo/analog/analog_profile.h>
#include <amimo/analog/device_model.h>
#include <amimo/core/normal_stream.h>
#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <cstdint>
#include <vector>

namespace amimo::analog {

class hp_mvm {
 public:
  hp_mvm(const analog_profile& profile, const device_model& devices);

  /// Programs the slices of Ā (digits from slice_matrix, a_q = Σ D_s L^−(s+1)).
  void program(const std::vector<rmat>& digits, const rmat& a_q, normal_stream& noise, programming_activity& activity);

  /// Cells whose write-verify failed (corrected digitally under fault_policy::correct).
  std::size_t faults() const noexcept { return fault_count_; }
  /// Whether readouts are integer-exact and the thinning shortcut applies.
  bool fast_path() const noexcept { return fast_; }

  /// y = Ā x as the chip computes it (y has x's size). gen: the uniforms of the thinning
  /// (skips, tail sampling); noise: read-noise normals.
  void multiply(const rvec& x, rvec& y, rng& gen, normal_stream& noise, solve_activity& activity);

 private:
  void multiply_fast(double unit, rvec& y, rng& gen, normal_stream& noise, solve_activity& activity);
  void multiply_slow(double unit, rvec& y, normal_stream& normals);
  double tail_normal(rng& gen, normal_stream& noise) const noexcept;

  analog_profile profile_;
  const device_model& devices_;
  int levels_;
  int slices_;
  int chunk_bits_;
  int chunks_;
  int array_;
  int tile_cols_ = 0;
  int n_ = 0;
  double adc_max_;      ///< largest ADC code magnitude
  double adc_steps_;    ///< 2^bits of the readout ADC (activity)
  double input_full_;   ///< 2^input_bits − 1: the quantised input's full scale
  double chunk_max_;    ///< 2^chunk_bits − 1: the largest input chunk
  double adc_lsb_;      ///< ADC step in digit units (1 when integer-exact)
  bool integer_exact_;
  bool fast_ = false;
  bool exact_sum_ = false;  ///< the fast path's integer product is exact in any order
  double tau_ = 0.0;    ///< thinning threshold on a standard normal
  double log1mq_ = 0.0; ///< log(1 − q), q = P(|z| ≥ τ)
  std::size_t fault_count_ = 0;
  std::vector<programmed_cells> cells_;  ///< per slice, n×n with tile-local positions
  std::vector<rmat> error_;              ///< effective − achieved digits, per slice
  rmat a_q_;
  rvec col_g_;                           ///< Σ over slices and rows of G+ + G− per column
  std::vector<std::int64_t> x_q_;
  rvec u_;                               ///< one chunk of the input
  rvec v_;                               ///< one readout vector
  rvec var_;                             ///< read-noise variance per readout of one array read
  rvec e_sum_;                           ///< per row: Σ |programming error| over one tile
  rvec w_sum_;                           ///< per row: Σ noise weight over one tile
  std::vector<double> readout_normals_;  ///< normals of one per-readout multiply
};

}  // namespace amimo::analog
