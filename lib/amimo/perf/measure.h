#pragma once
// Runs backends on a system_set: the CPU digital backends MEASURED (wall time, batched over
// a thread pool), the analog HP-INV backend MODELLED (its cost model's seconds and joules,
// at the iteration count the simulator needs for a target precision), and, where amimo was
// built with CUDA and a device is present, a batched cuSOLVER solve MEASURED on the GPU.

#include <amimo/analog/analog_profile.h>
#include <amimo/core/thread_pool.h>
#include <amimo/perf/perf_model.h>
#include <amimo/perf/workload.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace amimo::perf {

/// One CPU measurement of a digital backend.
struct cpu_measurement {
  std::string backend;            ///< factory name ("digital-f32", "digital-f64")
  int threads = 0;                ///< workers that ran (one backend instance each)
  std::uint64_t blocks = 0;       ///< blocks done: set_matrix + one solve() of rhs_per_matrix columns
  std::uint64_t solves = 0;       ///< blocks × rhs_per_matrix
  double wall_seconds = 0.0;      ///< measured around the whole batch
  throughput_energy figures;      ///< rate measured; energy = wall × threads × W/core (modelled)
  double rel_error_vs_f64 = 0.0;  ///< ‖X − X_f64‖_F / ‖X_f64‖_F on the first block
};

/// Solves the set's blocks on every worker of `pool` (worker w starts at block w and
/// cycles), each with its own backend made by the factory, until `seconds` have passed
/// since the start and each worker did at least min_blocks_per_worker blocks. One untimed
/// warm-up block per worker comes first. `stop` (a signal handler's flag; may be null) ends
/// the measurement early once every worker did its minimum: the rate is then measured over
/// the shorter time. Throws config_error for an unknown backend or negative seconds.
cpu_measurement measure_cpu(thread_pool& pool, const system_set& set, std::string_view backend, double seconds,
                            int min_blocks_per_worker, double watts_per_core,
                            const std::atomic<bool>* stop = nullptr);

/// How the analog backend is run.
struct analog_run_options {
  double tolerance = 1e-7;  ///< stop at relative residual ‖r‖/‖b‖ ≤ tolerance (FP32 level)
  int max_iterations = 40;  ///< cap; a right-hand side not converged by then falls back
  int rhs = 2;              ///< right-hand sides simulated per matrix (≤ the set's)
  int matrices = 0;         ///< matrices simulated (0: all of the set)
};

/// The analog HP-INV backend on a set, one profile: MODELLED costs from the cost model.
struct analog_estimate {
  std::string profile;
  int matrices = 0;                ///< matrices programmed
  int solves = 0;                  ///< right-hand sides simulated
  int fallbacks = 0;               ///< of which answered by the digital fallback
  double median_iterations = 0.0;  ///< over analog-answered right-hand sides (max over a solve() call)
  int max_iterations = 0;
  double median_rel_error_vs_f64 = 0.0;  ///< ‖x − x_f64‖/‖x_f64‖, analog-answered solves
  double solve_seconds = 0.0;            ///< mean modelled time per right-hand side (NaN: a fallback)
  double solve_joules = 0.0;             ///< mean modelled energy per right-hand side (NaN: a fallback)
  double programming_seconds = 0.0;      ///< mean modelled programming time per matrix
  double programming_joules = 0.0;       ///< mean modelled programming energy per matrix
  double endurance_fraction = 0.0;       ///< mean share of the busiest device's endurance per matrix
  throughput_energy solve_only;          ///< programming left out
  throughput_energy amortised;           ///< programming once per rhs_per_matrix solves
};

/// Runs create_analog_backend(profile with tol/iters applied, refine mode) over the set;
/// solve costs are averaged over the solve() calls, and NaN (not computable) when any fell
/// back: a fallback's digital solve is not modelled, and leaving fallbacks out would
/// understate the cost. Iterations and error are medians over the analog-answered calls
/// (NaN when all fell back). rhs_per_matrix is the amortisation of `amortised` (the set's
/// when 0).
analog_estimate model_analog(const system_set& set, const analog::analog_profile& profile,
                             const analog_run_options& options, std::uint64_t chip_seed, int rhs_per_matrix = 0);

/// A GPU measurement (batched cuSOLVER Cholesky, complex FP32) when available.
struct gpu_measurement {
  bool available = false;
  std::string status;  ///< device name, or why there is no measurement
  std::uint64_t solves = 0;
  double wall_seconds = 0.0;
  throughput_energy figures;  ///< rate measured; energy = wall × board_watts (modelled)
  double rel_error_vs_f64 = 0.0;
};

/// Whether this build has the CUDA backend (AMIMO_WITH_CUDA).
bool built_with_cuda() noexcept;

/// Measures batched factor-and-solve of the set on the GPU for about `seconds` (host
/// transfers excluded, device-to-device reload of the matrices included). Never throws
/// for a missing device or a build without CUDA: available = false and status says why.
gpu_measurement measure_gpu(const system_set& set, double seconds, double board_watts);

}  // namespace amimo::perf
