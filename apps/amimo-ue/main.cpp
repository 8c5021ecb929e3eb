// amimo-ue: the user side and the air. Generates K users' OFDM frames (preamble, comb
// pilots, PRBS data), passes them through a channel model (TDL-A…E, CDL-A…E, flat, awgn; Doppler,
// per-user CFO and timing offsets, AWGN) and writes N antenna streams to a radio sink
// (ZeroMQ in either convention, or a SigMF recording), paced to real time or as fast as
// possible.

#include "../link_cli.h"

#include <amimo/core/error.h>
#include <amimo/core/version.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/payload/source.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/radio/radio_factory.h>
#include <amimo/radio/sigmf.h>
#include <amimo/radio/zmq_radio.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>

#include <channel_models/tdl_models.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

// Set by SIGINT/SIGTERM; the frame loop and the ZeroMQ sinks' blocking sends look at it
// (every 50 ms), so one signal stops the program even while a send is blocked.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "g_stop is set from a signal handler");
extern "C" void on_signal(int) { g_stop.store(true); }

constexpr double max_wait_receivers_s = 86400.0;

// The run's input files (--config, payload files) must not be its outputs (--port-file, a
// SigMF recording's two files): writing one would destroy an input. config_error (status 2).
void refuse_outputs_over_inputs(const amimo::pipeline::link_config& config, const std::string& config_path,
                                const std::string& port_file) {
  using amimo::apps::named_path;
  std::vector<named_path> inputs;
  if (!config_path.empty()) inputs.push_back({"--config", config_path});
  if (config.coding.kind == amimo::payload::coding_kind::ldpc) {
    for (const auto& p : config.coding.payloads) {
      if (p != "prbs" && p.rfind("zmq-pull:", 0) != 0) inputs.push_back({"payload", p});
    }
  }
  std::vector<named_path> outputs;
  if (!port_file.empty()) outputs.push_back({"--port-file", port_file});
  if (config.sink.rfind("sigmf:", 0) == 0) {
    const std::string base = amimo::radio::sigmf_base_path(config.sink.substr(6));
    outputs.push_back({"the SigMF sink's data file", base + ".sigmf-data"});
    outputs.push_back({"the SigMF sink's metadata", base + ".sigmf-meta"});
  }
  amimo::apps::refuse_output_over_input(outputs, inputs);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace amimo;
  CLI::App app{"amimo-ue: K-user OFDM uplink transmitter and channel emulator feeding a radio transport"};
  app.set_version_flag("--version", std::string(version_string));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  apps::link_flags flags;
  apps::add_common_link_flags(app, flags);
  flags.add(app, "--sink", "sink", "zmq-push:ENDPOINTS | zmq-pub:ENDPOINTS | srsran:ARGS | sigmf:PATH");
  flags.add(app, "--cfo", "cfo_hz", "per-user carrier-frequency offsets (Hz), comma-separated");
  flags.add(app, "--payload", "payload",
            "ldpc: per-user payload, comma-separated (one entry: every user): prbs | FILE | zmq-pull:ENDPOINT");
  flags.add(app, "--timing-offsets", "timing_offsets", "per-user timing offsets (samples), comma-separated");
  bool realtime = false;
  std::string port_file;
  double wait_receivers = 5.0;
  auto* o_rt = app.add_flag("--realtime", realtime, "pace the output to the sample rate");
  auto* o_port =
      app.add_option("--port-file", port_file, "write the bound endpoints here (one per line) once listening")
          ->check(apps::non_empty_value());
  app.add_option("--wait-receivers", wait_receivers,
                 fmt::format("zmq-pub: wait this long for every subscriber (s, 0…{:g})", max_wait_receivers_s));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return apps::parse_error_status(app, e);
  }
  // CLI::Range lets NaN through, and NaN or ±inf seconds converted to milliseconds were
  // undefined behaviour.
  if (!std::isfinite(wait_receivers) || wait_receivers < 0.0 || wait_receivers > max_wait_receivers_s) {
    std::cerr << "amimo-ue: --wait-receivers: expected a number of seconds in 0…" << max_wait_receivers_s << ", got "
              << wait_receivers << "\n";
    return 2;
  }
  const std::string command_line = report::command_line(argc, argv);

  pipeline::link_config config;
  std::unique_ptr<ofdm::frame_layout> layout;
  std::unique_ptr<channel::selective_channel_model> channel;
  std::unique_ptr<ofdm::uplink_emulator> emulator;
  std::unique_ptr<payload::coded_transmitter> coded;
  std::unique_ptr<radio::radio_sink> sink;
  try {
    const std::string yaml = apps::link_config_text(flags, pipeline::embedded_link_config());
    auto overrides = flags.overrides();
    if (*o_rt) overrides["realtime"] = realtime ? "true" : "false";
    config = pipeline::parse_link_config(yaml, overrides);
    if (config.sink.empty()) throw config_error("no sink: give --sink (zmq-push:…, zmq-pub:…, srsran:…, sigmf:PATH)");
    refuse_outputs_over_inputs(config, *flags.config_option ? flags.config_path : std::string(),
                               *o_port ? port_file : std::string());
    layout = std::make_unique<ofdm::frame_layout>(config.rx.layout, config.rx.users, config.rx.modulation);
    channel = channel_models::create_selective_channel_model(config.channel);
    emulator = std::make_unique<ofdm::uplink_emulator>(*layout, *channel, config.snr_db, config.rx.seed,
                                                       ofdm::user_impairments{config.cfo_hz, config.timing_offsets},
                                                       config.emulator_options());
    if (config.coding.kind == payload::coding_kind::ldpc) {
      coded = std::make_unique<payload::coded_transmitter>(*layout, config.coding, config.rx.seed);
      emulator->set_data_source(coded.get());
    } else if (!config.coding.payloads.empty()) {
      throw config_error("--payload needs --coding ldpc");
    }
    sink = radio::open_radio_sink(config.sink,
                                  {config.rx.antennas, config.rx.layout.sample_rate, config.center_frequency});
    if (auto* z = dynamic_cast<radio::zmq_sink*>(sink.get())) z->set_interrupt_flag(&g_stop);
    const auto endpoints = radio::bound_endpoints(*sink);
    if (*o_port) {
      std::string text;
      for (const auto& e : endpoints) text += e + "\n";
      report::write_file_atomically(port_file, text);
    }
    for (const auto& e : endpoints) std::cout << "# listening: " << e << "\n";
  } catch (const config_error& e) {
    std::cerr << "amimo-ue: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "amimo-ue: " << e.what() << "\n";
    return 3;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  const auto& n = config.rx.layout;
  std::cout << fmt::format(
      "# amimo-ue {}: {} users → {} antennas, {}, FFT {} / CP {} / {} used, {:.3f} Msps, channel {} [{} filter], "
      "Es/N0 {} dB, "
      "seed {}, sink {}, {}\n",
      version_string, config.rx.users, config.rx.antennas, modem::to_string(config.rx.modulation), n.fft_size,
      n.cp_length, n.used_subcarriers, n.sample_rate / 1e6, channel->describe(), config.channel_filter, config.snr_db, config.rx.seed, config.sink,
      config.realtime ? "paced to real time" : "as fast as possible");
  if (coded) {
    const auto& cl = coded->layout();
    std::cout << fmt::format("# coding: LDPC, per user and frame {} header bits + one transport block of A = {} bits "
                             "({} payload bytes at most) in G = {} coded bits (rate {:.3f})\n",
                             cl.header_bits, cl.tb.tb_bits, cl.capacity(), cl.g_bits,
                             static_cast<double>(cl.tb.tb_bits) / static_cast<double>(cl.g_bits));
  }
  std::cout.flush();
  if (const auto warning = pipeline::cyclic_prefix_warning(config); !warning.empty()) {
    std::cerr << "amimo-ue: warning: " << warning << "\n";
  }
  const auto wait_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(wait_receivers));
  if (!radio::wait_for_receivers(*sink, wait_timeout) && !g_stop)
    std::cerr << "amimo-ue: warning: not every channel has a subscriber yet; messages sent before are lost\n";

  const auto len = static_cast<std::size_t>(n.frame_length());
  const auto antennas = static_cast<std::size_t>(config.rx.antennas);
  std::vector<std::vector<cf32>> frame(antennas, std::vector<cf32>(len));
  std::vector<cf32*> ptrs;
  std::vector<const cf32*> cptrs;
  for (auto& row : frame) {
    ptrs.push_back(row.data());
    cptrs.push_back(row.data());
  }
  // antenna_delays: antenna a's stream starts d_a samples late (zeros first), as channels
  // out of step arrive; a delay line per delayed antenna, buffers sized once.
  std::vector<std::size_t> delays(antennas, 0);
  std::copy(config.antenna_delays.begin(), config.antenna_delays.end(), delays.begin());
  std::vector<std::vector<cf32>> delayed(antennas);
  std::vector<std::vector<cf32>> carry(antennas);
  for (std::size_t a = 0; a < antennas; ++a) {
    if (delays[a] == 0) continue;
    delayed[a].assign(len, cf32{});
    carry[a].assign(delays[a], cf32{});
    cptrs[a] = delayed[a].data();
  }
  const auto apply_delays = [&] {
    for (std::size_t a = 0; a < antennas; ++a) {
      const std::size_t d = delays[a];
      if (d == 0) continue;
      std::copy(carry[a].begin(), carry[a].end(), delayed[a].begin());
      std::copy(frame[a].begin(), frame[a].end() - static_cast<std::ptrdiff_t>(d),
                delayed[a].begin() + static_cast<std::ptrdiff_t>(d));
      std::copy(frame[a].end() - static_cast<std::ptrdiff_t>(d), frame[a].end(), carry[a].begin());
    }
  };
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  double generate_seconds = 0.0;
  std::uint64_t sent = 0;
  std::uint64_t late = 0;
  try {
    for (std::uint64_t f = 0; (config.frames == 0 || f < config.frames) && !g_stop; ++f) {
      const auto g0 = clock::now();
      emulator->generate(ptrs, f);
      apply_delays();
      generate_seconds += std::chrono::duration<double>(clock::now() - g0).count();
      const auto dropped_before = sink->events().dropped_messages;
      sink->write(cptrs, len);
      // A write cut short by a signal does not count as sent.
      if (g_stop && sink->events().dropped_messages != dropped_before) break;
      ++sent;
      if (coded && coded->all_sent()) break;  // every user's payload has been sent
      if (config.realtime) {
        // Seconds since t0 in double (a clock time point overflows at a tiny sample rate), and
        // waited in slices of at most 50 ms, so that a signal stops the program whatever the
        // frame time (at --sample-rate 1 a frame lasts two hours).
        const double due = static_cast<double>(f + 1) * n.frame_seconds();
        const auto elapsed = [&t0] { return std::chrono::duration<double>(clock::now() - t0).count(); };
        if (elapsed() > due) ++late;
        for (double left = due - elapsed(); left > 0.0 && !g_stop; left = due - elapsed())
          std::this_thread::sleep_for(std::chrono::duration<double>(std::min(left, 0.05)));
      }
    }
    sink->close();  // also after a signal: a recording keeps the frames written so far
  } catch (const std::exception& e) {
    std::cerr << "amimo-ue: error: " << e.what() << "\n";
    return 3;
  }
  const double wall = std::chrono::duration<double>(clock::now() - t0).count();
  const double signal = static_cast<double>(sent) * n.frame_seconds();
  std::cout << fmt::format(
      "# sent {} frames ({} samples/antenna, {:.3f} s of signal) in {:.3f} s wall (measured): generation {:.2f}x "
      "real time{}\n",
      sent, sent * len, signal, wall, generate_seconds > 0 ? signal / generate_seconds : 0.0,
      config.realtime ? fmt::format(", {} frames late", late) : std::string());
  const auto& ev = sink->events();
  if (ev.dropped_messages > 0)
    std::cout << fmt::format("# sink dropped {} messages ({} samples; no subscriber yet, queue full, or cut short by "
                             "a signal; counted by the sink)\n",
                             ev.dropped_messages, ev.dropped_samples);
  if (coded) {
    std::string bytes;
    for (int k = 0; k < config.rx.users; ++k) bytes += (k ? ", " : "") + std::to_string(coded->payload_bytes_sent(k));
    std::cout << "# payload bytes sent per user: " << bytes << (coded->all_sent() ? " (every stream complete)" : "")
              << "\n";
  }
  if (g_stop) std::cout << "# interrupted by a signal: stopped after " << sent << " frames\n";
  return g_stop ? 130 : 0;
}
