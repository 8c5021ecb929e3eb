// Streaming receiver throughput (issue 4 target: real-time factor ≥ 1 for 16 antennas × 4
// users at 7.68 Msps on a 2-core machine). The receiver (sync, CP removal, FFT, LS
// estimation, MMSE detection per block with a digital backend, soft demapping, BER count)
// takes pre-generated frames of the default numerology from memory, so only the receiver
// is timed. Counters: samples/s per antenna and per core, and the real-time factor — the
// ratio of the signal's duration (sample rate, the baseline) to the measured wall time.
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include <channel_models/tdl_models.h>

#include <benchmark/benchmark.h>

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <memory>

namespace {

using namespace amimo;
constexpr int kFrames = 24;

double cpu_seconds_of(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double process_cpu_seconds() { return cpu_seconds_of(CLOCK_PROCESS_CPUTIME_ID); }
double thread_cpu_seconds() { return cpu_seconds_of(CLOCK_THREAD_CPUTIME_ID); }

struct recording {
  pipeline::receiver_config config;
  std::vector<std::vector<cf32>> rows;  // antennas × (kFrames × frame_length)
};

const recording& frames_for(int antennas, int users, const std::string& solver, int threads) {
  static std::map<std::string, std::unique_ptr<recording>> cache;
  const std::string key = std::to_string(antennas) + "x" + std::to_string(users) + solver + "/" + std::to_string(threads);
  auto& slot = cache[key];
  if (slot) return *slot;
  slot = std::make_unique<recording>();
  auto& r = *slot;
  r.config.antennas = antennas;
  r.config.users = users;
  r.config.modulation = modem::modulation::qam16;
  r.config.mode = detect::detection_mode::per_block;
  r.config.chains = {{detect::detector_kind::mmse, {solver, {}}, {}}};
  r.config.threads = threads;
  r.config.seed = 9;
  const ofdm::frame_layout layout(r.config.layout, users, r.config.modulation);
  channel_models::selective_channel_config cc;
  cc.model = "tdl-a";
  cc.antennas = antennas;
  cc.users = users;
  auto channel = channel_models::create_selective_channel_model(cc);
  ofdm::uplink_emulator em(layout, *channel, 25.0, r.config.seed);
  const auto len = static_cast<std::size_t>(r.config.layout.frame_length());
  r.rows.assign(static_cast<std::size_t>(antennas), std::vector<cf32>(len * kFrames));
  std::vector<cf32*> ptrs(static_cast<std::size_t>(antennas));
  for (int f = 0; f < kFrames; ++f) {
    for (int a = 0; a < antennas; ++a) ptrs[static_cast<std::size_t>(a)] = r.rows[static_cast<std::size_t>(a)].data() + f * len;
    em.generate(ptrs, static_cast<std::uint64_t>(f));
  }
  return r;
}

// Args: antennas, users and the receiver's thread count (0: one per core). With one thread the caller's thread CPU time (thread_cpu_ms_per_frame) is all the
// receiver's work, free of pool spinning and of other processes' load: the figure to compare
// code changes by on a shared machine.
void BM_Receiver(benchmark::State& state, const std::string& solver) {
  const int antennas = static_cast<int>(state.range(0));
  const int users = static_cast<int>(state.range(1));
  const int pool_threads = static_cast<int>(state.range(2));
  const auto& rec = frames_for(antennas, users, solver, pool_threads);
  const auto len = static_cast<std::size_t>(rec.config.layout.frame_length());
  std::vector<const cf32*> ptrs(static_cast<std::size_t>(antennas));
  double samples = 0.0;
  std::uint64_t errors = 0;
  std::uint64_t frames = 0;
  int threads = 1;
  double cpu_seconds = 0.0;
  double caller_cpu_seconds = 0.0;
  double stage_seconds[static_cast<int>(pipeline::stage::count)] = {};
  std::optional<pipeline::receiver> receiver;
  for (auto _ : state) {
    // The receiver is built and destroyed outside the timed region (its buffers' first
    // touch included: construction initialises them): only the frames are timed.
    state.PauseTiming();
    receiver.reset();
    receiver.emplace(rec.config);
    auto& rx = *receiver;
    threads = pool_threads > 0 ? pool_threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    state.ResumeTiming();
    const double cpu0 = process_cpu_seconds();
    const double caller0 = thread_cpu_seconds();
    for (int f = 0; f < kFrames; ++f) {
      for (int a = 0; a < antennas; ++a) ptrs[static_cast<std::size_t>(a)] = rec.rows[static_cast<std::size_t>(a)].data() + f * len;
      rx.push(ptrs, len);
    }
    rx.finish();
    cpu_seconds += process_cpu_seconds() - cpu0;
    caller_cpu_seconds += thread_cpu_seconds() - caller0;
    for (int st = 0; st < static_cast<int>(pipeline::stage::count); ++st) stage_seconds[st] += rx.stats().latency[st].total();
    samples += static_cast<double>(kFrames) * static_cast<double>(len);
    errors += rx.stats().chains[0].bit_errors;
    frames += rx.stats().frames;
  }
  receiver.reset();  // after the loop: not timed
  const double sample_rate = rec.config.layout.sample_rate;
  state.counters["samples_per_s_per_antenna"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["samples_per_s_per_core"] =
      benchmark::Counter(samples * antennas / threads, benchmark::Counter::kIsRate);
  // Real-time factor = (signal seconds) / (wall seconds): a rate counter of signal seconds.
  state.counters["real_time_factor"] = benchmark::Counter(samples / sample_rate, benchmark::Counter::kIsRate);
  state.counters["frames_decoded"] = static_cast<double>(frames) / static_cast<double>(state.iterations());
  state.counters["bit_errors"] = static_cast<double>(errors);
  state.counters["cores"] = threads;
  // CPU time of all threads per frame (measured): on a loaded machine the wall-clock
  // factor suffers while this stays close to the work the receiver really does.
  // Wall time per frame of each receiver stage (measured); the rest of the wall time is
  // buffering, the NaN scan and frame bookkeeping.
  for (int st = 0; st < static_cast<int>(pipeline::stage::count); ++st) {
    state.counters["ms_" + std::string(pipeline::to_string(static_cast<pipeline::stage>(st)))] =
        1e3 * stage_seconds[st] / (static_cast<double>(kFrames) * static_cast<double>(state.iterations()));
  }
  state.counters["cpu_ms_per_frame"] =
      1e3 * cpu_seconds / (static_cast<double>(kFrames) * static_cast<double>(state.iterations()));
  // CPU time of the thread that pushes the samples (measured): with one receiver thread,
  // the receiver's whole work per frame.
  state.counters["thread_cpu_ms_per_frame"] =
      1e3 * caller_cpu_seconds / (static_cast<double>(kFrames) * static_cast<double>(state.iterations()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_Receiver, mmse_digital_f32, std::string("digital-f32"))
    ->Args({16, 4, 0})->Args({32, 8, 0})->Args({64, 16, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Receiver, mmse_digital_f32_1thread, std::string("digital-f32"))
    ->Args({16, 4, 1})->Args({32, 8, 1})->Args({64, 16, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Receiver, mmse_digital_f64, std::string("digital-f64"))
    ->Args({16, 4, 0})->Args({32, 8, 0})->Args({64, 16, 0})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
