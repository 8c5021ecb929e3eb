// Simulated HP-INV throughput (issue 15 target: ≥ 250,000 solves/s on one core for a 16×16
// real system, feedback-board (formerly paper-board), 3 iterations, matrix re-programmed every 100 right-hand sides;
// issue 3 asked for 100,000), with a digital-f64 LU solve of the same systems in the same
// run as the baseline ratio. solves_per_s is measured, per CPU second of this thread.
// The per-matrix code before the allocation-free rewrite is the reference: build it from
// commit 74b91a9 and run both binaries back to back (README, Benchmarks).
#include <amimo/analog/cost_model.h>
#include <amimo/core/rng.h>
#include <amimo/solver/solver_factory.h>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using namespace amimo;

constexpr int kSize = 16;
constexpr int kRhsPerMatrix = 100;

struct workload {
  std::vector<cmat> matrices;
  std::vector<cmat> rhs;
  workload() {
    rng gen(1);
    for (int m = 0; m < 8; ++m) {
      rmat g(kSize, kSize);
      for (int j = 0; j < kSize; ++j) {
        for (int i = 0; i < kSize; ++i) g(i, j) = gen.normal();
      }
      const rmat a = rmat::Identity(kSize, kSize) + 0.5 * (g + g.transpose()) / (2.0 * std::sqrt(2.0 * kSize) * 4.0);
      matrices.push_back(a.cast<cf64>());
      cmat b(kSize, kRhsPerMatrix);
      for (int j = 0; j < kRhsPerMatrix; ++j) {
        for (int i = 0; i < kSize; ++i) b(i, j) = cf64(gen.normal(), 0.0);
      }
      rhs.push_back(b);
    }
  }
};

const workload& data() {
  static const workload w;
  return w;
}

void run(benchmark::State& state, solver::linear_solver& s) {
  const workload& w = data();
  cmat x(kSize, 1);
  std::size_t m = 0;
  std::int64_t solves = 0;
  for (auto _ : state) {
    s.set_matrix(w.matrices[m], solver::matrix_structure::hermitian);
    for (int j = 0; j < kRhsPerMatrix; ++j) {
      s.solve(x, w.rhs[m].col(j));
      benchmark::DoNotOptimize(x.data());
    }
    solves += kRhsPerMatrix;
    m = (m + 1) % w.matrices.size();
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(solves), benchmark::Counter::kIsRate);
}

void BM_AnalogHpInv(benchmark::State& state, const char* profile) {
  analog::analog_profile p = analog::load_analog_profile(profile);
  analog::apply_analog_options(p, {{"iters", "3"}});
  auto backend = analog::create_analog_backend(p, analog::analog_mode::refine, kSize, 1);
  backend->reseed(2);
  run(state, *backend);
}

void BM_DigitalF64(benchmark::State& state) {
  auto backend = solver::create_linear_solver({"digital-f64", {}}, kSize, 1);
  run(state, *backend);
}

// feedback_board is the profile earlier revisions called paper-board (the feedback LP-INV
// mapping); paper_board now models the paper's A0 = D0/L.
BENCHMARK_CAPTURE(BM_AnalogHpInv, feedback_board, "feedback-board");
BENCHMARK_CAPTURE(BM_AnalogHpInv, paper_board, "paper-board");
BENCHMARK_CAPTURE(BM_AnalogHpInv, ideal, "ideal");
BENCHMARK(BM_DigitalF64);

}  // namespace

BENCHMARK_MAIN();
