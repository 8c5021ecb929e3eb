#pragma once
// Runs a BER-vs-SNR sweep: every (detector, solver) curve sees the same channel, bit and
// noise realisations, so differences between curves come from the detector and solver
// alone. Work is split into frames (one channel realisation each) whose random streams
// derive from (seed, frame index), and the stop rules are checked on rounds of a fixed
// number of frames — so the result for a seed does not depend on the thread count
// (only the wall-time limit and interruptions can end a point at a different frame).
// With coding ldpc, each user's bits of a frame are one LDPC transport block: the payload
// bits come from the same per-frame stream, so every curve decodes the same blocks.

#include <amimo/metrics/error_stats.h>
#include <amimo/solver/accounting_solver.h>
#include <amimo/sweep/sweep_config.h>

#include <atomic>
#include <string>
#include <vector>

namespace amimo::sweep {

struct curve_point {
  detect::detector_kind detector{};
  std::string solver;            ///< the curve label (solver_label)
  std::size_t solver_index = 0;  ///< the entry of config.solvers the curve runs
  metrics::error_counter errors;
  solver::solver_stats stats;
  std::uint64_t unresolved_channels = 0;  ///< channels the detector could not use (counted, output 0)
  std::uint64_t erased_bits = 0;  ///< bits of erased streams, not in `errors` (metrics/llr_quality.h)
  // coding ldpc only (all 0 otherwise): one transport block per user and frame.
  std::uint64_t blocks = 0;
  std::uint64_t block_errors = 0;             ///< TB CRC failed, or the payload differs
  std::uint64_t undetected_block_errors = 0;  ///< of those: CRC passed, payload wrong
  std::uint64_t decoder_iterations = 0;       ///< summed over code blocks
  std::uint64_t code_blocks = 0;
  [[nodiscard]] double bler() const noexcept {
    return blocks == 0 ? 0.0 : static_cast<double>(block_errors) / static_cast<double>(blocks);
  }
  /// Wilson score 95% interval of the BLER (metrics::wilson_interval).
  [[nodiscard]] metrics::interval bler_interval() const noexcept;
};

struct point_result {
  double snr_db = 0.0;
  double ebn0_db = 0.0;
  double seconds = 0.0;    ///< measured wall time of the point
  /// "min_errors", "max_bits", "max_seconds", "interrupted"; coding ldpc: "min_block_errors"
  /// or "max_blocks" instead of "min_errors"
  std::string stop_reason;
  /// Only the curves run at this SNR: a curve error-free at max_bits / max_blocks at some SNR
  /// is not run at a higher one (a lower one still runs, whatever the list's order).
  std::vector<curve_point> curves;
};

struct sweep_result {
  std::vector<point_result> points;  ///< in the order of config.snr_db
  /// SNRs not run: every curve was error-free at max_bits / max_blocks at a lower SNR.
  std::vector<double> skipped_snr_db;
  bool interrupted = false;  ///< the run was stopped before its last point
};

/// Stop requests, set from a signal handler or another thread.
struct sweep_control {
  std::atomic<bool> skip_point{false};  ///< end the current point, keep what it measured
  std::atomic<bool> stop_run{false};    ///< end the current point and the sweep
};

class sweep_observer {
 public:
  virtual ~sweep_observer() = default;
  /// Called between rounds, at most about twice a second, with the point so far.
  virtual void on_progress(const point_result& partial) { (void)partial; }
  virtual void on_point_done(const point_result& point) { (void)point; }
};

/// Runs the sweep; config must have passed validate().
sweep_result run_sweep(const sweep_config& config, sweep_observer& observer, sweep_control& control);

}  // namespace amimo::sweep
