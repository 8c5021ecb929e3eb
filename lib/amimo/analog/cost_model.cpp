#include <amimo/analog/cost_model.h>

#include <cmath>
#include <numbers>

namespace amimo::analog {

cost_breakdown model_solve_cost(const analog_profile& profile, const solve_activity& a) {
  const circuit_params& c = profile.circuit;
  // One INV settle to within half an LSB of the output ADC: τ·ln(2^(b+1)),
  // τ = 1/(2π·GBW·λ_min), λ_min of the circuit's associated matrix: the circuit matrix with
  // each op-amp's row divided by its input node's total conductance over G_in (IEEE TED
  // 2020; lp_inv.cpp).
  const double settle_unit = std::log(std::ldexp(1.0, c.lp_adc_bits + 1)) / (2.0 * std::numbers::pi * c.opamp_gbw_hz);
  cost_breakdown cost;
  const double settle_s = a.inv_settle_weight * settle_unit;
  // An HP-MVM step: the input DAC settles, the arrays are read, the ADCs convert (arrays in
  // parallel, input chunks in sequence); dac_conversion_s = 0 when the DAC settles within
  // the read. An LP-INV operation converts its input and its output once.
  const double mvm_s = static_cast<double>(a.hp_mvm_steps) * (c.dac_conversion_s + c.mvm_read_s + c.adc_conversion_s);
  const double coupling_s = static_cast<double>(a.block_mvm_reads) * c.mvm_read_s;
  const double lp_io_s = static_cast<double>(a.lp_inv_ops) * (c.dac_conversion_s + c.adc_conversion_s);
  cost.seconds = settle_s + mvm_s + coupling_s + lp_io_s;

  const double v2 = c.read_voltage_v * c.read_voltage_v;
  cost.adc_j = a.adc_steps * c.adc_fom_j;
  cost.dac_j = a.dac_steps * c.dac_fom_j;
  cost.array_j = v2 * (a.read_conductance * c.mvm_read_s + a.inv_conductance_weight * settle_unit);
  cost.opamp_j = c.opamp_power_w * (a.inv_opamp_weight * settle_unit + static_cast<double>(a.tia_reads) * c.mvm_read_s);
  cost.digital_j = a.digital_ops * c.digital_j_per_op;
  cost.joules = cost.adc_j + cost.dac_j + cost.array_j + cost.opamp_j + cost.digital_j;
  return cost;
}

programming_cost model_programming_cost(const analog_profile& profile, const programming_activity& a) {
  const device_params& d = profile.device;
  programming_cost cost;
  // parallel_devices are written at once and a group lasts as long as its slowest device
  // (a stuck one burns max_pulses): the time counts gated pulses, the energy every pulse.
  cost.seconds = static_cast<double>(a.gated_pulses) * d.pulse_s / d.parallel_devices;
  cost.joules = static_cast<double>(a.pulses) * d.pulse_j + a.digital_ops * profile.circuit.digital_j_per_op;
  cost.endurance_fraction = a.max_pulses_per_device / d.endurance_cycles;
  return cost;
}

analog_cost_model::analog_cost_model(std::unique_ptr<hp_inv_solver> engine) : engine_(std::move(engine)) {}

solver::matrix_status analog_cost_model::set_matrix(cmat_cref a, solver::matrix_structure structure) {
  solver::matrix_status status = engine_->set_matrix(a, structure);
  last_programming_ = model_programming_cost(engine_->profile(), engine_->last_programming());
  status.modelled_seconds = last_programming_.seconds;
  status.modelled_joules = last_programming_.joules;
  return status;
}

solver::solve_status analog_cost_model::solve(cmat_ref x, cmat_cref b) {
  solver::solve_status status = engine_->solve(x, b);
  last_solve_ = model_solve_cost(engine_->profile(), engine_->last_solve());
  status.modelled_seconds = last_solve_.seconds;
  status.modelled_joules = last_solve_.joules;
  return status;
}

std::unique_ptr<analog_cost_model> create_analog_backend(const analog_profile& profile, analog_mode mode,
                                                         int max_size, std::uint64_t chip_seed) {
  return std::make_unique<analog_cost_model>(std::make_unique<hp_inv_solver>(profile, mode, max_size, chip_seed));
}

}  // namespace amimo::analog
