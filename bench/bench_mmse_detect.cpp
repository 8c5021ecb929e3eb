// 64×16 per-subcarrier MMSE detection (Gram, solve, equalise): amimo's detector through
// the solver interface against an Agora-style baseline, Armadillo's
// inv_sympd(HᴴH + σ²I) * Hᴴ per subcarrier, in the same run. Prints the throughput ratio.
// Target (issue 2): amimo ≥ 2× the baseline. Measured figures, wall time on this machine.
// The BLAS under Armadillo is found at run time and printed; OpenBLAS runs on one thread.

#include <amimo/core/rng.h>
#include <amimo/detect/batch_detector.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/solver/solver_factory.h>

#include <armadillo>
#include <benchmark/benchmark.h>

#include "blas_runtime.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kAntennas = 64;
constexpr int kUsers = 16;
constexpr int kSubcarriers = 300;  // a 5 MHz carrier's used subcarriers
constexpr double kNoise = 0.05;

struct scenario {
  std::vector<amimo::cmat> h;
  std::vector<amimo::cmat> y;
  std::vector<arma::cx_fmat> h_arma;
  std::vector<arma::cx_fmat> y_arma;
  std::vector<amimo::cf64> h_flat;  // every subcarrier's H, column-major, one after another
  std::vector<amimo::cf32> y_flat;  // every subcarrier's y (f32, as samples arrive)
};

const scenario& shared_scenario(int vectors) {
  static std::map<int, scenario> cache;
  auto [it, inserted] = cache.try_emplace(vectors);
  if (inserted) {
    amimo::rng gen(1);
    for (int sc = 0; sc < kSubcarriers; ++sc) {
      amimo::cmat h(kAntennas, kUsers), y(kAntennas, vectors);
      gen.fill_complex_normal(h);
      gen.fill_complex_normal(y);
      arma::cx_fmat ha(kAntennas, kUsers), ya(kAntennas, vectors);
      for (int r = 0; r < kAntennas; ++r) {
        for (int c = 0; c < kUsers; ++c) ha(r, c) = std::complex<float>(h(r, c));
        for (int c = 0; c < vectors; ++c) ya(r, c) = std::complex<float>(y(r, c));
      }
      it->second.h_flat.insert(it->second.h_flat.end(), h.data(), h.data() + h.size());
      for (Eigen::Index i = 0; i < y.size(); ++i) it->second.y_flat.emplace_back(y.data()[i]);
      it->second.h.push_back(h);
      it->second.y.push_back(y);
      it->second.h_arma.push_back(ha);
      it->second.y_arma.push_back(ya);
    }
  }
  return it->second;
}

// Agora's zero-forcing/MMSE path: W = inv_sympd(HᴴH + σ²I) Hᴴ, then ŝ = W y.
void BM_AgoraArmadillo(benchmark::State& state) {
  const int vectors = static_cast<int>(state.range(0));
  const scenario& s = shared_scenario(vectors);
  arma::cx_fmat w, out;
  const arma::cx_fmat reg = static_cast<float>(kNoise) * arma::eye<arma::cx_fmat>(kUsers, kUsers);
  for (auto _ : state) {
    for (int sc = 0; sc < kSubcarriers; ++sc) {
      const arma::cx_fmat& h = s.h_arma[static_cast<std::size_t>(sc)];
      w = arma::inv_sympd(h.t() * h + reg) * h.t();
      out = w * s.y_arma[static_cast<std::size_t>(sc)];
      benchmark::DoNotOptimize(out.memptr());
    }
  }
  state.SetItemsProcessed(state.iterations() * kSubcarriers);
  state.counters["subcarriers/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kSubcarriers),
                                                       benchmark::Counter::kIsRate);
}

