#pragma once
// The analog-versus-digital comparison behind `amimo-report compare` (issue 6): for every
// workload (real n×n systems, MIMO Gram solves) it measures the CPU digital backends here,
// models the analog HP-INV backend per cost profile (with and without programming
// amortised), models an H100 GPU (roofline; measured instead where CUDA and a device are
// present) and a digital ASIC, and writes a table, CSV, JSON and plots. Every figure
// carries its basis: "measured" or "modelled".

#include <amimo/perf/measure.h>
#include <amimo/perf/perf_model.h>
#include <amimo/perf/workload.h>
#include <amimo/report/line_plot.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace amimo::perf {

/// A MIMO shape: N receive antennas × K users.
struct mimo_shape {
  int antennas = 0;
  int users = 0;
};

/// Parses "16x4" (antennas x users); throws config_error naming the text otherwise.
mimo_shape parse_mimo_shape(const std::string& text);

struct compare_options {
  std::vector<int> sizes{8, 16, 32, 64, 128, 256};  ///< real n×n systems
  std::vector<mimo_shape> shapes{{16, 4}, {64, 16}, {128, 8}};
  /// Analog cost profiles. Default: the feedback-mapping profiles, whose solves reach the
  /// FP32 target in the fewest iterations (the paper-mapping ones are a --profiles away).
  std::vector<std::string> profiles{"feedback-board", "feedback-projected"};
  double cond = 10.0;                                             ///< κ bound of the real systems
  int solves_per_matrix = 100;  ///< right-hand sides per matrix (coherence block): amortisation
  int matrices = 8;             ///< independent matrices per workload (CPU cycles through them)
  double cpu_seconds = 0.5;     ///< measuring time per CPU backend and workload
  int threads = 0;              ///< CPU workers (0: one per hardware thread)
  /// Power per busy core for the CPU energy (this machine has no RAPL counters).
  double cpu_watts_per_core = 10.0;
  std::string cpu_watts_source =
      "assumed: server x86 core at full load incl. its share of uncore and DRAM (e.g. Xeon Platinum 8380: "
      "270 W TDP / 40 cores = 6.75 W plus memory)";
  analog_run_options analog;  ///< tolerance 1e-7 (FP32 level), up to 40 iterations
  int analog_matrices = 3;    ///< matrices the analog simulator programs per workload/profile
  gpu_roofline_params gpu;
  asic_params asic;
  bool try_gpu = true;  ///< measure on a CUDA device when built with CUDA and one exists
  std::uint64_t seed = 1;
};

/// Throws config_error naming the first bad option.
void validate(const compare_options& options);

/// One backend on one workload.
struct result_row {
  std::string workload;  ///< workload::name()
  std::string kind;      ///< "real" or "mimo"
  int n = 0, antennas = 0, users = 0;
  std::string backend;       ///< e.g. "cpu digital-f32", "gpu H100 roofline", "analog paper-board"
  std::string amortisation;  ///< what per-matrix work is included, in words
  double solves_per_s = 0.0;
  std::string throughput_basis;  ///< "measured" | "modelled"
  double joules_per_solve = 0.0;
  std::string energy_basis;  ///< "modelled", "modelled (measured time x W)", ...
  double seconds_per_solve = 0.0;
  double iterations = 0.0;        ///< median refinement iterations; 0 for direct solves
  double rel_error_vs_f64 = 0.0;  ///< median ‖x − x_f64‖/‖x_f64‖ (NaN for models)
  int fallbacks = 0;              ///< analog solves answered by the digital fallback
  std::uint64_t solves = 0;       ///< solves behind the figure (measured or simulated)
  std::string series;             ///< plot series label
};

struct compare_result {
  std::vector<result_row> rows;
  std::string gpu_status;  ///< measured device, or why the GPU figures are the roofline model only
  int threads = 0;         ///< CPU workers used
  bool interrupted = false;  ///< stopped by `stop`: rows holds the steps finished before it
};

/// Runs the whole comparison. progress (may be empty) gets one line per step. `stop` (a
/// signal handler's flag; may be null) is checked between steps and ends a CPU measurement
/// early: the result then holds the rows measured so far and says interrupted.
compare_result run_compare(const compare_options& options, const std::function<void(const std::string&)>& progress,
                           const std::atomic<bool>* stop = nullptr);

/// "# name: value" lines of every parameter and model constant with its source.
std::vector<std::pair<std::string, std::string>> describe(const compare_options& options);

/// Text tables, one per workload, with [measured]/[modelled] on every figure.
std::string format_tables(const compare_result& result);

/// CSV, one row per result_row, header first.
std::string to_csv(const compare_result& result);

/// JSON document: params, model constants with sources, rows, units.
std::string to_json(const compare_options& options, const compare_result& result, const std::string& command_line);

/// Throughput (solves/s) and energy per solve (J) against n for the real systems, log y,
/// one series per backend.
report::plot_spec throughput_plot(const compare_result& result);
report::plot_spec energy_plot(const compare_result& result);

/// Writes report.csv, report.json, report-throughput.png and report-energy.png into dir as
/// one set (the PNGs encoded first, write_file_set_atomically: all four or none). Throws
/// io_error naming the file.
void write_outputs(const std::filesystem::path& dir, const compare_options& options, const compare_result& result,
                   const std::string& command_line);

}  // namespace amimo::perf
