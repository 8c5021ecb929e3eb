// The batched detection kernel (per-block MMSE over one subcarrier block, factored since
// T + K ≤ N: Gram R = HᴴH, HᴴY, Cholesky of A = R + σ²I, one solve A [Ŝ | A⁻¹] = [HᴴY | I],
// stream quality from G = A⁻¹R (off-diagonal −σ²A⁻¹, diagonal Σ_j (A⁻¹)_kj R_jk) and
// ‖w_k‖² = (G A⁻¹)_kk, unbiasing; FP32
// compact SIMD lanes across subcarriers) against, in the same run and on one core:
//   - the machine's FP32 FMA peak, measured here with independent FMA chains;
//   - the Agora-style Armadillo baseline, inv_sympd(HᴴH + σ²I)·Hᴴ then W·y per subcarrier,
//     with the BLAS library Armadillo resolved to in this process found at run time and
//     printed (OpenBLAS set to one thread: a per-core comparison);
//   - today's per-matrix path (linear_detector + digital-f32).
// Targets (issue 15): kernel ≥ 40% of the measured FMA peak; ≥ 4× the baseline.
// All figures measured (CPU time of the one measuring thread, CLOCK_THREAD_CPUTIME_ID:
// robust to other processes on a shared machine); FLOP counts modelled from the algorithm.
// The kernels (and the FMA peak loop) run on the SIMD target chosen at run time
// (solver/simd_target.h); the target is printed, and a second argument forces one.
// Usage: bench_batch_detect [seconds per measurement, default 0.3] [SIMD target: AVX3, AVX2, EMU128]

#ifndef BENCH_BATCH_DETECT_ONCE_
#define BENCH_BATCH_DETECT_ONCE_
#include <amimo/core/rng.h>
#include <amimo/detect/batch_detector.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/solver/simd_target.h>
#include <amimo/core/error.h>
#include <amimo/solver/solver_factory.h>

#include <armadillo>

#include "blas_runtime.h"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#endif  // BENCH_BATCH_DETECT_ONCE_

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bench_batch_detect.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <amimo/solver/simd_lanes.h>

HWY_BEFORE_NAMESPACE();
namespace bench_fma::HWY_NAMESPACE {

// 10 independent chains of FMAs on this target's f32 lanes, `steps` each; returns a value
// depending on every chain (so nothing is optimised away).
float fma_chains(long steps) {
  using V = amimo::simd::HWY_NAMESPACE::lanes<float>;
  constexpr int kChains = 10;
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = V::broadcast(static_cast<float>(c) * 1e-3F);
  const V m = V::broadcast(0.999999F), a = V::broadcast(1e-7F);
  for (long s = 0; s < steps; ++s) {
    for (int c = 0; c < kChains; ++c) acc[c] = fma(acc[c], m, a);
  }
  alignas(64) float out[V::size];
  V total = V::zero();
  for (int c = 0; c < kChains; ++c) total = total + acc[c];
  total.store(out);
  return out[0];
}

}  // namespace bench_fma::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <amimo/solver/simd_dispatch.h>

