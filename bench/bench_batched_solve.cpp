// Batched digital solves of the workload amimo-report measures (lib/amimo/perf): real n×n
// SPD systems (cond <= 10), 8 matrices, 100 right-hand sides per matrix; one iteration is
// one block (set_matrix + solve of all 100 right-hand sides), on one thread. The
// solves_per_s counter is what `amimo-report compare --threads 1` prints as the measured
// CPU throughput of the same backend and size (checked by bench/check_report_vs_bench.sh).
#include <amimo/core/rng.h>
#include <amimo/perf/workload.h>
#include <amimo/solver/solver_factory.h>

#include <benchmark/benchmark.h>

#include <map>
#include <memory>

namespace {

using namespace amimo;

constexpr int kMatrices = 8;
constexpr int kRhsPerMatrix = 100;

/// The systems amimo-report draws for its first workload with seed 1 (derive_seed(1, {0})).
const perf::system_set& systems(int n) {
  static std::map<int, perf::system_set> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    it =
        cache
            .emplace(n, perf::make_systems(perf::real_workload(n), kMatrices, kRhsPerMatrix, 10.0, derive_seed(1, {0})))
            .first;
  }
  return it->second;
}

void BM_BatchedSolve(benchmark::State& state, const char* backend) {
  const int n = static_cast<int>(state.range(0));
  const perf::system_set& set = systems(n);
  auto solver = solver::create_linear_solver({backend, {}}, n, 1);
  cmat x(n, kRhsPerMatrix);
  std::size_t k = 0;
  std::int64_t solves = 0;
  for (auto _ : state) {
    solver->set_matrix(set.matrices[k], set.structure);
    solver->solve(x, set.rhs[k]);
    benchmark::DoNotOptimize(x.data());
    solves += kRhsPerMatrix;
    k = (k + 1) % set.matrices.size();
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(solves), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_BatchedSolve, digital_f64, "digital-f64")->RangeMultiplier(2)->Range(8, 256)->UseRealTime();
BENCHMARK_CAPTURE(BM_BatchedSolve, digital_f32, "digital-f32")->RangeMultiplier(2)->Range(8, 256)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
