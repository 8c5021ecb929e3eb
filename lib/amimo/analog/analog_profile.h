#pragma once
// Everything the analog HP-INV simulator and its cost model assume about the chip, in one
// value type. Profiles live in configs/analog/*.yaml (embedded into the binary, so the
// built-in names work from any directory); every number there carries its source or the
// word "assumed". Units are SI unless the field name says otherwise (µS, ohm).

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::analog {

/// RRAM devices and their programming (write-verify).
struct device_params {
  int bits = 3;                      ///< m: bits per device, L = 2^m conductance levels
  double g_min_us = 0.5;             ///< lowest programmable conductance (µS)
  double g_max_us = 35.0;            ///< highest programmable conductance (µS)
  double program_sigma = 0.0;        ///< write-verify error σ, as a fraction of g_max − g_min
  double stuck_on = 0.0;             ///< fraction of devices stuck at g_max
  double stuck_off = 0.0;            ///< fraction of devices stuck at g_min
  double read_noise = 0.0;           ///< σ of a device's read conductance per operation, relative
  double drift_nu = 0.0;             ///< conductance drift exponent: G(t) = G·(t/t0)^−ν
  double drift_nu_sigma = 0.0;       ///< device-to-device spread of ν
  double drift_t0_s = 1.0;           ///< reference time of the drift law (s)
  double time_since_programming_s = 0.0;  ///< when the solves run, after programming (s)
  bool drift_calibration = true;     ///< periphery divides out the mean drift (reference column)
  double wire_ohm = 0.0;             ///< wire resistance between neighbouring cells (IR drop)
  double mean_pulses = 10.0;         ///< write-verify pulses per device that verifies (whole)
  int max_pulses = 100;              ///< pulses spent before a device is declared unverifiable
  double pulse_s = 100e-9;           ///< duration of one write pulse plus verify read (s)
  double pulse_j = 1e-12;            ///< energy of one write pulse plus verify read (J)
  int parallel_devices = 8;          ///< devices programmed at once (one array row)
  double endurance_cycles = 1e6;     ///< write pulses a device survives
};

/// Circuits around the arrays.
struct circuit_params {
  int array_size = 8;                ///< rows = columns of one physical array
  double opamp_gain = 1e5;           ///< op-amp open-loop DC gain (V/V)
  double opamp_gbw_hz = 10e6;        ///< op-amp gain-bandwidth product (Hz)
  double opamp_power_w = 1e-3;       ///< static power of one op-amp / TIA (W)
  double read_voltage_v = 0.2;       ///< full-scale input voltage on the arrays (V)
  int lp_dac_bits = 8;               ///< LP-INV input DAC (bits incl. sign)
  int lp_adc_bits = 8;               ///< LP-INV output ADC (bits incl. sign)
  double lp_headroom = 1.0;          ///< ADC full scale / largest noise-free output
  /// How LP-INV forms its array conductances (the "LP-INV mapping"; see lp_mapping_summary()):
  /// "paper" — the circuit the paper describes (Zuo et al. 2025; DESIGN.md §1.1 step 4): the
  /// array holds A0 = D_0/L, D_0 the signed digits −(L−1)…(L−1) of the most significant
  /// m-bit slice of the normalised matrix Ā = A/α (after the digital equilibration when
  /// refinement.equilibrate is on), L = 2^m levels; BlockAMC's A1, A2 and A3 keep that
  /// scale, the Schur complement S is its own block at its own scale (DESIGN.md §1.1 step 7).
  /// "feedback" — amimo's own mapping: each op-amp's feedback conductance (a trimmed
  /// element, relative error feedback_sigma) holds the diagonal a_ii and every array holds
  /// the off-diagonal part at its own full scale β (A0 = diag(a_ii) + β·D/L), so couplings
  /// far below the diagonal (MIMO Gram matrices) are not rounded away.
  /// YAML key circuit.lp_mapping (older spelling circuit.lp_diagonal: array|feedback, array
  /// meaning paper); solver option "mapping" (or "lp-diagonal").
  std::string lp_mapping = "feedback";  ///< default for a profile file that does not say
  double feedback_sigma = 1e-3;      ///< relative error of a feedback conductance (fixed per programming)
  int mvm_dac_bits = 1;              ///< HP-MVM input chunk width (magnitude bits per DAC step)
  int mvm_adc_bits = 8;              ///< HP-MVM readout ADC (bits incl. sign)
  double mvm_read_s = 100e-9;        ///< settling + integration time of one array read (s)
  double adc_fom_j = 1e-12;          ///< Walden figure of merit, energy per conversion step (J)
  double dac_fom_j = 1e-13;          ///< DAC energy per conversion step (J)
  double adc_conversion_s = 10e-9;   ///< one ADC conversion (s); arrays convert in parallel
  double dac_conversion_s = 0.0;     ///< one DAC step before an array read (s; 0: hidden in the read)
  double digital_j_per_op = 1e-12;   ///< digital periphery (shift-add, residual, corrections)
};

/// What to do with a cell whose write-verify failed (a stuck device its partner cannot
/// compensate).
enum class fault_policy {
  correct,   ///< keep the nearest reachable digit, add the known difference digitally
  fallback,  ///< a matrix with such a cell in its HP-MVM arrays is solved digitally
};

/// The refinement algorithm (DESIGN.md §1.1).
struct refinement_params {
  int slices = 8;                    ///< S: matrix slices in HP-MVM (m·S bits)
  int input_bits = 24;               ///< magnitude bits of the HP-MVM input vector
  int iterations = 3;                ///< LP-INV solves per right-hand side (max when tol > 0)
  double tolerance = 0.0;            ///< stop when ‖r‖/‖b‖ ≤ tol (0: fixed iteration count)
  double divergence_growth = 1.0;    ///< residual growing by more than this factor → diverged
  /// Digital symmetric diagonal scaling D·A·D (D = diag(1/√a_ii)) before mapping, so a
  /// positive diagonal lands exactly on the top level of the most significant slice.
  bool equilibrate = true;
  fault_policy faults = fault_policy::correct;
  std::string fallback = "digital-f64";  ///< digital backend answering diverged solves
};

struct analog_profile {
  std::string name = "custom";
  std::string description;
  device_params device;
  circuit_params circuit;
  refinement_params refinement;
  /// "section.key" → source of the value, as written in the profile.
  std::map<std::string, std::string> sources;
};

/// Names of the profiles embedded from configs/analog/ ("ideal", "paper-board", "projected",
/// "feedback-board", "feedback-projected").
std::vector<std::string> builtin_profile_names();

/// The embedded YAML text of a built-in profile; throws config_error for an unknown name.
std::string_view builtin_profile_yaml(std::string_view name);

/// Largest profile text accepted, from a file or inline (bytes).
inline constexpr std::size_t max_profile_bytes = 64 * 1024;

/// Reads a profile file: a regular file (not a FIFO, device or directory; opened without
/// blocking) of at most max_bytes. Throws io_error naming the path and the problem.
std::string read_profile_file(const std::string& path, std::size_t max_bytes = max_profile_bytes);

/// Loads a built-in profile by name, or a YAML file by path (anything containing '/' or
/// ending in .yaml; read with read_profile_file). Throws config_error naming the bad key
/// or value, io_error for an unreadable file.
analog_profile load_analog_profile(std::string_view name_or_path);

/// Parses profile YAML text (keys not given keep their defaults above).
analog_profile parse_analog_profile(std::string_view yaml_text, std::string_view origin);

/// Throws config_error when a value is out of its physical or simulated range.
void validate(const analog_profile& profile);

/// Applies solver options ("iters", "tol", "array", "slices", "bits", "time", "stuck",
/// "read-noise", "program-sigma", "faults", "equilibrate", "mapping"/"lp-diagonal", and the
/// cost-model options "mvm-dac-bits", "adc-conversion-s", "dac-conversion-s", "mvm-read-s") on top of a profile. Throws config_error.
void apply_analog_options(analog_profile& profile, const std::map<std::string, std::string>& options);

/// Option keys apply_analog_options() accepts (plus "profile", handled by the factory).
const std::vector<std::string>& analog_option_keys();

/// "paper-board, LP-INV mapping paper (A0 = D0/L)": the profile and its LP-INV mapping, for
/// every output that shows an analog figure.
std::string profile_label(const analog_profile& profile);

/// One line on what the profile's LP-INV mapping puts on the array.
std::string_view lp_mapping_summary(std::string_view mapping);

/// The profile named by a solver spec's options ("profile", default default_profile_name)
/// with the other analog options applied; throws config_error.
analog_profile profile_from_options(const std::map<std::string, std::string>& options);

/// The built-in profile an analog backend uses when no "profile" option names one.
inline constexpr std::string_view default_profile_name = "feedback-board";

/// Flat "section.key" → value listing of a profile, for run headers and JSON output.
std::vector<std::pair<std::string, std::string>> describe(const analog_profile& profile);

}  // namespace amimo::analog
