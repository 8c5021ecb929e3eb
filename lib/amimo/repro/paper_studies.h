#pragma once
// The three studies behind the paper reproduction (paper_repro.h), each a plain function
// from settings to a result value plus a writer for its files, so tests and the report can
// use them separately. They compare amimo's simulator and cost model with the facts
// DESIGN.md §1 records about the Peking University RRAM matrix-solver paper (Nat. Electron. 2025):
//
//   1. relative error per refinement iteration on 16×16 real systems (paper: ~1e-7 after
//      10 iterations, ~3 bits per iteration);
//   2. BER vs SNR of ZF 256-QAM over i.i.d. Rayleigh, 16×4 and 128×8, digital-f32 against
//      analog at 1, 2, 3 iterations and LP-INV alone (paper: FP32 matched after 2–3);
//   3. throughput and energy per solve at 32×32 and 128×128 against an H100 (paper: faster
//      than a GPU core at 32; >1000× throughput and >100× energy efficiency projected at
//      128, ~10× and 3–5× for the measured board).
//
// Conventions: relative error is ‖x_k − x*‖₂/‖x*‖₂ (simulated: the analog values are
// outputs of the simulator, not of a chip); BER and CPU times are measured here; every
// analog time and energy is modelled by amimo::analog's cost model, every GPU and ASIC
// figure by amimo::perf's stated models. All randomness derives from one seed.

#include <amimo/core/file_io.h>
#include <amimo/metrics/error_stats.h>
#include <amimo/solver/accounting_solver.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace amimo::repro {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

/// Receives one-line progress messages (the caller decides where they go).
using progress_sink = std::function<void(const std::string& message)>;

// ---- 1. relative error vs iteration --------------------------------------------------------

/// A family of random test matrices: "dominant" (I + scaled symmetric off-diagonal part,
/// spectrum in [1−r, 1+r]) or "spd" (Q diag(λ) Qᵀ, λ log-spaced from 1 to 1/cond), the same
/// generators as amimo-solve --kind.
struct matrix_family {
  std::string kind = "dominant";
  double cond = 4.0;
};

struct relerr_settings {
  int size = 16;
  int iterations = 10;
  int trials = 20;  ///< matrices (each with its own right-hand side) per family
  std::vector<std::string> profiles{"ideal", "paper-board", "projected"};
  std::vector<matrix_family> families{{"dominant", 1.5}, {"dominant", 4.0}, {"dominant", 10.0}, {"spd", 4.0}};
  /// "FP32 level" is reached when the median error is at most this factor × the median
  /// error of digital-f32 on the same systems.
  double fp32_factor = 2.0;
  double paper_level = 1e-7;  ///< the paper's "~1e-7 after 10 iterations"
  std::uint64_t seed = 1;
};

/// One (profile, family) curve over `trials` systems; the same systems for every profile.
struct relerr_curve {
  std::string profile;
  matrix_family family;
  int trials = 0;
  int fallbacks = 0;  ///< analog solves answered by the digital fallback (excluded below)
  std::vector<double> median, p10, p90;  ///< per iteration k = 1..iterations (simulated)
  std::vector<int> counted;              ///< trials with an analog estimate at k
  double lp_median = kNoValue, lp_p10 = kNoValue, lp_p90 = kNoValue;  ///< LP-INV only (analog-lp)
  int lp_fallbacks = 0;
  double f32_median = kNoValue;  ///< digital-f32 on the same systems (computed)
  double f64_median = kNoValue;
  int first_k_paper_level = 0;  ///< first k with median ≤ paper_level; 0: never
  int first_k_fp32 = 0;         ///< first k with median ≤ fp32_factor × f32_median; 0: never
  /// Least-squares slope of −log2(median) over k = fit_first..fit_last, the iterations
  /// before the precision floor (median > 4 × f32_median), at least 1..2.
  double bits_per_iteration = kNoValue;
  int fit_first = 0, fit_last = 0;
  double floor_median = kNoValue;  ///< median error at the last iteration
  double modelled_solve_seconds = kNoValue;  ///< median per solve (all iterations), modelled
  double modelled_solve_joules = kNoValue;
  double modelled_programming_seconds = kNoValue;  ///< median per matrix, modelled
  double modelled_programming_joules = kNoValue;
};

