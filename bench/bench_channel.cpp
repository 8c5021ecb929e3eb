// Channel emulation cost (issue 18): amimo-ue's uplink_emulator generating one frame of the
// default numerology (512-point FFT, 300 used subcarriers, 14 symbols = 1 ms at 7.68 Msps)
// for N antennas × K users through TR 38.901 TDL (and CDL-C: 24 clusters × 20 rays on a
// ULA) channels with exact delays, static
// (one response per frame) or with 300 Hz Doppler and a channel state per OFDM symbol (or,
// the _per_2_symbols rows, per two symbols: 7 states per frame), on 1 or 2 threads (third
// argument: emulator_options::threads). Measured: CPU ms per frame (all threads) and wall
// ms per frame, and the real-time factors = signal duration / CPU or wall time (≥ 1: faster
// than real time). The channel part alone (tap evolution + response product)
// is reported separately as channel_ms_per_frame by a second benchmark that skips the IFFTs.
#include <amimo/ofdm/uplink_emulator.h>

#include <channel_models/tdl_models.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

namespace {

using namespace amimo;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Measured: CPU ms per frame (the process's CPU time, every thread's work; stays meaningful on
// a loaded machine), wall ms per frame, and the real-time factors from them (signal seconds /
// measured seconds).
void report(benchmark::State& state, const ofdm::numerology& n, double cpu_seconds) {
  const double frames = static_cast<double>(state.iterations());
  state.counters["cpu_ms_per_frame"] = 1e3 * cpu_seconds / frames;
  state.counters["cpu_real_time_factor"] = n.frame_seconds() * frames / cpu_seconds;
  state.counters["wall_real_time_factor"] =
      benchmark::Counter(n.frame_seconds() * frames, benchmark::Counter::kIsRate);
}

channel_models::selective_channel_config config_for(int antennas, int users, const std::string& model, double doppler,
                                                    const ofdm::numerology& n, int symbols_per_state = 1) {
  channel_models::selective_channel_config cc;
  cc.model = model;
  cc.antennas = antennas;
  cc.users = users;
  cc.delay_spread_s = 300e-9;
  cc.sample_rate = n.sample_rate;
  cc.doppler_hz = doppler;
  cc.frame_seconds = n.frame_seconds();
  cc.steps_per_frame = n.symbols_per_frame() / symbols_per_state;
  return cc;
}

void BM_EmulatorFrame(benchmark::State& state, const std::string& model, double doppler, int symbols_per_state) {
  const int antennas = static_cast<int>(state.range(0));
  const int users = static_cast<int>(state.range(1));
  const ofdm::numerology n;
  const ofdm::frame_layout layout(n, users, modem::modulation::qam16);
  auto channel = channel_models::create_selective_channel_model(
      config_for(antennas, users, model, doppler, n, symbols_per_state));
  ofdm::emulator_options options;
  options.threads = static_cast<int>(state.range(2));
  ofdm::uplink_emulator em(layout, *channel, 20.0, 3, {}, options);
  std::vector<std::vector<cf32>> rows(static_cast<std::size_t>(antennas),
                                      std::vector<cf32>(static_cast<std::size_t>(n.frame_length())));
  std::vector<cf32*> ptrs;
  for (auto& r : rows) ptrs.push_back(r.data());
  std::uint64_t frame = 0;
  em.generate(ptrs, frame++);  // the model's initial draw (sinusoid phases) is set-up, not per-frame cost
  const double cpu0 = process_cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  for (auto _ : state) em.generate(ptrs, frame++);
  report(state, n, process_cpu_seconds() - cpu0);
  state.counters["wall_ms_per_frame"] =
      1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count() /
      static_cast<double>(state.iterations());
  state.counters["threads"] = options.threads;
  state.counters["channel_states_per_frame"] = channel->steps_per_frame();
}

// The channel alone: evolve the taps through a frame's states and form the responses on
// every used subcarrier (what the emulator does before its IFFTs).
void BM_ChannelOnly(benchmark::State& state, const std::string& model, double doppler) {
  const int antennas = static_cast<int>(state.range(0));
  const int users = static_cast<int>(state.range(1));
  const ofdm::numerology n;
  auto channel = channel_models::create_selective_channel_model(config_for(antennas, users, model, doppler, n));
  const auto delays = channel->tap_delays();
  const auto entries = static_cast<Eigen::Index>(antennas) * users;
  cmat phases(static_cast<Eigen::Index>(delays.size()), n.used_subcarriers);
  for (int u = 0; u < n.used_subcarriers; ++u)
    for (std::size_t l = 0; l < delays.size(); ++l)
      phases(static_cast<Eigen::Index>(l), u) = channel::delay_phasor(n.bin_of(u), delays[l], n.fft_size);
  cmat taps(entries, static_cast<Eigen::Index>(delays.size()));
  cmat response(entries, n.used_subcarriers);
  rng gen(5);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    channel->next_frame(gen);
    for (int s = 0; s < channel->steps_per_frame(); ++s) {
      if (s > 0) channel->next_step();
      for (Eigen::Index l = 0; l < taps.cols(); ++l) {
        const cmat_cref g = channel->tap_gain(static_cast<int>(l));
        taps.col(l) = Eigen::Map<const cvec>(g.data(), entries);
      }
      response.noalias() = taps * phases;
    }
    benchmark::DoNotOptimize(response.data());
  }
  report(state, n, process_cpu_seconds() - cpu0);
}

}  // namespace

// Arguments: antennas, users, emulator threads.
#define AMIMO_SHAPES ->Args({16, 4, 1})->Args({32, 8, 1})->Args({64, 16, 1})->Args({16, 4, 2})->Args({32, 8, 2}) \
    ->Args({64, 16, 2})->Unit(benchmark::kMillisecond)->UseRealTime()
BENCHMARK_CAPTURE(BM_EmulatorFrame, tdl_c_static, std::string("tdl-c"), 0.0, 1) AMIMO_SHAPES;
BENCHMARK_CAPTURE(BM_EmulatorFrame, tdl_c_300hz_per_symbol, std::string("tdl-c"), 300.0, 1) AMIMO_SHAPES;
BENCHMARK_CAPTURE(BM_EmulatorFrame, tdl_c_300hz_per_2_symbols, std::string("tdl-c"), 300.0, 2) AMIMO_SHAPES;
BENCHMARK_CAPTURE(BM_EmulatorFrame, cdl_c_300hz_per_symbol, std::string("cdl-c"), 300.0, 1) AMIMO_SHAPES;
BENCHMARK_CAPTURE(BM_ChannelOnly, tdl_c_300hz_per_symbol, std::string("tdl-c"), 300.0)
    ->Args({16, 4})->Args({32, 8})->Args({64, 16})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ChannelOnly, tdl_a_300hz_per_symbol, std::string("tdl-a"), 300.0)
    ->Args({16, 4})->Args({32, 8})->Args({64, 16})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ChannelOnly, cdl_c_300hz_per_symbol, std::string("cdl-c"), 300.0)
    ->Args({16, 4})->Args({32, 8})->Args({64, 16})->Unit(benchmark::kMillisecond)->UseRealTime();
#undef AMIMO_SHAPES

BENCHMARK_MAIN();