void BM_AmimoMmse(benchmark::State& state, const std::string& solver_name, amimo::detect::detection_mode mode) {
  const int vectors = static_cast<int>(state.range(0));
  const scenario& s = shared_scenario(vectors);
  auto solver = amimo::solver::create_linear_solver({solver_name, {}}, kUsers, 1);
  amimo::detect::linear_detector detector(amimo::detect::detector_kind::mmse, mode, *solver, kAntennas, kUsers,
                                          vectors);
  amimo::cmat s_hat(kUsers, vectors);
  for (auto _ : state) {
    for (int sc = 0; sc < kSubcarriers; ++sc) {
      detector.set_channel(s.h[static_cast<std::size_t>(sc)], kNoise);
      detector.detect(s_hat, s.y[static_cast<std::size_t>(sc)]);
      benchmark::DoNotOptimize(s_hat.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kSubcarriers);
  state.counters["subcarriers/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kSubcarriers),
                                                       benchmark::Counter::kIsRate);
}

// The batched path (issue 15): batch_detector on the digital-f32 batch backend, all 300
// subcarriers in one call (compact FP32 groups of 8 subcarriers).
void BM_AmimoBatch(benchmark::State& state) {
  const int vectors = static_cast<int>(state.range(0));
  const scenario& s = shared_scenario(vectors);
  auto solver = amimo::solver::create_batch_solver({"digital-f32", {}}, kUsers, 1);
  amimo::detect::batch_detector detector(amimo::detect::detector_kind::mmse, amimo::detect::detection_mode::per_block,
                                         *solver, kAntennas, kUsers, vectors, kSubcarriers);
  std::vector<amimo::cf64> s_hat(static_cast<std::size_t>(kSubcarriers * kUsers * vectors));
  for (auto _ : state) {
    detector.detect(amimo::solver::column_major_batch(s_hat.data(), kSubcarriers, kUsers, vectors),
                    amimo::solver::column_major_batch(s.h_flat.data(), kSubcarriers, kAntennas, kUsers),
                    amimo::solver::column_major_batch(s.y_flat.data(), kSubcarriers, kAntennas, vectors), kNoise);
    benchmark::DoNotOptimize(s_hat.data());
  }
  state.SetItemsProcessed(state.iterations() * kSubcarriers);
  state.counters["subcarriers/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kSubcarriers),
                                                       benchmark::Counter::kIsRate);
}

// Collects items/s per benchmark to print ratios against the baseline at the end.
class ratio_reporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      // CPU time of the benchmark thread (everything here runs on it, OpenBLAS set to one
      // thread): on a shared machine it is the time the work really ran.
      if (run.cpu_accumulated_time > 0.0) {
        rates_[run.benchmark_name()] =
            static_cast<double>(run.iterations) * kSubcarriers / run.cpu_accumulated_time;
      }
    }
  }
  void print_ratios() const {
    std::printf("\n# Throughput ratio against the Agora-style Armadillo baseline (measured, same run, CPU time of the "
                "benchmark thread)\n");
    for (const auto& [name, rate] : rates_) {
      if (name.rfind("BM_AgoraArmadillo", 0) == 0) continue;
      const std::string args = name.substr(name.rfind('/'));
      const auto base = rates_.find("BM_AgoraArmadillo" + args);
      if (base == rates_.end() || base->second <= 0.0) continue;
      std::printf("#   %-48s %8.0f subcarriers/s  = %5.2fx baseline (target >= 2x)\n", name.c_str(), rate,
                  rate / base->second);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

BENCHMARK(BM_AgoraArmadillo)->Arg(1)->Arg(14)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AmimoMmse, f32_per_vector, std::string("digital-f32"), amimo::detect::detection_mode::per_vector)
    ->Arg(1)->Arg(14)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AmimoMmse, f64_per_vector, std::string("digital-f64"), amimo::detect::detection_mode::per_vector)
    ->Arg(1)->Arg(14)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AmimoMmse, f32_per_block, std::string("digital-f32"), amimo::detect::detection_mode::per_block)
    ->Arg(1)->Arg(14)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AmimoBatch)->Arg(1)->Arg(14)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const amimo::bench::blas_runtime blas = amimo::bench::detect_blas_and_use_one_thread();
  std::printf("# BLAS linked by Armadillo: %s\n#   %s\n", blas.library.c_str(), blas.description.c_str());
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
