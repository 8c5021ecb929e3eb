#pragma once
// RRAM devices (DESIGN.md §1.1 step 4): a cell holds a signed digit d as a differential
// pair, G+ = G_min + max(d,0)·ΔG and G− = G_min + max(−d,0)·ΔG, ΔG = (G_max − G_min)/(L−1).
// Programming by write-verify leaves a Gaussian error; stuck devices (a property of the
// chip, fixed by the chip seed) sit at G_max or G_min and their partner is re-targeted to
// compensate where it can; conductances drift as (t/t0)^−ν; wire resistance along the row
// and column lines attenuates far cells (first-order IR drop). The result is what the
// array computes, in digit units, plus what the periphery knows about cells that failed
// verification.

#include <amimo/analog/analog_profile.h>
#include <amimo/core/normal_stream.h>
#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <cstdint>
#include <vector>

namespace amimo::analog {

/// A cell whose write-verify failed: it holds `achieved` instead of the target digit.
struct cell_fault {
  int row = 0;
  int col = 0;
  double delta = 0.0;  ///< target − achieved digit (an integer)
};

/// One programmed array (or a matrix of arrays with tile-local wire positions).
struct programmed_cells {
  rmat effective;   ///< (G+ − G−)/ΔG as the array computes it (digit units)
  rmat achieved;    ///< integer digits the cells hold after fault handling
  rmat noise_w;     ///< (G+² + G−²)/ΔG²: read-noise weight per cell
  rvec row_g;       ///< Σ_j (G+ + G−) per row (S)
  rvec col_g;       ///< Σ_i (G+ + G−) per column (S)
  std::vector<cell_fault> faults;
  std::uint64_t devices = 0;
  std::uint64_t pulses = 0;
  std::uint64_t gated_pulses = 0;  ///< as programming_activity::gated_pulses, this array
  double max_device_pulses = 0.0;
};

class device_model {
 public:
  device_model(const device_params& params, std::uint64_t chip_seed);

  int levels() const noexcept { return levels_; }
  double delta_g() const noexcept { return delta_g_; }  ///< ΔG in siemens

  /// Programs target digits (rows×cols). array_key identifies the physical arrays (the
  /// stuck map depends on it and the chip seed only); tile is the array size, so cell
  /// (i, j) sits at (i mod tile, j mod tile) of its array for the IR-drop model. Random
  /// programming error and drift spread come from `noise`, drawn in one bulk fill (per
  /// cell, column-major: the write of G+, of G−, then the drift spread of G+ and of G−,
  /// skipping what a stuck device does not draw). Does not allocate once `out` and this
  /// model have seen a matrix of the size. Not thread-safe (scratch buffers): one model
  /// per simulated chip.
  void program(const rmat& digits, std::uint64_t array_key, int tile, normal_stream& noise,
               programmed_cells& out) const;

 private:
  enum class stuck : std::uint8_t { none, on, off };
  stuck stuck_state(std::uint64_t array_key, Eigen::Index i, Eigen::Index j, int device) const noexcept;
  /// Drift and IR drop; `next` yields the drift-spread normal when one is drawn.
  double finish(double g, int hops, const double*& next) const noexcept;
  bool drift_spread() const noexcept;
  void program_clean(const rmat& digits, int tile, double sigma_g, programmed_cells& out) const;

  device_params p_;
  std::uint64_t chip_seed_;
  int levels_;
  double g_min_;
  double g_max_;
  double delta_g_;
  double drift_mean_factor_;
  bool any_stuck_;
  mutable std::vector<stuck> stuck_scratch_;    ///< per device of the matrix being programmed
  mutable std::vector<double> normal_scratch_;  ///< the normals one program() call consumes
  mutable std::vector<double> hops_scratch_;    ///< i mod tile per row
  mutable std::vector<double> pair_scratch_;    ///< G+ + G− of one column
};

}  // namespace amimo::analog
