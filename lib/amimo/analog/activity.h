#pragma once
// What the simulated chip did: counts of physical events, no joules and no seconds. The
// cost model (cost_model.h, a decorator) turns these counts into modelled time and energy,
// so the simulator stays free of accounting and a different cost model can be swapped in.

#include <cstdint>

namespace amimo::analog {

/// Events of one set_matrix() (programming) call.
struct programming_activity {
  std::uint64_t devices = 0;            ///< devices written (two per differential cell)
  std::uint64_t pulses = 0;             ///< write-verify pulses over all devices
  /// Σ over write groups (parallel_devices devices written together, in programming order)
  /// of the group's size × the most pulses one of its devices took: a group lasts as long
  /// as its slowest device (the programming time's count; equals `pulses` when every device
  /// takes the same number).
  std::uint64_t gated_pulses = 0;
  std::uint64_t unverified_cells = 0;   ///< cells whose write-verify failed (stuck devices)
  std::uint64_t corrected_cells = 0;    ///< of which corrected digitally in HP-MVM
  std::uint64_t arrays = 0;             ///< physical arrays used (HP-MVM tiles and LP-INV blocks)
  double max_pulses_per_device = 0.0;   ///< endurance consumed by the busiest device
  double digital_ops = 0.0;             ///< digital work at programming (Schur complements, slicing)
  bool analog_usable = true;            ///< false: unstable circuit / singular block → digital
};

/// Events of one solve() call (all right-hand sides).
struct solve_activity {
  std::uint64_t lp_inv_ops = 0;         ///< LP-INV evaluations (one per iteration per RHS)
  std::uint64_t inv_settles = 0;        ///< INV-circuit settles (≥ lp_inv_ops with BlockAMC)
  double inv_settle_weight = 0.0;       ///< Σ over settles of 1/λ_min (associated matrix)
  double inv_opamp_weight = 0.0;        ///< Σ over settles of op-amps·1/λ_min
  double inv_conductance_weight = 0.0;  ///< Σ over settles of Σ_cells G·(V/V_read)²/λ_min (S)
  std::uint64_t block_mvm_reads = 0;    ///< BlockAMC coupling MVMs (A2, A3 blocks)
  std::uint64_t hp_mvm_ops = 0;         ///< HP-MVM evaluations (residuals)
  std::uint64_t hp_mvm_steps = 0;       ///< sequential input chunks over all HP-MVMs
  std::uint64_t array_reads = 0;        ///< single-array read operations (tiles × slices × chunks)
  std::uint64_t adc_conversions = 0;    ///< all ADC conversions (HP-MVM readouts and LP-INV outputs)
  double adc_steps = 0.0;               ///< Σ 2^bits over conversions (Walden energy scale)
  std::uint64_t dac_conversions = 0;
  double dac_steps = 0.0;               ///< Σ 2^bits over conversions
  double read_conductance = 0.0;        ///< Σ over array reads of Σ_cells G·(V/V_read)² (S)
  std::uint64_t tia_reads = 0;          ///< Σ over array reads of the TIAs switched on
  double digital_ops = 0.0;             ///< digital periphery operations (shift-add, residual, ...)
  std::uint64_t noise_readout_errors = 0;  ///< HP-MVM readouts that read noise moved off the integer
  std::uint64_t fallback_columns = 0;   ///< right-hand sides answered by the digital fallback
  std::uint64_t diverged_columns = 0;   ///< of which because the residual grew
  std::uint64_t unconverged_columns = 0;///< of which because tol was not reached in time

  void reset() noexcept { *this = {}; }
};

}  // namespace amimo::analog