namespace {

using namespace amimo;

// CPU time of the calling thread (every measurement here runs on this one thread,
// OpenBLAS included): on a shared machine it counts the time this thread really ran,
// where wall time would also count the time other processes held the core.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Runs body repeatedly for about `seconds` of this thread's CPU time; returns calls per
// CPU second.
template <typename F>
double rate(double seconds, F&& body) {
  body();  // warm-up
  long calls = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0.0;
  do {
    body();
    ++calls;
    elapsed = thread_cpu_seconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(calls) / elapsed;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double lowest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double highest(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// FP32 FMA peak of one core on the current SIMD target: 10 independent chains of FMAs on
// its f32 lanes (enough to cover the FMA latency × throughput of current x86 cores), 2 FLOP
// per lane per FMA.
double fma_peak_gflops(double seconds) {
  constexpr int kChains = 10;
  constexpr long kSteps = 1 << 20;
  using namespace bench_fma;
  const auto chains = AMIMO_SIMD_DISPATCH(fma_chains);
  float sink = 0.0F;
  const double calls = rate(seconds, [&] { sink += chains(kSteps); });
  if (sink == 12345.0F) std::puts("");
  return calls * kSteps * kChains * simd::current_f32_lanes() * 2.0 / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.3;
  if (argc > 2) {
    try {
      simd::use_target(argv[2]);
    } catch (const config_error& e) {
      std::fprintf(stderr, "bench_batch_detect: %s\n", e.what());
      return 2;
    }
  }
  constexpr int kAntennas = 64, kUsers = 16, kVectors = 14, kSubcarriers = 48;  // one block of a 600-subcarrier band
  constexpr double kNoise = 0.05;
  rng gen(1);
  // H in single precision, as the receiver's channel estimator stores it.
  std::vector<cf32> h(static_cast<std::size_t>(kSubcarriers * kAntennas * kUsers));
  std::vector<cf32> y(static_cast<std::size_t>(kSubcarriers * kAntennas * kVectors));
  std::vector<cf64> s(static_cast<std::size_t>(kSubcarriers * kUsers * kVectors));
  for (auto& v : h) v = cf32(cf64(gen.normal(), gen.normal()) * std::sqrt(0.5));
  for (auto& v : y) v = cf32(static_cast<float>(gen.normal()), static_cast<float>(gen.normal()));

  std::printf("# bench_batch_detect: %dx%d MMSE per-block, %d vectors, %d subcarriers per call, one core\n", kAntennas,
              kUsers, kVectors, kSubcarriers);
  std::string compiled;
  for (const std::string& t : simd::compiled_targets()) compiled += (compiled.empty() ? "" : " ") + t;
  std::printf("# SIMD target (run time): %s, %d f32 lanes per group (compiled: %s)\n", simd::current_target().c_str(),
              simd::current_f32_lanes(), compiled.c_str());

  const bench::blas_runtime blas = bench::detect_blas_and_use_one_thread();

  auto batch = solver::create_batch_solver({"digital-f32", {}}, kUsers, 1);
  detect::batch_detector det(detect::detector_kind::mmse, detect::detection_mode::per_block, *batch, kAntennas, kUsers,
                             kVectors, kSubcarriers);
  const auto batch_body = [&] {
    det.detect(solver::column_major_batch(s.data(), kSubcarriers, kUsers, kVectors),
               solver::column_major_batch(static_cast<const cf32*>(h.data()), kSubcarriers, kAntennas, kUsers),
               solver::column_major_batch(static_cast<const cf32*>(y.data()), kSubcarriers, kAntennas, kVectors), kNoise);
  };

  auto single = solver::create_linear_solver({"digital-f32", {}}, kUsers, 1);
  detect::linear_detector per_matrix(detect::detector_kind::mmse, detect::detection_mode::per_block, *single, kAntennas,
                                     kUsers, kVectors);
  std::vector<cmat> hm, ym;
  for (int m = 0; m < kSubcarriers; ++m) {
    hm.push_back(Eigen::Map<const Eigen::MatrixXcf>(h.data() + m * kAntennas * kUsers, kAntennas, kUsers).cast<cf64>());
    ym.push_back(Eigen::Map<const Eigen::MatrixXcf>(y.data() + m * kAntennas * kVectors, kAntennas, kVectors).cast<cf64>());
  }
  cmat s_hat(kUsers, kVectors);
  const auto single_body = [&] {
    for (int m = 0; m < kSubcarriers; ++m) {
      per_matrix.set_channel(hm[static_cast<std::size_t>(m)], kNoise);
      per_matrix.detect(s_hat, ym[static_cast<std::size_t>(m)]);
    }
  };

  std::vector<arma::cx_fmat> ha, ya;
  for (int m = 0; m < kSubcarriers; ++m) {
    arma::cx_fmat a(kAntennas, kUsers), b(kAntennas, kVectors);
    for (int r = 0; r < kAntennas; ++r) {
      for (int c = 0; c < kUsers; ++c) a(r, c) = cf32(hm[static_cast<std::size_t>(m)](r, c));
      for (int c = 0; c < kVectors; ++c) b(r, c) = cf32(ym[static_cast<std::size_t>(m)](r, c));
    }
    ha.push_back(a);
    ya.push_back(b);
  }
  arma::cx_fmat w, out;
  const arma::cx_fmat reg = static_cast<float>(kNoise) * arma::eye<arma::cx_fmat>(kUsers, kUsers);
  const auto arma_body = [&] {
    for (int m = 0; m < kSubcarriers; ++m) {
      const arma::cx_fmat& hs = ha[static_cast<std::size_t>(m)];
      w = arma::inv_sympd(hs.t() * hs + reg) * hs.t();
      out = w * ya[static_cast<std::size_t>(m)];
    }
  };

  // Rounds of the four measurements back to back: each ratio is formed within one round
  // (the host's speed drifts over seconds, by up to 20%, and a ratio of figures taken
  // seconds apart carries that drift); the medians over the rounds are reported, with the
  // ranges of the two target ratios.
  constexpr int kRounds = 5;
  std::vector<double> peak_r, batch_r, single_r, arma_r, fraction_r, vs_arma_r, vs_single_r;
  for (int r = 0; r < kRounds; ++r) {
    peak_r.push_back(fma_peak_gflops(seconds));
    batch_r.push_back(rate(seconds, batch_body) * kSubcarriers);
    single_r.push_back(rate(seconds, single_body) * kSubcarriers);
    arma_r.push_back(rate(seconds, arma_body) * kSubcarriers);
  }

  // Modelled real FLOPs per subcarrier of the algorithm the batched kernel runs (the
  // factored per-block path; a complex multiply-add is 8): Gram (lower triangle), HᴴY,
  // Cholesky, two triangular solves over T + K columns, G = A⁻¹R (8K³),
  // ‖w_k‖² (real part of diag(G A⁻¹)) and Σ|G_kj|² (4 each per pair), unbiasing. Earlier
  // forms: G = I − σ²A⁻¹ off the diagonal (2 per entry, 8K per user on it: + 18K² in all
  // with the two sums; it assumed an exact inverse); solves over T + 2K columns
  // ([HᴴY | R | I], G solved for), 8(K(K+1)/2·N + KNT + K³/6 + K²(T + 2K)) + 8K² + 8KT; the
  // explicit filter (solves over N columns, G = W H, W Y), 8(K(K+1)/2·N + K³/6 + 2K²N +
  // KNT) + 4KN + 8KT.
  const double k = kUsers, n = kAntennas, t = kVectors;
  const double flops = 8.0 * (k * (k + 1) / 2 * n + k * n * t + k * k * k / 6 + k * k * (t + k)) + 8.0 * k * k * k +
                       8.0 * k * k + 8.0 * k * t;
  for (int r = 0; r < kRounds; ++r) {
    const auto i = static_cast<std::size_t>(r);
    fraction_r.push_back(batch_r[i] * flops / 1e9 / peak_r[i]);
    vs_arma_r.push_back(batch_r[i] / arma_r[i]);
    vs_single_r.push_back(batch_r[i] / single_r[i]);
  }
  const double batch_rate = median(batch_r);
  const double peak = median(peak_r);
  std::printf("# BLAS linked by Armadillo: %s\n#   %s\n", blas.library.c_str(), blas.description.c_str());
  std::printf("# %d rounds of %.2f s per measurement; medians over the rounds, ratios formed within each round\n",
              kRounds, seconds);
  std::printf("%-44s %14s %12s\n", "# measurement", "subcarriers/s", "ratio");
  std::printf("%-44s %14.0f %12s\n", "batched kernel (batch_detector, digital-f32)", batch_rate, "1.00");
  std::printf("%-44s %14.0f %11.2fx\n", "per-matrix (linear_detector, digital-f32)", median(single_r),
              median(vs_single_r));
  std::printf("%-44s %14.0f %11.2fx\n", "Agora-style Armadillo inv_sympd baseline", median(arma_r), median(vs_arma_r));
  std::printf("# measured FP32 FMA peak (10 independent %d-lane FMA chains): %.1f GFLOP/s per core\n",
              simd::current_f32_lanes(), peak);
  std::printf("# batched kernel: %.0f modelled FLOP per subcarrier (factored path), %.1f GFLOP/s measured = %.1f%% "
              "of the peak measured in the same round (range %.1f-%.1f%%; target >= 40%%)\n",
              flops, batch_rate * flops / 1e9, 100.0 * median(fraction_r), 100.0 * lowest(fraction_r),
              100.0 * highest(fraction_r));
  std::printf("# batched vs Armadillo: %.2fx (range %.2f-%.2fx; target >= 4x with OpenBLAS, 1 thread)%s\n",
              median(vs_arma_r), lowest(vs_arma_r), highest(vs_arma_r),
              blas.openblas ? "" : " [baseline NOT on OpenBLAS here]");
  return 0;
}
#endif  // HWY_ONCE
