#include <amimo/perf/perf_model.h>

#include <algorithm>
#include <limits>

namespace amimo::perf {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

throughput_energy from_time_energy(double seconds, double joules) noexcept {
  throughput_energy t;
  t.seconds_per_solve = seconds;
  t.solves_per_s = seconds > 0.0 ? 1.0 / seconds : kNaN;
  t.joules_per_solve = joules;
  return t;
}

}  // namespace

flop_count cholesky_flops(int n, arithmetic arith) noexcept {
  const double d = static_cast<double>(n);
  const double scale = arith == arithmetic::complex ? 4.0 : 1.0;
  return {scale * d * d * d / 3.0, scale * 2.0 * d * d};
}

double flops_per_solve(int n, arithmetic arith, int rhs_per_matrix) noexcept {
  const flop_count f = cholesky_flops(n, arith);
  return f.factor / static_cast<double>(std::max(rhs_per_matrix, 1)) + f.per_rhs;
}

double bytes_per_solve(int n, arithmetic arith, int rhs_per_matrix) noexcept {
  const double d = static_cast<double>(n);
  const double element = arith == arithmetic::complex ? 8.0 : 4.0;
  return element * (3.0 * d * d / static_cast<double>(std::max(rhs_per_matrix, 1)) + 2.0 * d);
}

throughput_energy gpu_roofline(const gpu_roofline_params& gpu, int n, arithmetic arith, int rhs_per_matrix) noexcept {
  const double compute_s = flops_per_solve(n, arith, rhs_per_matrix) / gpu.peak_flops;
  const double memory_s = bytes_per_solve(n, arith, rhs_per_matrix) / gpu.memory_bw;
  const double seconds = std::max(compute_s, memory_s) / gpu.efficiency;
  return from_time_energy(seconds, seconds * gpu.board_watts);
}

throughput_energy asic_model(const asic_params& asic, int n, arithmetic arith, int rhs_per_matrix) noexcept {
  const double flops = flops_per_solve(n, arith, rhs_per_matrix);
  return from_time_energy(flops / asic.flops_per_s, flops * asic.pj_per_flop * 1e-12);
}

throughput_energy cpu_figures(double wall_seconds, double solves, int threads, double watts_per_core) noexcept {
  throughput_energy t;
  if (!(solves > 0.0) || !(wall_seconds > 0.0)) {
    t.seconds_per_solve = kNaN;
    t.solves_per_s = 0.0;
    t.joules_per_solve = kNaN;
    return t;
  }
  t.solves_per_s = solves / wall_seconds;
  t.seconds_per_solve = wall_seconds / solves;
  t.joules_per_solve = wall_seconds * static_cast<double>(threads) * watts_per_core / solves;
  return t;
}

throughput_energy analog_figures(double solve_seconds, double solve_joules, double programming_seconds,
                                 double programming_joules, int rhs_per_matrix) noexcept {
  double seconds = solve_seconds;
  double joules = solve_joules;
  if (rhs_per_matrix > 0) {
    seconds += programming_seconds / static_cast<double>(rhs_per_matrix);
    joules += programming_joules / static_cast<double>(rhs_per_matrix);
  }
  return from_time_energy(seconds, joules);
}

}  // namespace amimo::perf
