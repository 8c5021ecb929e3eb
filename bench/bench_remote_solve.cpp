// Solver offload over loopback against in-process (issue 15 target: remote at batch 256
// ≥ 50% of in-process at the same batch). 16×16 complex Hermitian systems, one matrix and
// one right-hand side per solve, digital-f64 on both sides, a 2-worker amimo-solverd
// engine on tcp://127.0.0.1 in this process. Reports solves/s (measured wall time):
//   BM_InProcess        per-matrix backend, set_matrix + solve per system
//   BM_InProcessBatch   the batch backend (compact kernels), one call per batch
//   BM_Remote           per-system items (set_matrix + solve), two sessions pipelined
//   BM_RemoteBatch      remote_batch_solver: solve_batch requests of 64 systems, 4 in
//                       flight, one call per batch (what the receiver's remote chain does);
//                       arg 2 = element (0 cf64, 1 cf32)
// The ratio the target names is BM_RemoteBatch/256 over BM_InProcessBatch/256 (and over
// BM_InProcess/256), both printed by this run.
#include <amimo/core/rng.h>
#include <amimo/remote/remote_batch_solver.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/solver_service.h>
#include <amimo/solver/solver_factory.h>

#include <benchmark/benchmark.h>

#include <thread>

namespace {

using namespace amimo;
constexpr int kSize = 16;

struct workload {
  std::vector<cmat> a;
  std::vector<cmat> b;
  std::vector<cf64> a_flat;  // the same systems packed column-major for the batch calls
  std::vector<cf64> b_flat;
  workload() {
    rng gen(3);
    for (int k = 0; k < 256; ++k) {
      cmat h(2 * kSize, kSize);
      gen.fill_complex_normal(h);
      a.push_back(h.adjoint() * h);
      cmat v(kSize, 1);
      gen.fill_complex_normal(v);
      b.push_back(v);
      a_flat.insert(a_flat.end(), a.back().data(), a.back().data() + a.back().size());
      b_flat.insert(b_flat.end(), v.data(), v.data() + v.size());
    }
  }
};

const workload& data() {
  static const workload w;
  return w;
}

void BM_InProcess(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto solver = solver::create_linear_solver({"digital-f64", {}}, kSize, 1);
  cmat x(kSize, 1);
  for (auto _ : state) {
    for (std::size_t k = 0; k < batch; ++k) {
      solver->set_matrix(data().a[k], solver::matrix_structure::hermitian);
      solver->solve(x, data().b[k]);
      benchmark::DoNotOptimize(x.data());
    }
  }
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Remote(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  remote::service_options options;
  options.workers = 2;
  remote::solver_service service(options);
  std::thread server([&] { service.run(); });
  {
    remote::client_options client_options;
    client_options.endpoint = service.endpoint();
    remote::remote_client client(client_options);
    // Two sessions pipelined so both workers are busy: several batches in flight.
    remote::request r[2];
    for (int s = 0; s < 2; ++s) {
      r[s].session = static_cast<std::uint64_t>(s) + 1;
      r[s].max_size = kSize;
      r[s].spec = {"digital-f64", {}};
      for (std::size_t k = 0; k < batch; ++k) {
        r[s].items.push_back({remote::item_op::set_matrix, solver::matrix_structure::hermitian, 0, data().a[k]});
        r[s].items.push_back({remote::item_op::solve, solver::matrix_structure::hermitian, 0, data().b[k]});
      }
    }
    std::uint64_t id = 0;
    std::size_t failures = 0;
    for (auto _ : state) {
      ++id;
      for (auto& req : r) {
        req.id = id;
        client.send(req);
      }
      for (int s = 0; s < 2; ++s) {
        const auto reply = client.receive(std::chrono::milliseconds(10'000));
        if (!reply || !std::holds_alternative<remote::reply>(*reply)) ++failures;
      }
    }
    if (failures > 0) state.SkipWithError("lost replies");
    state.counters["solves_per_s"] =
        benchmark::Counter(static_cast<double>(2 * batch), benchmark::Counter::kIsIterationInvariantRate);
  }
  service.stop();
  server.join();
}

// One batch call per iteration through a batch backend.
void run_batch(benchmark::State& state, solver::batch_solver& solver, int batch) {
  std::vector<cf64> x(static_cast<std::size_t>(batch * kSize));
  std::vector<solver::batch_status> status(static_cast<std::size_t>(batch));
  solver.reserve(1);
  std::size_t failures = 0;
  for (auto _ : state) {
    solver.solve(status, solver::column_major_batch(x.data(), batch, kSize, 1),
                 solver::column_major_batch(static_cast<const cf64*>(data().a_flat.data()), batch, kSize, kSize),
                 solver::column_major_batch(static_cast<const cf64*>(data().b_flat.data()), batch, kSize, 1),
                 solver::matrix_structure::hermitian);
    benchmark::DoNotOptimize(x.data());
    for (const auto& st : status) failures += st.solve.ok && !st.solve.fallback ? 0 : 1;
  }
  if (failures > 0) state.SkipWithError("failed or fallback solves");
  state.counters["solves_per_s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_InProcessBatch(benchmark::State& state) {
  auto solver = solver::create_batch_solver({"digital-f64", {}}, kSize, 1);
  run_batch(state, *solver, static_cast<int>(state.range(0)));
}

void BM_RemoteBatch(benchmark::State& state) {
  remote::service_options options;
  options.workers = 2;
  remote::solver_service service(options);
  std::thread server([&] { service.run(); });
  {
    const bool f32 = state.range(1) != 0;
    auto solver = solver::create_batch_solver(
        {"remote", {{"endpoint", service.endpoint()}, {"element", f32 ? "cf32" : "cf64"}, {"on-failure", "error"}}}, kSize,
        1);
    run_batch(state, *solver, static_cast<int>(state.range(0)));
  }
  service.stop();
  server.join();
}

BENCHMARK(BM_InProcess)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_InProcessBatch)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_Remote)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_RemoteBatch)->Args({16, 0})->Args({256, 0})->Args({256, 1})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
