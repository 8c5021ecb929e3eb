#pragma once
// `amimo-report sensitivity`: which assumed circuit values of an analog profile move the
// modelled time and energy per solve most. Each assumption is set to the low and the high
// end of a stated range (everything else at the profile's value) and the cost model's
// median time and energy per solve over the same simulated solves is compared with the
// baseline; results as a table (ranked by the larger of the two swings), CSV/JSON and one
// tornado chart per size and metric. Every figure here is modelled.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace amimo::perf {

struct sensitivity_options {
  std::string profile = "paper-board";
  std::vector<int> sizes{16, 128};  ///< real n×n dominant systems (condition number cond)
  double cond = 4.0;
  int iterations = 3;               ///< fixed refinement iterations per solve (the MIMO mode)
  int trials = 3;                   ///< systems per size (medians over them)
  std::uint64_t seed = 1;
};

/// One assumption and the range it is varied over.
struct assumption_range {
  std::string key;        ///< profile field, e.g. "circuit.opamp_gbw_hz"
  std::string what;       ///< human name
  double baseline = 0.0;  ///< the profile's value
  double low = 0.0;
  double high = 0.0;
  std::string range_basis;  ///< why this range, e.g. "x0.1..x10 (order of magnitude either way)"
};

struct sensitivity_row {
  int n = 0;
  assumption_range range;
  double base_seconds = 0.0, base_joules = 0.0;  ///< median per solve at the baseline (modelled)
  double low_seconds = 0.0, low_joules = 0.0;    ///< at range.low
  double high_seconds = 0.0, high_joules = 0.0;  ///< at range.high
  /// The systems the medians are over: those the baseline, the low and the high end all
  /// solved in analog (a solve that fell back has no analog cost; medians over different
  /// systems would compare different systems). 0: every figure is NaN (printed n/a).
  int systems = 0;
  int fallbacks = 0;  ///< solves of the three variants that fell back to the digital answer
  /// max/min of the three values (≥ 1): how far the assumption moves the figure.
  double time_swing() const noexcept;
  double energy_swing() const noexcept;
};

struct sensitivity_result {
  sensitivity_options options;
  std::string profile_label;
  std::vector<sensitivity_row> rows;  ///< per size, ranked by max(time, energy) swing
  bool interrupted = false;           ///< stopped by `stop`: rows holds the assumptions done before it
};

/// The assumptions varied and their ranges for a profile (its values, marked "assumed" in
/// the profile, not the device facts the paper reports).
std::vector<assumption_range> sensitivity_ranges(const std::string& profile);

/// Throws config_error naming the first bad option (sizes, trials, iterations, cond) or a
/// profile that cannot be loaded. run_sensitivity checks the same; a caller validates
/// first so that nothing is printed or created for a run that would be refused.
void validate(const sensitivity_options& options);

/// Runs the study. Throws config_error for a bad option or profile. `stop` (a signal
/// handler's flag; may be null) is checked between assumptions: the result then holds the
/// rows finished before it and says interrupted.
sensitivity_result run_sensitivity(const sensitivity_options& options, const std::atomic<bool>* stop = nullptr);

/// The ranked table as text (stdout).
std::string sensitivity_table(const sensitivity_result& result);

/// sensitivity.csv, sensitivity.json, tornado_<n>_time.png, tornado_<n>_energy.png, written
/// as one set (the PNGs encoded first, write_file_set_atomically: all or none); a
/// tornado_<n>_*.png of a size this run did not chart (an earlier run's) is removed with it.
void write_sensitivity_outputs(const std::filesystem::path& directory, const sensitivity_result& result);

}  // namespace amimo::perf
