#pragma once
// The analog cost model (DESIGN.md §1.2) as a decorator around the HP-INV simulator: it
// reads the activity counts of each call and fills the statuses' modelled seconds and
// joules. Every number it produces is modelled, never measured.
//
// Latency: INV settling τ = ln(2^(b+1)) / (2π·GBW·λ_min) per settle (b: LP-INV ADC bits,
// λ_min: smallest real eigenvalue part of the circuit's associated matrix, i.e. the
// normalised circuit matrix with each op-amp's row divided by its input node's loading
// (G_in + ΣG_row + G_fb)/G_in, Sun et al., IEEE TED 2020), HP-MVM steps
// (array read + ADC conversion, arrays in parallel, input chunks in sequence), BlockAMC
// coupling reads, one ADC conversion per LP-INV output. Energy: ADC and DAC conversions
// (figure of merit × 2^bits), array read energy V²·G·t, op-amp/TIA static power × time,
// digital periphery operations. Programming: write-verify pulses × pulse energy, time with
// `parallel_devices` written at once (a group lasting as long as its slowest device),
// endurance consumed by the busiest device.

#include <amimo/analog/hp_inv_solver.h>

#include <memory>

namespace amimo::analog {

/// Modelled cost of one call, split by mechanism (J and s).
struct cost_breakdown {
  double seconds = 0.0;
  double joules = 0.0;
  double adc_j = 0.0;
  double dac_j = 0.0;
  double array_j = 0.0;
  double opamp_j = 0.0;
  double digital_j = 0.0;
};

/// Modelled cost of programming one matrix.
struct programming_cost {
  double seconds = 0.0;
  double joules = 0.0;
  double endurance_fraction = 0.0;  ///< share of the busiest device's endurance consumed
};

cost_breakdown model_solve_cost(const analog_profile& profile, const solve_activity& activity);
programming_cost model_programming_cost(const analog_profile& profile, const programming_activity& activity);

class analog_cost_model final : public solver::linear_solver {
 public:
  explicit analog_cost_model(std::unique_ptr<hp_inv_solver> engine);

  std::string_view name() const noexcept override { return engine_->name(); }
  solver::matrix_status set_matrix(cmat_cref a, solver::matrix_structure structure) override;
  solver::solve_status solve(cmat_ref x, cmat_cref b) override;
  void reseed(std::uint64_t seed) noexcept override { engine_->reseed(seed); }

  hp_inv_solver& engine() noexcept { return *engine_; }
  const hp_inv_solver& engine() const noexcept { return *engine_; }
  const cost_breakdown& last_solve_cost() const noexcept { return last_solve_; }
  const programming_cost& last_programming_cost() const noexcept { return last_programming_; }

 private:
  std::unique_ptr<hp_inv_solver> engine_;
  cost_breakdown last_solve_;
  programming_cost last_programming_;
};

/// The composition the factory uses: cost model around a simulator.
std::unique_ptr<analog_cost_model> create_analog_backend(const analog_profile& profile, analog_mode mode,
                                                         int max_size, std::uint64_t chip_seed);

}  // namespace amimo::analog