struct relerr_result {
  relerr_settings settings;
  std::vector<relerr_curve> curves;  ///< profile-major, families in settings order
};

/// Runs every (profile, family) curve. Throws config_error for a bad setting or profile.
relerr_result run_relative_error_study(const relerr_settings& settings, const progress_sink& progress = {});

/// relerr.csv (per iteration), relerr_summary.csv, relerr.json, relerr_<profile>.png (encoded
/// here), added to `files` under `directory`; run_paper writes its whole set at once.
void add_relative_error_outputs(output_file_set& files, const std::filesystem::path& directory,
                                const relerr_result& result);

// ---- 2. BER vs SNR --------------------------------------------------------------------------

struct mimo_shape {
  int antennas = 16;
  int users = 4;
  std::vector<double> snr_db;
};

struct ber_settings {
  std::vector<mimo_shape> shapes;
  std::string profile = "paper-board";
  std::vector<int> iterations{1, 2, 3};  ///< one analog curve (one sweep run) per count
  /// The BER range a measured hardware curve typically shows: a second verdict counts only
  /// the SNR points where digital-f32's BER is at least this.
  double visible_ber = 1e-4;
  int vectors_per_channel = 16;
  std::uint64_t min_errors = 1000;
  std::uint64_t max_bits = 10'000'000;
  double max_seconds = 600.0;  ///< per point and run; the only non-deterministic stop
  std::uint64_t seed = 2027;
  int threads = 0;
};

struct ber_point {
  double snr_db = 0.0;
  double ebn0_db = 0.0;
  std::string stop_reason;
  metrics::error_counter errors;
  solver::solver_stats stats;
};

struct ber_curve {
  std::string label;   ///< "digital-f32", "analog 2 it", "analog-lp"
  std::string solver;  ///< factory name
  int iterations = 0;  ///< analog refinement iterations; 1 for analog-lp, 0 for digital
  std::vector<ber_point> points;  ///< the SNRs the sweep ran for this curve, ascending
};

/// Whether one analog curve lies inside digital-f32's 95% interval at one SNR.
struct ber_verdict {
  double snr_db = 0.0;
  double digital_ber = kNoValue, digital_low = kNoValue, digital_high = kNoValue;
  double analog_ber = kNoValue;
  bool inside = false;
  std::string note;  ///< how a missing point was read ("digital stopped error-free at X dB", …)
};

struct iteration_match {
  std::string label;
  int iterations = 0;
  bool matches = false;  ///< inside at every SNR
  bool matches_visible = false;  ///< inside at every SNR where digital-f32's BER ≥ visible_ber
  /// Smallest digital-f32 BER (> 0) of the points from the lowest SNR up to the first point
  /// outside the interval: the curve matches FP32 down to this BER. NaN: outside at once.
  double matched_down_to_ber = kNoValue;
  std::vector<ber_verdict> verdicts;
};

struct ber_shape_result {
  mimo_shape shape;
  std::vector<ber_curve> curves;  ///< digital-f32, analog at each count, analog-lp
  std::vector<iteration_match> matches;  ///< analog curves (and analog-lp last)
  int first_matching_iterations = 0;  ///< smallest analog count matching at every SNR; 0: none
  int first_matching_iterations_visible = 0;  ///< the same where digital-f32's BER ≥ visible_ber
  /// analog-lp at the highest SNR it ran vs digital-f32's interval there (or at the last
  /// SNR digital-f32 ran, where it stopped error-free).
  double lp_top_snr = kNoValue, lp_top_ber = kNoValue, lp_top_digital_high = kNoValue;
  bool interrupted = false;
  double seconds = 0.0;  ///< measured wall time of the shape's runs
};

struct ber_result {
  ber_settings settings;
  std::vector<ber_shape_result> shapes;
};

/// Runs the sweeps (one run with digital-f32, analog at the first count and analog-lp,
/// one run per further count; the same seed, so every curve sees the same channels, bits
/// and noise) and merges them. Throws config_error for a bad setting.
/// `stop` (a signal handler's flag; may be null) ends the running sweep after its current
/// round and skips the rest: the shapes then say interrupted (a shape not begun is left out).
ber_result run_mimo_ber_study(const ber_settings& settings, const progress_sink& progress = {},
                              const std::atomic<bool>* stop = nullptr);

