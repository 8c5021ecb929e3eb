#pragma once
// Runs a BER-vs-SNR sweep: every (detector, solver) curve sees the same channel, bit and
// noise realisations, so differences between curves come from the detector and solver
// alone. Work is split into frames (one channel realisation each) whose random streams
// derive from (seed, frame index), and the stop rules are checked on rounds of a fixed
// number of frames — so the result for a seed does not depend on the thread count
// (only the wall-time limit and interruptions can end a point at a different frame).

#include <amimo/metrics/error_stats.h>
#include <amimo/solver/accounting_solver.h>
#include <amimo/sweep/sweep_config.h>

#include <atomic>
#include <string>
#include <vector>

namespace amimo::sweep {

struct curve_point {
  detect::detector_kind detector{};
  std::string solver;
  metrics::error_counter errors;
  solver::solver_stats stats;
  std::uint64_t unresolved_channels = 0;  ///< channels the detector could not use (counted, output 0)
  std::uint64_t erased_bits = 0;  ///< bits of erased streams, not in `errors` (metrics/llr_quality.h)
};

struct point_result {
  double snr_db = 0.0;
  double ebn0_db = 0.0;
  double seconds = 0.0;    ///< measured wall time of the point
  std::string stop_reason; ///< "min_errors", "max_bits", "max_seconds", "interrupted"
  std::vector<curve_point> curves;  ///< only the curves still active at this SNR
};

struct sweep_result {
  std::vector<point_result> points;
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
