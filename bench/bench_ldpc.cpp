// 5G NR LDPC decoder throughput: BG1, rate 1/2 (K = 8448 information bits, E = 16896
// transmitted bits), Z = 384, a fixed number of iterations (early termination off), BPSK
// AWGN LLRs at Eb/N0 = 2 dB. The layered min-sum decoder (int8, AVX2 where built) runs beside
// the double-precision flooding BP reference and, where CMake found IT++ (libitpp-dev), IT++'s
// sum-product BP (integer QLLR, table boxplus) on the same parity-check matrix, in the same run. Counter "info_Mbps" is
// information bits per CPU-second of the one thread (Google Benchmark's rate counters divide
// by CPU time unless told to use real time): measured.
#include <amimo/core/rng.h>
#include <amimo/fec/ldpc_decoder.h>
#include <amimo/fec/rate_matching.h>

#include <benchmark/benchmark.h>

#if AMIMO_HAVE_ITPP
#include "fec/itpp_ldpc_reference.h"  // tests/fec: IT++ sum-product BP on the same lifted H
#endif

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace amimo::fec;

struct workload {
  std::vector<float> d_llr;
  int info_bits = 0;
};

workload make_workload(int z) {
  const ldpc_code code(base_graph::bg1, z);
  amimo::rng gen(2024);
  std::vector<std::uint8_t> info(static_cast<std::size_t>(code.info_bits()));
  gen.fill_bits(info);
  std::vector<std::uint8_t> d(static_cast<std::size_t>(code.codeword_bits()));
  code.encode(d, info);
  const int e = 2 * code.info_bits();  // rate 1/2
  const rate_match_config rm{base_graph::bg1, z, code.info_bits(), 0, e, 2, 0};
  std::vector<std::uint8_t> f(static_cast<std::size_t>(e));
  rate_match(f, d, rm);
  const double ebn0 = std::pow(10.0, 2.0 / 10.0);
  const double sigma2 = 1.0 / (2.0 * 0.5 * ebn0);  // BPSK, Es = 1, R = 1/2
  std::vector<float> f_llr(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double y = (f[i] ? -1.0 : 1.0) + std::sqrt(sigma2) * gen.normal();
    f_llr[i] = static_cast<float>(2.0 * y / sigma2);
  }
  workload w;
  w.d_llr.resize(d.size());
  rate_dematch(w.d_llr, f_llr, rm);
  w.info_bits = code.info_bits();
  return w;
}

void run(benchmark::State& state, ldpc_decoder_kind kind) {
  const int z = static_cast<int>(state.range(0));
  const int iterations = static_cast<int>(state.range(1));
  const workload w = make_workload(z);
  auto dec = create_ldpc_decoder(kind, base_graph::bg1, z, {.max_iterations = iterations, .early_termination = false});
  std::vector<std::uint8_t> out(static_cast<std::size_t>(w.info_bits));
  for (auto _ : state) {
    const auto res = dec->decode(out, w.d_llr);
    benchmark::DoNotOptimize(res);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["info_Mbps"] = benchmark::Counter(static_cast<double>(w.info_bits) * static_cast<double>(state.iterations()) / 1e6,
                                                   benchmark::Counter::kIsRate);
  state.SetLabel(kind == ldpc_decoder_kind::layered_min_sum
                     ? (ldpc_decoder_uses_avx2() ? "layered min-sum int8 AVX2" : "layered min-sum int8 scalar")
                     : "reference BP (double, flooding)");
}

void BM_ldpc_layered_min_sum(benchmark::State& state) { run(state, ldpc_decoder_kind::layered_min_sum); }

#if AMIMO_HAVE_ITPP
// IT++ BP with a fixed iteration count (its per-iteration syndrome check off, like early
// termination for the others).
void BM_ldpc_itpp_bp(benchmark::State& state) {
  const int z = static_cast<int>(state.range(0));
  const int iterations = static_cast<int>(state.range(1));
  const workload w = make_workload(z);
  const ldpc_code code(base_graph::bg1, z);
  amimo::fec::testing::itpp_nr_ldpc dec(code, amimo::fec::testing::used_block_rows(code, w.d_llr), iterations,
                                        /*check_each_iteration=*/false);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(w.info_bits));
  int ran = 0;
  for (auto _ : state) {
    ran = dec.decode(out, w.d_llr);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["info_Mbps"] = benchmark::Counter(static_cast<double>(w.info_bits) * static_cast<double>(state.iterations()) / 1e6,
                                                   benchmark::Counter::kIsRate);
  state.SetLabel("IT++ BP (QLLR, flooding), " + std::to_string(ran < 0 ? -ran : ran) + " iterations");
}
BENCHMARK(BM_ldpc_itpp_bp)->Args({384, 10})->Unit(benchmark::kMillisecond);
#endif
void BM_ldpc_reference_bp(benchmark::State& state) { run(state, ldpc_decoder_kind::reference_bp); }

BENCHMARK(BM_ldpc_layered_min_sum)->Args({384, 5})->Args({384, 8})->Args({384, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ldpc_reference_bp)->Args({384, 10})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