/// ber.csv, ber.json and ber_<N>x<K>.png (log BER with 95% Wilson intervals), added to
/// `files` under `directory`.
void add_ber_outputs(output_file_set& files, const std::filesystem::path& directory, const ber_result& result);

// ---- 3. throughput and energy -----------------------------------------------------------------

struct perf_settings {
  std::vector<int> sizes{32, 128};
  std::vector<std::string> profiles{"paper-board", "projected"};
  int trials = 5;            ///< real dominant systems (cond 4) per size for the analog model
  int max_iterations = 12;   ///< refinement iterations searched for the FP32 level
  double fp32_factor = 2.0;  ///< as in relerr_settings
  int cpu_repeats = 200;     ///< measured digital-f32 factor-and-solves per size
  /// Stated CPU power per busy core (no RAPL here); the same assumption as amimo-report
  /// compare (perf::compare_options).
  double cpu_watts_per_core = 10.0;
  double gpu_measure_seconds = 1.0;  ///< per size, where a CUDA device is present
  std::uint64_t seed = 3;
};

/// One row of the comparison: time, rate and energy per solve of one system at one size.
struct perf_row {
  int n = 0;
  std::string system;     ///< "analog paper-board", "H100 (roofline)", …
  std::string scenario;   ///< "matrix reused" or "1 solve per matrix"
  std::string basis;      ///< "modelled" or "measured" (+ how energy was obtained)
  double seconds_per_solve = kNoValue;
  double solves_per_s = kNoValue;
  double joules_per_solve = kNoValue;
  int iterations = 0;              ///< analog refinement iterations used (FP32 level)
  /// Analog: some count up to perf_settings::max_iterations reached the FP32-level target;
  /// false: `iterations` is that cap and the figures are not at FP32 level (true: digital).
  bool fp32_level = true;
  double rel_error = kNoValue;     ///< median relative error reached (simulated / computed)
  std::string source;
  std::string note;  ///< analog: where the modelled energy goes, time per iteration
  std::string energy_driver;  ///< analog: largest modelled energy component and its share
  double seconds_per_iteration = kNoValue;  ///< analog: modelled solve time / iterations
};

/// Analog over H100 at one size, profile and scenario (>1: analog better).
struct perf_ratio {
  int n = 0;
  std::string profile;
  std::string scenario;
  double throughput_ratio = kNoValue;  ///< analog solves/s ÷ H100 solves/s
  double energy_ratio = kNoValue;      ///< H100 J/solve ÷ analog J/solve
  double throughput_ratio_per_sm = kNoValue;  ///< against one of the H100's SMs
  bool fp32_level = true;  ///< the analog row reached FP32 level (false: not a verdict figure)
  /// Against the H100 measured here (cuSOLVER), where a CUDA device was present; else NaN.
  double throughput_ratio_measured_gpu = kNoValue;
  double energy_ratio_measured_gpu = kNoValue;
};

struct perf_result {
  perf_settings settings;
  std::vector<perf_row> rows;
  std::vector<perf_ratio> ratios;
  std::string gpu_device, gpu_source, asic_source;
  std::string gpu_status;  ///< the measured device, or why there is no GPU measurement
  int gpu_sms = 132;
};

/// "FP32 level not reached within N iterations": the mark of an analog row whose figures are
/// at the iteration cap.
std::string fp32_not_reached(const perf_settings& s);

/// Analog costs from the cost model (programming included or not), digital-f32 measured on
/// this CPU, H100 and ASIC from amimo::perf's models.
perf_result run_throughput_energy_study(const perf_settings& settings, const progress_sink& progress = {});

/// perf.csv, perf.json, perf.png (solves/s per system, log y), added to `files` under
/// `directory`.
void add_perf_outputs(output_file_set& files, const std::filesystem::path& directory, const perf_result& result);

// ---- shared helpers (exposed for tests) -----------------------------------------------------

/// Quantile q in [0, 1] of the finite values (linear interpolation); NaN when none.
double quantile(std::vector<double> values, double q);

/// Least-squares slope of y against x (NaN for fewer than two points).
double fit_slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace amimo::repro
