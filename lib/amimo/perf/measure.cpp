#include <amimo/perf/measure.h>

#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/solver/solver_factory.h>

#if defined(AMIMO_HAVE_CUDA)
#include <amimo/gpu/batched_gpu_solver.h>
#endif

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace amimo::perf {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median_of(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/// The FP64 reference solution of block k.
cmat reference_solution(const system_set& set, std::size_t k) {
  auto f64 = solver::create_linear_solver({"digital-f64", {}}, set.load.n, 0);
  f64->set_matrix(set.matrices[k], set.structure);
  cmat x(set.rhs[k].rows(), set.rhs[k].cols());
  f64->solve(x, set.rhs[k]);
  return x;
}

double relative_difference(const cmat& x, const cmat& reference) {
  const double norm = reference.norm();
  return norm > 0.0 ? (x - reference).norm() / norm : kNaN;
}

void check_set(const system_set& set) {
  if (set.matrices.empty() || set.matrices.size() != set.rhs.size()) {
    throw config_error("system set has no blocks (or matrices and right-hand sides disagree)");
  }
}

}  // namespace

cpu_measurement measure_cpu(thread_pool& pool, const system_set& set, std::string_view backend, double seconds,
                            int min_blocks_per_worker, double watts_per_core, const std::atomic<bool>* stop) {
  check_set(set);
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) {
    throw config_error(fmt::format("measurement time must be a finite number >= 0 s (got {})", seconds));
  }
  if (min_blocks_per_worker < 0) throw config_error("min_blocks_per_worker must be >= 0");
  const solver::solver_spec spec{std::string(backend), {}};
  solver::validate_solver_spec(spec);

  const int workers = pool.size();
  const auto n = static_cast<Eigen::Index>(set.load.n);
  const auto m = static_cast<Eigen::Index>(set.rhs_per_matrix);
  std::vector<std::unique_ptr<solver::linear_solver>> backends;
  std::vector<cmat> outputs;
  for (int w = 0; w < workers; ++w) {
    backends.push_back(solver::create_linear_solver(spec, set.load.n, derive_seed(1, {static_cast<std::uint64_t>(w)})));
    outputs.emplace_back(n, m);
  }
  const std::size_t blocks = set.matrices.size();
  const auto run_block = [&](std::size_t slot, std::size_t k) {
    backends[slot]->set_matrix(set.matrices[k], set.structure);
    backends[slot]->solve(outputs[slot], set.rhs[k]);
  };

  // Warm-up: every backend sees the sizes once (buffers, caches), untimed.
  pool.parallel_for(static_cast<std::size_t>(workers), [&](int, std::size_t slot) { run_block(slot, slot % blocks); });

  std::vector<std::uint64_t> done(static_cast<std::size_t>(workers), 0);
  const clock_type::time_point start = clock_type::now();
  const auto deadline =
      start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  pool.parallel_for(static_cast<std::size_t>(workers), [&](int, std::size_t slot) {
    std::uint64_t count = 0;
    std::size_t k = slot % blocks;
    while (count < static_cast<std::uint64_t>(min_blocks_per_worker) ||
           (clock_type::now() < deadline && (stop == nullptr || !stop->load(std::memory_order_relaxed)))) {
      run_block(slot, k);
      ++count;
      k = (k + 1) % blocks;
    }
    done[slot] = count;
  });
  const double wall = seconds_since(start);

  cpu_measurement result;
  result.backend = std::string(backend);
  result.threads = workers;
  for (const std::uint64_t d : done) result.blocks += d;
  result.solves = result.blocks * static_cast<std::uint64_t>(set.rhs_per_matrix);
  result.wall_seconds = wall;
  result.figures = cpu_figures(wall, static_cast<double>(result.solves), workers, watts_per_core);

  // Accuracy on the first block, against FP64.
  backends[0]->set_matrix(set.matrices[0], set.structure);
  cmat x(n, m);
  backends[0]->solve(x, set.rhs[0]);
  result.rel_error_vs_f64 = relative_difference(x, reference_solution(set, 0));
  return result;
}

