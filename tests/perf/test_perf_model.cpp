// The comparison's arithmetic against hand-computed numbers (FLOPs, bytes, roofline,
// ASIC, CPU energy, analog amortisation), the workloads' stated properties, the CPU
// measurement's solve count, the analog iteration count against the precision target, and
// the labels of a small end-to-end comparison.
#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/core/thread_pool.h>
#include <amimo/perf/compare.h>
#include <amimo/perf/measure.h>
#include <amimo/perf/perf_model.h>
#include <amimo/perf/workload.h>

#include <gtest/gtest.h>
#include <Eigen/Eigenvalues>

#include <atomic>
#include <cmath>

namespace {

using namespace amimo;
using namespace amimo::perf;

void expect_relative(double actual, double expected, double tol = 1e-9) {
  EXPECT_NEAR(actual, expected, std::abs(expected) * tol) << "expected " << expected;
}

TEST(PerfModel, CholeskyFlopCounts) {
  // n = 8: n³/3 = 512/3 = 170.667, 2n² = 128; complex counts 4×.
  const flop_count real = cholesky_flops(8, arithmetic::real);
  expect_relative(real.factor, 170.66666666666666);
  expect_relative(real.per_rhs, 128.0);
  const flop_count cplx = cholesky_flops(8, arithmetic::complex);
  expect_relative(cplx.factor, 682.6666666666666);
  expect_relative(cplx.per_rhs, 512.0);
  // Amortised over 100 right-hand sides: 170.667/100 + 128 = 129.70667.
  expect_relative(flops_per_solve(8, arithmetic::real, 100), 129.70666666666666);
  expect_relative(flops_per_solve(8, arithmetic::real, 1), 298.6666666666667);
}

TEST(PerfModel, BytesPerSolve) {
  // FP32: 4 bytes × (3·64/100 + 2·8) = 4 × 17.92 = 71.68; complex 8 bytes per element.
  expect_relative(bytes_per_solve(8, arithmetic::real, 100), 71.68);
  expect_relative(bytes_per_solve(8, arithmetic::complex, 100), 143.36);
  // One right-hand side: 4 × (192 + 16) = 832.
  expect_relative(bytes_per_solve(8, arithmetic::real, 1), 832.0);
}

TEST(PerfModel, GpuRooflineMemoryBound) {
  // H100 defaults, real 8×8, 100 rhs per matrix: compute 129.707 / 67e12 = 1.936e-12 s,
  // memory 71.68 / 3.35e12 = 2.1397e-11 s → memory bound; / 0.2 → 1.06985e-10 s;
  // energy × 700 W = 7.48896e-8 J.
  const gpu_roofline_params h100;
  EXPECT_EQ(h100.peak_flops, 67e12);
  EXPECT_EQ(h100.memory_bw, 3.35e12);
  EXPECT_EQ(h100.board_watts, 700.0);
  const throughput_energy t = gpu_roofline(h100, 8, arithmetic::real, 100);
  expect_relative(t.seconds_per_solve, 1.0698507462686567e-10);
  expect_relative(t.joules_per_solve, 7.488955223880597e-08);
  expect_relative(t.solves_per_s, 9347098214.285714);  // 0.2 × 3.35e12 / 71.68
}

TEST(PerfModel, GpuRooflineComputeBound) {
  // 1 GFLOP/s, 1 TB/s, efficiency 0.5, 100 W; real 8×8, 1 rhs: 298.667 FLOPs → 2.98667e-7 s
  // against 832 B → 8.32e-10 s: compute bound, t = 5.97333e-7 s, E = 5.97333e-5 J.
  gpu_roofline_params g;
  g.peak_flops = 1e9;
  g.memory_bw = 1e12;
  g.efficiency = 0.5;
  g.board_watts = 100.0;
  const throughput_energy t = gpu_roofline(g, 8, arithmetic::real, 1);
  expect_relative(t.seconds_per_solve, 5.973333333333334e-07);
  expect_relative(t.joules_per_solve, 5.973333333333334e-05);
}

TEST(PerfModel, AsicEnergyAndTime) {
  // 129.70667 FLOPs × 2.3 pJ = 298.325 pJ; at 1e12 FLOP/s: 1.2970667e-10 s.
  const asic_params asic;
  EXPECT_EQ(asic.pj_per_flop, 2.3);
  const throughput_energy t = asic_model(asic, 8, arithmetic::real, 100);
  expect_relative(t.joules_per_solve, 2.9832533333333333e-10);
  expect_relative(t.seconds_per_solve, 1.2970666666666666e-10);
  // Complex 4×4 (MIMO 16x4), 1 rhs: 4·64/3 + 8·16 = 213.333 FLOPs → 490.667 pJ at 2.3 pJ.
  expect_relative(asic_model(asic, 4, arithmetic::complex, 1).joules_per_solve, 4.906666666666667e-10);
}

TEST(PerfModel, CpuFigures) {
  // 1000 solves in 2 s on 2 cores at 10 W: 500 solves/s, 2 s × 2 × 10 W / 1000 = 0.04 J.
  const throughput_energy t = cpu_figures(2.0, 1000.0, 2, 10.0);
  expect_relative(t.solves_per_s, 500.0);
  expect_relative(t.seconds_per_solve, 0.002);
  expect_relative(t.joules_per_solve, 0.04);
  const throughput_energy none = cpu_figures(1.0, 0.0, 2, 10.0);
  EXPECT_EQ(none.solves_per_s, 0.0);
  EXPECT_TRUE(std::isnan(none.joules_per_solve));
}

TEST(PerfModel, AnalogAmortisation) {
  // Solve 1 µs / 2 µJ, programming 1 ms / 5 mJ per matrix, 100 solves per matrix:
  // 1e-6 + 1e-3/100 = 1.1e-5 s, 2e-6 + 5e-3/100 = 5.2e-5 J; without programming 1e-6 s, 2e-6 J.
  const throughput_energy with = analog_figures(1e-6, 2e-6, 1e-3, 5e-3, 100);
  expect_relative(with.seconds_per_solve, 1.1e-5);
  expect_relative(with.joules_per_solve, 5.2e-5);
  expect_relative(with.solves_per_s, 90909.09090909091);
  const throughput_energy without = analog_figures(1e-6, 2e-6, 1e-3, 5e-3, 0);
  expect_relative(without.seconds_per_solve, 1e-6);
  expect_relative(without.joules_per_solve, 2e-6);
  expect_relative(without.solves_per_s, 1e6);
}

TEST(Workload, RealSystemsAreSpdWithStatedCondition) {
  const system_set set = make_systems(real_workload(16), 3, 4, 10.0, 7);
  ASSERT_EQ(set.matrices.size(), 3U);
  for (std::size_t k = 0; k < set.matrices.size(); ++k) {
    const cmat& a = set.matrices[k];
    EXPECT_EQ(a.imag().cwiseAbs().maxCoeff(), 0.0);
    EXPECT_LT((a - a.adjoint()).norm(), 1e-12);
    EXPECT_LT((a.diagonal().real().array() - 1.0).abs().maxCoeff(), 1e-12);
    const rvec lambda = Eigen::SelfAdjointEigenSolver<rmat>(a.real()).eigenvalues();
    EXPECT_GT(lambda.minCoeff(), 0.0);
    EXPECT_LE(lambda.maxCoeff() / lambda.minCoeff(), 10.0 * (1 + 1e-9));
    EXPECT_GT(lambda.maxCoeff() / lambda.minCoeff(), 5.0);  // the bound is (nearly) reached
    ASSERT_EQ(set.rhs[k].cols(), 4);
  }
  // Same seed, same systems; another seed, others.
  const system_set again = make_systems(real_workload(16), 3, 4, 10.0, 7);
  EXPECT_EQ(again.matrices[2], set.matrices[2]);
  EXPECT_EQ(again.rhs[2], set.rhs[2]);
  EXPECT_NE(make_systems(real_workload(16), 3, 4, 10.0, 8).matrices[0], set.matrices[0]);
}

TEST(Workload, MimoGramIsHermitianPositiveDefinite) {
  const system_set set = make_systems(mimo_workload(16, 4), 2, 3, 1.0, 1);
  EXPECT_EQ(set.load.n, 4);
  EXPECT_EQ(set.load.arith(), arithmetic::complex);
  EXPECT_EQ(set.load.name(), "MIMO 16x4 (4x4 Gram)");
  for (const cmat& a : set.matrices) {
    EXPECT_EQ(a.rows(), 4);
    EXPECT_LT((a - a.adjoint()).norm(), 1e-12);
    EXPECT_GT(Eigen::SelfAdjointEigenSolver<cmat>(a).eigenvalues().minCoeff(), 0.0);
    EXPECT_GT(a.imag().cwiseAbs().maxCoeff(), 0.0);
    // E[(HᴴH)_ii] = N = 16: the diagonal is around 16.
    EXPECT_GT(a.diagonal().real().mean(), 6.0);
    EXPECT_LT(a.diagonal().real().mean(), 30.0);
  }
}

TEST(Workload, BadInputIsAConfigError) {
  EXPECT_THROW(real_workload(0), config_error);
  EXPECT_THROW(mimo_workload(4, 16), config_error);
  EXPECT_THROW(make_systems(real_workload(4), 0, 1, 10.0, 1), config_error);
  EXPECT_THROW(make_systems(real_workload(4), 1, 0, 10.0, 1), config_error);
  EXPECT_THROW(make_systems(real_workload(4), 1, 1, 0.5, 1), config_error);
  EXPECT_EQ(parse_mimo_shape("128x8").antennas, 128);
  EXPECT_EQ(parse_mimo_shape("128x8").users, 8);
  EXPECT_THROW(parse_mimo_shape("128x"), config_error);
  EXPECT_THROW(parse_mimo_shape("x8"), config_error);
  EXPECT_THROW(parse_mimo_shape("12a8x4"), config_error);
  EXPECT_THROW(parse_mimo_shape("4x16"), config_error);
}

TEST(CpuMeasurement, CountsEverySolveAndIsAccurate) {
  thread_pool pool(2);
  const system_set set = make_systems(real_workload(8), 3, 5, 10.0, 3);
  // seconds = 0: exactly min_blocks_per_worker blocks per worker, 5 solves each.
  const cpu_measurement m = measure_cpu(pool, set, "digital-f64", 0.0, 4, 10.0);
  EXPECT_EQ(m.threads, 2);
  EXPECT_EQ(m.blocks, 8U);
  EXPECT_EQ(m.solves, 40U);
  EXPECT_GT(m.wall_seconds, 0.0);
  EXPECT_GT(m.figures.solves_per_s, 0.0);
  expect_relative(m.figures.solves_per_s, 40.0 / m.wall_seconds);
  expect_relative(m.figures.joules_per_solve, m.wall_seconds * 2 * 10.0 / 40.0);
  EXPECT_EQ(m.rel_error_vs_f64, 0.0);
  const cpu_measurement f32 = measure_cpu(pool, set, "digital-f32", 0.0, 1, 10.0);
  EXPECT_EQ(f32.solves, 10U);
  EXPECT_GT(f32.rel_error_vs_f64, 0.0);
  EXPECT_LT(f32.rel_error_vs_f64, 1e-5);
  EXPECT_THROW(measure_cpu(pool, set, "no-such-backend", 0.0, 1, 10.0), config_error);
  EXPECT_THROW(measure_cpu(pool, set, "digital-f64", -1.0, 1, 10.0), config_error);
}

TEST(AnalogEstimate, IterationsGrowWithThePrecisionTarget) {
  const system_set set = make_systems(real_workload(16), 2, 2, 10.0, 5);
  const analog::analog_profile ideal = analog::load_analog_profile("ideal");
  double previous = 0.0;
  double loose_error = 0.0, tight_error = 0.0;
  for (const double tol : {1e-2, 1e-4, 1e-7}) {
    analog_run_options o;
    o.tolerance = tol;
    const analog_estimate e = model_analog(set, ideal, o, 11);
    EXPECT_EQ(e.fallbacks, 0) << "tol " << tol;
    EXPECT_GE(e.median_iterations, previous) << "tol " << tol;
    if (tol == 1e-2) loose_error = e.median_rel_error_vs_f64;
    if (tol == 1e-7) {
      EXPECT_GT(e.median_iterations, previous);  // 3 more decades need more iterations
      tight_error = e.median_rel_error_vs_f64;
    }
    previous = e.median_iterations;
  }
  analog_run_options loose;
  loose.tolerance = 1e-2;
  EXPECT_LT(model_analog(set, ideal, loose, 11).median_iterations, previous);
  EXPECT_LT(tight_error, 1e-5);  // FP32 level
  EXPECT_LT(tight_error, loose_error);
}

TEST(AnalogEstimate, AmortisationUsesTheCostModelsProgrammingCost) {
  const system_set set = make_systems(real_workload(8), 1, 4, 10.0, 2);
  analog::analog_profile profile = analog::load_analog_profile("paper-board");
  analog_run_options o;
  o.rhs = 1;
  const analog_estimate e = model_analog(set, profile, o, 3, 10);
  ASSERT_EQ(e.matrices, 1);
  ASSERT_EQ(e.fallbacks, 0);
  // Programming cost straight from the decorator, independently of model_analog.
  analog::apply_analog_options(profile, {{"iters", "40"}, {"tol", "1e-07"}});
  auto backend = analog::create_analog_backend(profile, analog::analog_mode::refine, 8, 3);
  backend->set_matrix(set.matrices[0], set.structure);
  expect_relative(e.programming_joules, backend->last_programming_cost().joules);
  expect_relative(e.programming_seconds, backend->last_programming_cost().seconds);
  EXPECT_GT(e.programming_joules, 0.0);
  // with = solve + programming / 10; without = solve.
  expect_relative(e.solve_only.joules_per_solve, e.solve_joules);
  expect_relative(e.amortised.joules_per_solve, e.solve_joules + e.programming_joules / 10.0);
  expect_relative(e.amortised.seconds_per_solve, e.solve_seconds + e.programming_seconds / 10.0);
  EXPECT_LT(e.amortised.solves_per_s, e.solve_only.solves_per_s);
}

// A solve that fell back cost its analog iterations and a digital solve the model does not
// price. Averaging only the solves that did not fall back made a mostly-failing profile look
// cheaper than a working one (28 of 30 fell back: 2789 solves/s, 227 µJ against 2169 and
// 292 with none), so any fallback must leave the cost unknown.
TEST(AnalogEstimate, FallbacksLeaveTheCostUnknownRatherThanCheaper) {
  const system_set set = make_systems(real_workload(16), 3, 10, 10.0, derive_seed(1, {0}));
  const analog::analog_profile board = analog::load_analog_profile("feedback-board");
  analog_run_options o;
  o.tolerance = 1e-7;
  o.max_iterations = 7;
  o.rhs = 10;
  const analog_estimate some = model_analog(set, board, o, derive_seed(1, {1000, 0, 0}));
  ASSERT_GT(some.fallbacks, 0);
  ASSERT_LT(some.fallbacks, some.solves);
  EXPECT_TRUE(std::isnan(some.solve_joules));
  EXPECT_TRUE(std::isnan(some.solve_seconds));
  EXPECT_TRUE(std::isnan(some.solve_only.solves_per_s));
  EXPECT_TRUE(std::isnan(some.amortised.joules_per_solve));
  EXPECT_GT(some.median_iterations, 0.0);  // the answered solves' iterations are still known
  // With enough iterations nothing falls back and the cost is given.
  o.max_iterations = 40;
  const analog_estimate none = model_analog(set, board, o, derive_seed(1, {1000, 0, 0}));
  ASSERT_EQ(none.fallbacks, 0);
  EXPECT_GT(none.solve_joules, 0.0);
  EXPECT_GT(none.solve_only.solves_per_s, 0.0);
}

// Rows whose analog solves fell back print n/a with the count, and "-" iterations when none
// was answered ("direct" is a direct solve); never "nan" in the table, CSV or JSON.
TEST(Compare, FallbackRowsPrintNotAvailableNeverNan) {
  const system_set set = make_systems(real_workload(8), 1, 6, 10.0, 3);
  analog_run_options o;
  o.max_iterations = 1;
  o.rhs = 6;
  const analog_estimate all = model_analog(set, analog::load_analog_profile("feedback-board"), o, 5);
  ASSERT_EQ(all.fallbacks, all.solves);
  compare_result r;
  result_row row;
  row.workload = "real 8x8";
  row.kind = "real";
  row.n = 8;
  row.backend = "analog feedback-board (feedback mapping)";
  row.throughput_basis = row.energy_basis = "modelled";
  row.solves_per_s = all.solve_only.solves_per_s;
  row.joules_per_solve = all.solve_only.joules_per_solve;
  row.seconds_per_solve = all.solve_only.seconds_per_solve;
  row.iterations = all.median_iterations;
  row.rel_error_vs_f64 = all.median_rel_error_vs_f64;
  row.fallbacks = all.fallbacks;
  row.solves = static_cast<std::uint64_t>(all.solves);
  r.rows.push_back(row);
  const std::string tables = format_tables(r);
  EXPECT_EQ(tables.find("nan"), std::string::npos) << tables;
  EXPECT_EQ(tables.find("direct"), std::string::npos) << tables;
  EXPECT_NE(tables.find("6 of 6 solves fell back"), std::string::npos) << tables;
  const std::string csv = to_csv(r);
  EXPECT_EQ(csv.find("nan"), std::string::npos) << csv;
  const std::string json = to_json(compare_options{}, r, "test");
  EXPECT_EQ(json.find("nan"), std::string::npos);
  EXPECT_EQ(json.find("NaN"), std::string::npos);
}

TEST(Compare, RowsCarryTheirBasisAndModelFigures) {
  compare_options o;
  o.sizes = {8};
  o.shapes = {{16, 4}};
  o.profiles = {"ideal"};
  o.cpu_seconds = 0.0;
  o.threads = 1;
  o.matrices = 2;
  o.analog_matrices = 1;
  o.analog.rhs = 1;
  o.solves_per_matrix = 10;
  o.try_gpu = false;
  const compare_result r = run_compare(o, {});
  // Per workload: 2 cpu + roofline + ASIC + 2 analog rows.
  ASSERT_EQ(r.rows.size(), 12U);
  for (const result_row& row : r.rows) {
    const bool cpu = row.backend.rfind("cpu", 0) == 0;
    EXPECT_EQ(row.throughput_basis, cpu ? "measured" : "modelled") << row.backend;
    EXPECT_EQ(row.energy_basis.rfind("modelled", 0), 0U) << row.backend;
    EXPECT_GT(row.solves_per_s, 0.0) << row.backend;
    EXPECT_GT(row.joules_per_solve, 0.0) << row.backend;
    if (row.backend == "gpu H100 roofline") {
      const throughput_energy g =
          gpu_roofline(o.gpu, row.n, row.kind == "real" ? arithmetic::real : arithmetic::complex, 10);
      expect_relative(row.solves_per_s, g.solves_per_s);
      expect_relative(row.joules_per_solve, g.joules_per_solve);
    }
  }
  const std::string csv = to_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);
  const std::string tables = format_tables(r);
  EXPECT_NE(tables.find("[measured]"), std::string::npos);
  EXPECT_NE(tables.find("[modelled]"), std::string::npos);
  EXPECT_NE(tables.find("MIMO 16x4"), std::string::npos);

  // A stop request (a signal handler's flag) is checked between steps: set before the run,
  // nothing is measured and the result says interrupted.
  const std::atomic<bool> stop{true};
  const compare_result stopped = run_compare(o, {}, &stop);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_TRUE(stopped.rows.empty());
  EXPECT_NE(format_tables(stopped).find("# Interrupted (signal)"), std::string::npos);
  EXPECT_FALSE(r.interrupted);

  compare_options bad = o;
  bad.sizes = {1};
  EXPECT_THROW(validate(bad), config_error);
  bad = o;
  bad.profiles = {"nosuch"};
  EXPECT_THROW(validate(bad), config_error);
  bad = o;
  bad.analog_matrices = 3;
  EXPECT_THROW(validate(bad), config_error);
}

}  // namespace
