// Solver offload over loopback against in-process (issue 5 target: batched remote path
// ≥ 50% of in-process throughput). 16×16 complex Hermitian systems, one matrix and one
// right-hand side per solve, batches of 1, 16 and 256 solves per message, digital-f64 on
// both sides, a 2-worker amimo-solverd engine on tcp://127.0.0.1 in this process. Reports
// solves/s and the mean round-trip latency per batch (measured wall time).
#include <amimo/core/rng.h>
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
  workload() {
    rng gen(3);
    for (int k = 0; k < 256; ++k) {
      cmat h(2 * kSize, kSize);
      gen.fill_complex_normal(h);
      a.push_back(h.adjoint() * h);
      cmat v(kSize, 1);
      gen.fill_complex_normal(v);
      b.push_back(v);
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

BENCHMARK(BM_InProcess)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_Remote)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