analog_estimate model_analog(const system_set& set, const analog::analog_profile& profile,
                             const analog_run_options& options, std::uint64_t chip_seed, int rhs_per_matrix) {
  check_set(set);
  if (!(options.tolerance >= 0.0 && options.tolerance < 1.0)) {
    throw config_error(fmt::format("analog tolerance must be in [0, 1) (got {})", options.tolerance));
  }
  if (options.max_iterations < 1 || options.max_iterations > 64) {
    throw config_error(fmt::format("analog iterations must be in 1..64 (got {})", options.max_iterations));
  }
  if (options.rhs < 1) throw config_error(fmt::format("analog right-hand sides must be >= 1 (got {})", options.rhs));
  analog::analog_profile p = profile;
  analog::apply_analog_options(
      p, {{"iters", std::to_string(options.max_iterations)}, {"tol", fmt::format("{}", options.tolerance)}});
  auto backend = analog::create_analog_backend(p, analog::analog_mode::refine, set.load.n, chip_seed);

  const std::size_t matrices = options.matrices > 0
                                   ? std::min(set.matrices.size(), static_cast<std::size_t>(options.matrices))
                                   : set.matrices.size();
  const Eigen::Index rhs = std::min<Eigen::Index>(options.rhs, set.rhs_per_matrix);
  const auto n = static_cast<Eigen::Index>(set.load.n);

  analog_estimate e;
  e.profile = p.name;
  std::vector<double> iterations, errors;
  double solve_s = 0.0, solve_j = 0.0, prog_s = 0.0, prog_j = 0.0, endurance = 0.0;
  cmat x(n, 1);
  for (std::size_t k = 0; k < matrices; ++k) {
    const cmat reference = reference_solution(set, k);
    backend->reseed(derive_seed(chip_seed, {static_cast<std::uint64_t>(k)}));
    backend->set_matrix(set.matrices[k], set.structure);
    prog_s += backend->last_programming_cost().seconds;
    prog_j += backend->last_programming_cost().joules;
    endurance += backend->last_programming_cost().endurance_fraction;
    ++e.matrices;
    for (Eigen::Index j = 0; j < rhs; ++j) {
      x.setZero();
      const solver::solve_status status = backend->solve(x, set.rhs[k].col(j));
      ++e.solves;
      if (status.fallback || !status.ok) {
        ++e.fallbacks;
        continue;
      }
      solve_s += backend->last_solve_cost().seconds;
      solve_j += backend->last_solve_cost().joules;
      iterations.push_back(status.iterations);
      e.max_iterations = std::max(e.max_iterations, status.iterations);
      const double norm = reference.col(j).norm();
      errors.push_back(norm > 0.0 ? (x.col(0) - reference.col(j)).norm() / norm : kNaN);
    }
  }
  const auto answered = static_cast<double>(iterations.size());
  e.median_iterations = median_of(iterations);
  e.median_rel_error_vs_f64 = median_of(errors);
  // A solve that fell back cost its analog iterations plus a digital solve, which this model
  // does not price; averaging only the solves that did not fall back made a profile that
  // mostly fails look cheaper (feedback-board, 16x16 cond 10, 7 iterations: 28 of 30 fell
  // back and it showed 2789 solves/s and 227 µJ, against 2169 /s and 292 µJ with none). So
  // any fallback leaves the cost unknown (NaN, "n/a" with the fallback count in reports).
  const bool priced = e.fallbacks == 0 && answered > 0;
  e.solve_seconds = priced ? solve_s / answered : kNaN;
  e.solve_joules = priced ? solve_j / answered : kNaN;
  e.programming_seconds = prog_s / static_cast<double>(e.matrices);
  e.programming_joules = prog_j / static_cast<double>(e.matrices);
  e.endurance_fraction = endurance / static_cast<double>(e.matrices);
  const int amortise_over = rhs_per_matrix > 0 ? rhs_per_matrix : set.rhs_per_matrix;
  e.solve_only = analog_figures(e.solve_seconds, e.solve_joules, e.programming_seconds, e.programming_joules, 0);
  e.amortised =
      analog_figures(e.solve_seconds, e.solve_joules, e.programming_seconds, e.programming_joules, amortise_over);
  return e;
}

bool built_with_cuda() noexcept {
#if defined(AMIMO_HAVE_CUDA)
  return true;
#else
  return false;
#endif
}

gpu_measurement measure_gpu(const system_set& set, double seconds, double board_watts) {
  gpu_measurement g;
#if !defined(AMIMO_HAVE_CUDA)
  (void)set;
  (void)seconds;
  (void)board_watts;
  g.status = "not measured: amimo built without CUDA (AMIMO_WITH_CUDA=OFF or no CUDA toolkit)";
  return g;
#else
  const gpu::device_info info = gpu::query_devices();
  if (info.count <= 0) {
    g.status = "not measured: " + info.error;
    return g;
  }
  try {
    check_set(set);
    // Enough systems in one batch to fill the device: the set's matrices repeated.
    const int per_batch = std::max<int>(static_cast<int>(set.matrices.size()), 4096 / std::max(1, set.load.n / 8));
    std::vector<cmat> a, b;
    for (int i = 0; i < per_batch; ++i) {
      a.push_back(set.matrices[static_cast<std::size_t>(i) % set.matrices.size()]);
      b.push_back(set.rhs[static_cast<std::size_t>(i) % set.rhs.size()]);
    }
    gpu::batched_gpu_solver solver(set.load.n, per_batch, set.rhs_per_matrix);
    solver.upload(a, b);
    solver.run();  // warm-up
    std::vector<cmat> x(static_cast<std::size_t>(per_batch));
    solver.download(x);
    g.rel_error_vs_f64 = relative_difference(x[0], reference_solution(set, 0));
    const clock_type::time_point start = clock_type::now();
    std::uint64_t runs = 0;
    do {
      solver.run();
      ++runs;
    } while (seconds_since(start) < seconds);
    g.wall_seconds = seconds_since(start);
    g.solves = runs * static_cast<std::uint64_t>(per_batch) * static_cast<std::uint64_t>(set.rhs_per_matrix);
    g.figures = cpu_figures(g.wall_seconds, static_cast<double>(g.solves), 1, board_watts);
    g.available = true;
    g.status = info.name;
  } catch (const std::exception& ex) {
    g.available = false;
    g.status = std::string("not measured: ") + ex.what();
  }
  return g;
#endif
}

}  // namespace amimo::perf
