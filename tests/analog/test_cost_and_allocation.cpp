// The analog backend's cost model against hand-computed closed forms, its activity counts
// against the structure of the algorithm, and the promise that a solve does not allocate.
#include "analog_test_support.h"

#include <amimo/analog/cost_model.h>
#include <amimo/analog/device_model.h>
#include <amimo/analog/lp_inv.h>
#include <amimo/core/error.h>
#include <amimo/core/normal_stream.h>

#include <Eigen/Eigenvalues>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <numbers>
#include <utility>
#include <string>
#include <limits>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Counting allocator for this test executable (only active inside a window). Eigen
// allocates its temporaries with std::malloc, not operator new, so malloc, calloc and
// realloc are interposed too (glibc's own entry points do the work); operator new goes
// through the counted malloc. Under AddressSanitizer, which owns malloc, only operator new
// is counted. GCC cannot see that the replaced new and delete pair up through malloc/free.
#if defined(__SANITIZE_ADDRESS__)
#define AMIMO_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AMIMO_COUNT_MALLOC 0
#endif
#endif
#ifndef AMIMO_COUNT_MALLOC
#define AMIMO_COUNT_MALLOC 1
#endif

#if AMIMO_COUNT_MALLOC
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* malloc(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
}
#endif

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
#if !AMIMO_COUNT_MALLOC
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
#endif
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace amimo::analog {
namespace {

analog_profile board(std::map<std::string, std::string> options = {}) {
  analog_profile p = load_analog_profile("feedback-board");
  apply_analog_options(p, options);
  return p;
}

TEST(AnalogAllocation, SolvesAfterTheFirstDoNotAllocate) {
  // The counter itself works.
  allocations = 0;
  counting = true;
  void* probe = ::operator new(64);
  counting = false;
  ::operator delete(probe);
  ASSERT_EQ(allocations.load(), 1);
#if AMIMO_COUNT_MALLOC
  // ... and sees Eigen's heap temporaries (std::malloc).
  allocations = 0;
  counting = true;
  {
    const rmat m = rmat::Ones(9, 9);
    const rmat sum = m + m * m;
    ASSERT_EQ(sum(0, 0), 10.0);
  }
  counting = false;
  ASSERT_GE(allocations.load(), 2);
#endif
  // Real 16×16 through BlockAMC (8×8 arrays) and a complex 4×4 through the embedding,
  // read noise on (the slow per-readout path is exercised too with a large noise).
  struct setup {
    const char* what;
    std::map<std::string, std::string> options;
    bool complex;
  };
  for (const setup& s : {setup{"real 16x16 BlockAMC", {}, false}, setup{"complex 4x4", {}, true},
                         setup{"real 16x16 BlockAMC, paper mapping", {{"mapping", "paper"}}, false},
                         setup{"noisy readout path", {{"read-noise", "0.05"}, {"iters", "2"}}, false}}) {
    auto backend = create_analog_backend(board(s.options), analog_mode::refine, 16, 1);
    rng gen(3);
    cmat a;
    if (s.complex) {
      cmat h(16, 4);
      gen.fill_complex_normal(h);
      a = h.adjoint() * h;
    } else {
      a = testing::spd_matrix(16, 2.0, gen).cast<cf64>();
    }
    cmat b(a.rows(), 4);
    gen.fill_complex_normal(b);
    if (!s.complex) b = b.real().cast<cf64>();
    cmat x(a.rows(), 4);
    ASSERT_TRUE(backend->set_matrix(a, solver::matrix_structure::hermitian).ok);
    ASSERT_TRUE(backend->solve(x, b).ok);  // warm-up
    allocations = 0;
    counting = true;
    for (int k = 0; k < 20; ++k) backend->solve(x, b);
    counting = false;
    EXPECT_EQ(allocations.load(), 0) << s.what;
  }
}

TEST(AnalogAllocation, ProgrammingAndSolvingAtBlockAmcSizesDoNotAllocate) {
  // A receiver reprograms the chip for every subcarrier: after the first matrix of a size,
  // neither set_matrix() nor solve() may allocate. Complex Gram matrices of 8×8 and 16×16
  // (real embeddings 16×16 and 32×32 on 8×8 arrays: one and two BlockAMC levels), a real
  // 24×24 (uneven split), and the noisy per-readout HP-MVM path.
  struct setup {
    const char* what;
    std::map<std::string, std::string> options;
    int n;
    bool complex;
    analog_mode mode;
  };
  for (const setup& s : {setup{"complex 16x16 Gram (32x32 real, 2 BlockAMC levels)", {}, 16, true, analog_mode::refine},
                         setup{"complex 8x8 Gram (16x16 real)", {}, 8, true, analog_mode::refine},
                         setup{"complex 8x8 Gram, paper mapping", {{"mapping", "paper"}}, 8, true, analog_mode::refine},
                         setup{"real 24x24 (uneven split)", {}, 24, false, analog_mode::refine},
                         setup{"complex 16x16 LP-only", {}, 16, true, analog_mode::lp_only},
                         setup{"noisy readout path 16x16 complex", {{"read-noise", "0.05"}, {"iters", "2"}}, 16, true,
                               analog_mode::refine}}) {
    auto backend = create_analog_backend(board(s.options), s.mode, 2 * s.n, 1);
    rng gen(8);
    const auto matrix = [&] {
      if (!s.complex) return cmat(testing::spd_matrix(s.n, 3.0, gen).cast<cf64>());
      cmat h(2 * s.n, s.n);
      gen.fill_complex_normal(h);
      cmat a = h.adjoint() * h;
      a.diagonal().array() += 0.1;
      return a;
    };
    std::vector<cmat> matrices;
    for (int k = 0; k < 6; ++k) matrices.push_back(matrix());
    cmat b(s.n, 2);
    gen.fill_complex_normal(b);
    if (!s.complex) b = b.real().cast<cf64>();
    cmat x(s.n, 2);
    // Warm-up: the first matrix of the size sizes every buffer.
    ASSERT_TRUE(backend->set_matrix(matrices[0], solver::matrix_structure::hermitian).ok) << s.what;
    ASSERT_TRUE(backend->solve(x, b).ok) << s.what;
    long programming = 0;
    long solving = 0;
    int analog_programmed = 0;
    for (std::size_t k = 1; k < matrices.size(); ++k) {
      allocations = 0;
      counting = true;
      const solver::matrix_status ms = backend->set_matrix(matrices[k], solver::matrix_structure::hermitian);
      counting = false;
      programming += allocations.load();
      ASSERT_TRUE(ms.ok) << s.what;
      if (backend->engine().last_programming().analog_usable) ++analog_programmed;
      allocations = 0;
      counting = true;
      const solver::solve_status st = backend->solve(x, b);
      counting = false;
      solving += allocations.load();
      ASSERT_TRUE(st.ok) << s.what;
    }
    // The matrices really went through the analog circuits (not the digital fallback). With
    // the paper mapping (A0 = D0/L) a Gram matrix whose rounded blocks leave the INV circuit
    // unusable is solved digitally (counted); most still program.
    const bool paper = s.options.count("mapping") != 0;
    if (paper) {
      EXPECT_GE(analog_programmed, 3) << s.what;
    } else {
      EXPECT_EQ(analog_programmed, 5) << s.what;
    }
    EXPECT_GT(backend->engine().last_solve().lp_inv_ops, 0U) << s.what;
    EXPECT_EQ(programming, 0) << s.what << ": allocations in set_matrix over 5 matrices";
    EXPECT_EQ(solving, 0) << s.what << ": allocations in solve over 5 matrices";
  }
}

TEST(AnalogCost, SolveCostIsTheClosedFormOfTheCounts) {
  const analog_profile p = board();
  const circuit_params& c = p.circuit;
  solve_activity a;
  a.inv_settle_weight = 3.0 / 0.5;  // three settles at λ_min = 0.5
  a.inv_opamp_weight = 8 * 3.0 / 0.5;
  a.inv_conductance_weight = 2e-4;
  a.hp_mvm_steps = 72;
  a.block_mvm_reads = 4;
  a.lp_inv_ops = 3;
  a.adc_steps = 1000.0 * 256.0;
  a.dac_steps = 24.0 * 2.0;
  a.read_conductance = 5e-3;
  a.tia_reads = 1536;
  a.digital_ops = 4000.0;
  const cost_breakdown cost = model_solve_cost(p, a);
  const double tau = std::log(std::ldexp(1.0, c.lp_adc_bits + 1)) / (2.0 * std::numbers::pi * c.opamp_gbw_hz);
  const double seconds = 6.0 * tau + 72.0 * (c.mvm_read_s + c.adc_conversion_s) + 4.0 * c.mvm_read_s +
                         3.0 * c.adc_conversion_s;
  const double v2 = c.read_voltage_v * c.read_voltage_v;
  const double joules = 256000.0 * c.adc_fom_j + 48.0 * c.dac_fom_j + v2 * (5e-3 * c.mvm_read_s + 2e-4 * tau) +
                        c.opamp_power_w * (48.0 * tau + 1536.0 * c.mvm_read_s) + 4000.0 * c.digital_j_per_op;
  EXPECT_NEAR(cost.seconds, seconds, 1e-12 * seconds);
  EXPECT_NEAR(cost.joules, joules, 1e-12 * joules);
  EXPECT_NEAR(cost.adc_j + cost.dac_j + cost.array_j + cost.opamp_j + cost.digital_j, cost.joules, 1e-15);

  programming_activity prog;
  prog.pulses = 12800;
  prog.gated_pulses = 14000;  // some write groups waited for a slow (stuck) device
  prog.max_pulses_per_device = 100.0;
  prog.digital_ops = 500.0;
  const programming_cost pc = model_programming_cost(p, prog);
  EXPECT_NEAR(pc.seconds, 14000.0 * p.device.pulse_s / p.device.parallel_devices, 1e-15);
  EXPECT_NEAR(pc.joules, 12800.0 * p.device.pulse_j + 500.0 * c.digital_j_per_op, 1e-18);
  EXPECT_DOUBLE_EQ(pc.endurance_fraction, 100.0 / p.device.endurance_cycles);
}

TEST(AnalogCost, ActivityFollowsTheAlgorithmsStructure) {
  // k iterations per right-hand side: k LP-INV evaluations, k HP-MVMs, each HP-MVM 24
  // bit-serial input chunks (24-bit input, 1-bit DAC); modelled time grows linearly in k.
  const int n = 8;
  rng gen(4);
  const rmat a = testing::spd_matrix(n, 2.0, gen);
  cmat b(n, 3);
  gen.fill_complex_normal(b);
  b = b.real().cast<cf64>();
  double previous_seconds = 0.0;
  for (int k : {1, 2, 4}) {
    auto backend = create_analog_backend(board({{"iters", std::to_string(k)}}), analog_mode::refine, n, 1);
    cmat x(n, 3);
    backend->set_matrix(a.cast<cf64>(), solver::matrix_structure::hermitian);
    const auto status = backend->solve(x, b);
    const solve_activity& act = backend->engine().last_solve();
    EXPECT_EQ(act.lp_inv_ops, 3U * k);
    EXPECT_EQ(act.hp_mvm_ops, 3U * k);
    EXPECT_EQ(act.hp_mvm_steps, 3U * k * 24U);
    EXPECT_EQ(act.inv_settles, 3U * k);  // one 8×8 array: no BlockAMC
    // DAC steps, 2^bits per conversion with the sign among the bits: per HP-MVM, n inputs ×
    // 24 signed 1-bit chunks (sign + 1 bit: 2^2); per LP-INV evaluation, n lp_dac_bits
    // conversions.
    const analog_profile p = board();
    const double mvm_dac = n * 24.0 * std::ldexp(1.0, p.circuit.mvm_dac_bits + 1);
    const double lp_dac = n * std::ldexp(1.0, p.circuit.lp_dac_bits);
    EXPECT_DOUBLE_EQ(act.dac_steps, 3.0 * k * (mvm_dac + lp_dac));
    EXPECT_GT(status.modelled_seconds, previous_seconds);
    previous_seconds = status.modelled_seconds;
    const programming_activity& prog = backend->engine().last_programming();
    // 8 HP-MVM slices + 1 LP-INV array, two devices per cell.
    EXPECT_EQ(prog.arrays, 9U);
    EXPECT_EQ(prog.devices, 9U * 2U * n * n);
  }
}

// BlockAMC: a 9×9 (and 16×16) real matrix on 8×8 arrays is 2×2 HP-MVM tiles per slice (32)
// and, for LP-INV, A1, the coupling arrays A2 and A3, and S: 36 arrays. The split itself is
// no array (it was counted as a 37th).
TEST(AnalogCost, BlockAmcCountsEveryPhysicalArrayOnce) {
  rng gen(6);
  for (int n : {9, 16}) {
    const rmat a = testing::spd_matrix(n, 2.0, gen);
    auto backend = create_analog_backend(board({}), analog_mode::refine, n, 1);
    ASSERT_TRUE(backend->set_matrix(a.cast<cf64>(), solver::matrix_structure::hermitian).ok);
    const programming_activity& prog = backend->engine().last_programming();
    ASSERT_TRUE(prog.analog_usable) << n;
    EXPECT_EQ(prog.arrays, 8U * 4U + 4U) << n;
    const auto n2 = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(n);
    const std::uint64_t lp_cells = 8U * 8U + 2U * 8U * static_cast<std::uint64_t>(n - 8) +
                                   static_cast<std::uint64_t>(n - 8) * static_cast<std::uint64_t>(n - 8);
    EXPECT_EQ(prog.devices, 2U * (8U * n2 + lp_cells)) << n;
  }
}

// A coupling block larger than one array occupies several: at 24×24 (three 8×8 blocks a
// side) BlockAMC splits 16 + 8, A1 = 16×16 splits again, and A2 (16×8), A3 (8×16) take two
// arrays each. Counted from the devices: every array holds 8×8 cells of two devices, and a
// block with fewer rows/columns than a whole number of arrays still occupies the arrays it
// touches, so the count is the sum over blocks of ⌈rows/8⌉·⌈cols/8⌉. LP-INV at n = 24: A1
// (16×16, itself split into four 8×8 arrays) + A2 (16×8) 2 + A3 2 + S (8×8) 1 = 9; at n = 32:
// A1 4 + A2 (16×16) 4 + A3 4 + S (16×16) 4 = 16. HP-MVM adds 8 slices × (n/8)² tiles.
TEST(AnalogCost, BlockAmcCountsArraysOfLargeCouplingBlocks) {
  rng gen(7);
  for (const auto& [n, lp_arrays] : {std::pair{24, 9}, std::pair{32, 16}}) {
    const rmat a = testing::spd_matrix(n, 2.0, gen);
    auto backend = create_analog_backend(board({}), analog_mode::refine, n, 1);
    ASSERT_TRUE(backend->set_matrix(a.cast<cf64>(), solver::matrix_structure::hermitian).ok);
    const programming_activity& prog = backend->engine().last_programming();
    ASSERT_TRUE(prog.analog_usable) << n;
    const auto tiles = static_cast<std::uint64_t>((n / 8) * (n / 8));
    EXPECT_EQ(prog.arrays, 8U * tiles + static_cast<std::uint64_t>(lp_arrays)) << n;
    // Every LP-INV cell is on one of those arrays: devices ≤ 128 per array, and the tree's
    // blocks exactly fill them at these sizes.
    EXPECT_EQ(prog.devices, 128U * prog.arrays) << n;
  }
}

// Write-verify programs parallel_devices devices at once and a group lasts as long as its
// slowest device: a stuck device burns max_pulses and holds its whole group. With one device
// per group the time counts every pulse once; with 8 per group and 2% stuck devices about
// 15% of the groups hold a stuck device (1 − 0.98^8), each lasting max_pulses = 10× the
// verified devices' pulses, so the gated count is far above the pulse count.
TEST(AnalogCost, ProgrammingTimeWaitsForEachGroupsSlowestDevice) {
  const int n = 8;
  rng gen(8);
  const rmat a = testing::spd_matrix(n, 2.0, gen);
  const auto programmed = [&](int parallel, double stuck) {
    analog_profile p = load_analog_profile("ideal");
    p.device.parallel_devices = parallel;
    p.device.stuck_off = stuck;
    p.refinement.faults = fault_policy::correct;
    auto backend = create_analog_backend(p, analog_mode::refine, n, 11);
    backend->set_matrix(a.cast<cf64>(), solver::matrix_structure::hermitian);
    return std::pair{backend->engine().last_programming(), backend->last_programming_cost()};
  };
  const auto [single, single_cost] = programmed(1, 0.02);
  ASSERT_GT(single.unverified_cells, 0U);
  EXPECT_EQ(single.gated_pulses, single.pulses);
  const auto [grouped, grouped_cost] = programmed(8, 0.02);
  EXPECT_EQ(grouped.pulses, single.pulses);  // the same chip: the same devices stuck
  EXPECT_GT(static_cast<double>(grouped.gated_pulses), 1.5 * static_cast<double>(grouped.pulses));
  const analog_profile ideal = load_analog_profile("ideal");
  EXPECT_DOUBLE_EQ(grouped_cost.seconds, static_cast<double>(grouped.gated_pulses) * ideal.device.pulse_s / 8.0);
  // No stuck device: every device takes mean_pulses and the grouping costs nothing extra.
  const auto [clean, clean_cost] = programmed(8, 0.0);
  EXPECT_EQ(clean.gated_pulses, clean.pulses);
  EXPECT_EQ(clean.pulses, clean.devices * 10U);
}

// The INV circuit with single-pole op-amps, from its nodal equations: op-amp i's inverting
// node collects G_in from the input r_i, every cell of its row (G+ from output v_j, G− from
// the inverted −v_j) and nothing else (paper mapping: no feedback element), so its voltage
// is u_i = (Σ_j (G+_ij − G−_ij) v_j + G_in r_i) / (G_in + Σ_j (G+_ij + G−_ij)) and the
// output obeys dv_i/dt = −ω_t u_i (gain-bandwidth ω_t = 2π·GBW, infinite DC gain). The
// error ‖v − v∞‖ decays at the slowest rate of that system; the λ_min the cost model's
// settle time uses must be that rate over ω_t (the circuit matrix without the nodes'
// loading gave a rate 3–4× too fast here).
TEST(AnalogCost, SettleTimeFollowsTheLoadedCircuitsDecayRate) {
  analog_profile p = load_analog_profile("ideal");
  p.circuit.lp_mapping = "paper";
  const int n = 8;
  const int levels = 1 << p.device.bits;
  const double l = levels;
  // Digits −2…2 off the diagonal, 7 on it: symmetric and diagonally dominant, so every
  // eigenvalue is real and positive.
  rng gen(12);
  rmat digits = rmat::Zero(n, n);
  for (int j = 0; j < n; ++j) {
    digits(j, j) = 7.0;
    for (int i = 0; i < j; ++i) {
      const double d = std::floor(gen.uniform() * 5.0) - 2.0;
      digits(i, j) = d;
      digits(j, i) = d;
    }
  }
  const rmat target = digits / l;  // exactly representable: the array holds these digits
  const device_model devices(p.device, 1);
  lp_inv inv(p, devices);
  normal_stream noise(1);
  programming_activity activity;
  ASSERT_TRUE(inv.program(target, noise, activity));
  ASSERT_TRUE(inv.nominal().isApprox(target, 0.0));

  const double g_min = p.device.g_min_us * 1e-6;
  const double dg = (p.device.g_max_us - p.device.g_min_us) * 1e-6 / (l - 1.0);
  const double g_in = l * dg;
  rmat g_diff(n, n);
  rvec load(n);
  for (int i = 0; i < n; ++i) {
    load(i) = g_in;
    for (int j = 0; j < n; ++j) {
      const double gp = g_min + std::max(digits(i, j), 0.0) * dg;
      const double gm = g_min + std::max(-digits(i, j), 0.0) * dg;
      g_diff(i, j) = gp - gm;
      load(i) += gp + gm;
    }
  }
  const double omega = 2.0 * std::numbers::pi * p.circuit.opamp_gbw_hz;
  rvec r(n);
  for (int i = 0; i < n; ++i) r(i) = gen.uniform() - 0.5;
  const auto derivative = [&](const rvec& v) -> rvec {
    const rvec u = (g_diff * v + g_in * r).cwiseQuotient(load);
    return -omega * u;
  };
  const rvec v_final = -(g_diff / g_in).partialPivLu().solve(r);
  // RK4 in steps far below the fastest time constant (1/ω_t at most), then the decay rate
  // between two late times, where the slowest mode dominates.
  const double dt = 0.01 / omega;
  rvec v = rvec::Zero(n);
  double t = 0.0;
  double t1 = 0.0;
  double e1 = 0.0;
  double e2 = 0.0;
  for (int step = 0; step < 40000; ++step) {
    const rvec k1 = derivative(v);
    const rvec k2 = derivative(v + 0.5 * dt * k1);
    const rvec k3 = derivative(v + 0.5 * dt * k2);
    const rvec k4 = derivative(v + dt * k3);
    v += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    t += dt;
    if (step == 20000) {
      t1 = t;
      e1 = (v - v_final).norm();
    }
  }
  e2 = (v - v_final).norm();
  ASSERT_GT(e2, 0.0);
  ASSERT_LT(e2, 1e-3 * e1);  // well into the slowest mode, above rounding
  const double rate = std::log(e1 / e2) / (t - t1) / omega;
  EXPECT_NEAR(inv.lambda_min(), rate, 0.01 * rate);
  // The unloaded circuit matrix (what the settle time used) decays much faster.
  const double unloaded = Eigen::SelfAdjointEigenSolver<rmat>(target).eigenvalues().minCoeff();
  EXPECT_GT(unloaded, 2.0 * rate);
}

// Every figure the cost model multiplies must be finite: a YAML .inf in a pulse energy, a
// figure of merit, a power or an endurance gave Inf (or NaN where the count was 0) as a
// modelled cost. Only the op-amp gain may be infinite (an ideal op-amp).
TEST(AnalogCost, ProfilesWithInfiniteCostFiguresAreRefused) {
  const analog_profile base = load_analog_profile("feedback-board");
  EXPECT_NO_THROW(validate(base));
  const auto refused = [&](const char* what, auto mutate) {
    analog_profile p = base;
    mutate(p);
    EXPECT_THROW(validate(p), config_error) << what;
  };
  const double inf = std::numeric_limits<double>::infinity();
  refused("pulse_s", [&](analog_profile& p) { p.device.pulse_s = inf; });
  refused("pulse_j", [&](analog_profile& p) { p.device.pulse_j = inf; });
  refused("endurance_cycles", [&](analog_profile& p) { p.device.endurance_cycles = inf; });
  refused("opamp_power_w", [&](analog_profile& p) { p.circuit.opamp_power_w = inf; });
  refused("adc_fom_j", [&](analog_profile& p) { p.circuit.adc_fom_j = inf; });
  refused("dac_fom_j", [&](analog_profile& p) { p.circuit.dac_fom_j = inf; });
  refused("digital_j_per_op", [&](analog_profile& p) { p.circuit.digital_j_per_op = inf; });
  refused("mean_pulses", [&](analog_profile& p) { p.device.mean_pulses = inf; });
  // drift_t0 = ∞ switched drift off without a word; a fractional mean_pulses was rounded for
  // the pulse count but not for the endurance.
  refused("drift_t0_s", [&](analog_profile& p) { p.device.drift_t0_s = inf; });
  refused("mean_pulses 1.4", [&](analog_profile& p) { p.device.mean_pulses = 1.4; });
  analog_profile ideal_opamp = base;
  ideal_opamp.circuit.opamp_gain = inf;
  EXPECT_NO_THROW(validate(ideal_opamp));
  // The same through the YAML a user writes (the finite value parses).
  const std::string yaml = "name: x\ncircuit:\n  opamp_power_w: {value: VALUE, source: test}\n";
  const auto with = [&](const std::string& v) { return std::string(yaml).replace(yaml.find("VALUE"), 5, v); };
  EXPECT_EQ(parse_analog_profile(with("0.002"), "inline").circuit.opamp_power_w, 0.002);
  EXPECT_THROW(parse_analog_profile(with(".inf"), "inline"), config_error);
}

}  // namespace
}  // namespace amimo::analog
