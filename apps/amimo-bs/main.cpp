// amimo-bs: the streaming base-station receiver. Reads N antenna streams from a radio
// source (synthetic, ZeroMQ, SigMF, UHD), detects every frame through one or several
// detector × solver chains side by side and reports BER / EVM / throughput / energy.

#include "../link_cli.h"

#include <amimo/core/error.h>
#include <amimo/core/stop_signals.h>
#include <amimo/core/version.h>
#include <amimo/payload/decoder_sink.h>
#include <amimo/payload/source.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/pipeline/bs_report.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/pipeline/synthetic_source.h>
#include <amimo/radio/radio_factory.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>

#include <channel_models/tdl_models.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <unistd.h>

int main(int argc, char** argv) {
  using namespace amimo;
  CLI::App app{"amimo-bs: streaming OFDM massive-MIMO uplink receiver (ZF/MMSE through any solver backend)"};
  app.set_version_flag("--version", std::string(version_string));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  apps::link_flags flags;
  apps::add_common_link_flags(app, flags);
  flags.add(app, "--source", "source", "synthetic | zmq-pull:ENDPOINTS | zmq-sub:ENDPOINTS | srsran:ARGS | sigmf:PATH | uhd:ARGS");
  flags.add(app, "--detector", "detector", "zf | mmse, or a list zf,mmse");
  flags.add(app, "--solver", "solver", "solver backends side by side, e.g. digital-f32,analog");
  flags.add(app, "--mode", "mode", "per-block | per-vector");
  flags.add(app, "--threads", "threads", "worker threads (0: one per core)");
  flags.add(app, "--idle-timeout", "idle_timeout", "network sources: stop after this long without samples (s)");
  flags.add(app, "--out", "out", "output directory for bs.json, bs.csv");
  flags.add(app, "--payload-out", "payload_out",
            "ldpc: decoded payload of the output chain: DIR (user<k>.bin when complete) | zmq-push:ENDPOINT");
  flags.add(app, "--payload-chain", "payload_chain", "ldpc: the chain (0-based, in table order) whose payload is output");
  std::string progress = "auto";
  double uhd_gain = 30.0;
  app.add_option("--progress", progress, "live status line on stderr: auto | on | off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--uhd-gain", uhd_gain, "uhd source: RX gain (dB)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return apps::parse_error_status(app, e);
  }
  const std::string command_line = report::command_line(argc, argv);

  pipeline::link_config config;
  std::unique_ptr<radio::radio_source> source;
  pipeline::synthetic_source* synthetic = nullptr;
  std::unique_ptr<pipeline::receiver> rx;
  std::unique_ptr<payload::decoder_sink> decoder;
  std::unique_ptr<payload::payload_output> payload_out;
  std::unique_ptr<payload::coded_transmitter> synthetic_coded;
  try {
    const std::string yaml = apps::link_config_text(flags, pipeline::embedded_link_config());
    config = pipeline::parse_link_config(yaml, flags.overrides());
    report::ensure_writable_directory(config.out);
    rx = std::make_unique<pipeline::receiver>(config.rx);
    if (config.coding.kind == payload::coding_kind::ldpc) {
      std::vector<std::string> labels;
      for (const auto& ch : config.rx.chains) labels.push_back(ch.label());
      decoder = std::make_unique<payload::decoder_sink>(rx->layout(), config.coding, labels);
      if (!config.coding.payload_out.empty()) {
        payload_out = payload::open_payload_output(config.coding.payload_out, config.rx.users);
        decoder->set_output(payload_out.get());
      }
      rx->add_sink(*decoder);
    }
    if (config.source == "synthetic") {
      auto s = std::make_unique<pipeline::synthetic_source>(
          rx->layout(), channel_models::create_selective_channel_model(config.channel), config.snr_db,
          config.rx.seed, ofdm::user_impairments{config.cfo_hz, config.timing_offsets}, config.frames,
          config.emulator_options());
      synthetic = s.get();
      if (decoder) {  // the synthetic users send PRBS payload bytes as LDPC transport blocks
        auto tx_coding = config.coding;
        tx_coding.payloads.clear();
        synthetic_coded = std::make_unique<payload::coded_transmitter>(rx->layout(), tx_coding, config.rx.seed);
        s->set_data_source(synthetic_coded.get());
      }
      source = std::move(s);
      if (const auto warning = pipeline::cyclic_prefix_warning(config); !warning.empty()) {
        std::cerr << "amimo-bs: warning: " << warning << "\n";
      }
    } else {
      radio::source_options so;
      so.gain_db = uhd_gain;
      so.log = &std::cout;
      source = radio::open_radio_source(
          config.source, {config.rx.antennas, config.rx.layout.sample_rate, config.center_frequency}, so);
    }
    const auto d = source->description();
    if (d.channels != config.rx.antennas)
      throw config_error("source '" + config.source + "' has " + std::to_string(d.channels) +
                         " channels, the receiver expects " + std::to_string(config.rx.antennas) + " antennas");
    if (d.sample_rate > 0.0 && std::abs(d.sample_rate - config.rx.layout.sample_rate) > 1e-6 * d.sample_rate)
      throw config_error("source '" + config.source + "' runs at " + std::to_string(d.sample_rate) +
                         " samples/s, the numerology at " + std::to_string(config.rx.layout.sample_rate));
  } catch (const config_error& e) {
    std::cerr << "amimo-bs: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "amimo-bs: " << e.what() << "\n";
    return 3;
  }

  // sigaction through stop_signals.h, as the other programs (std::signal's semantics vary:
  // SA_RESTART on glibc): a signal ends the run after the current read, status 130.
  const std::atomic<bool>& stop = install_stop_handlers();
  const bool live = progress == "on" || (progress == "auto" && isatty(STDERR_FILENO) != 0);
  std::fputs(pipeline::parameter_header(config, command_line).c_str(), stdout);
  std::fflush(stdout);

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto last_status = t0;
  auto last_data = t0;
  pipeline::run_summary summary;
  summary.command_line = command_line;
  summary.source = config.source;
  summary.stop_reason = "frames";
  try {
    for (;;) {
      if (stop.load()) {
        summary.stop_reason = "interrupted";
        break;
      }
      std::size_t room = 1U << 15U;
      auto ptrs = rx->input(room);
      const auto got = source->read(ptrs, room, std::chrono::milliseconds(100));
      if (got.count > 0) {
        rx->commit(got.count);
        last_data = clock::now();
      }
      // Not stats(): that would drain the frame pipeline on every read.
      if (config.frames != 0 && rx->frames_counted() >= config.frames) break;
      if (got.status == radio::read_status::end_of_stream) {
        rx->finish();
        summary.stop_reason = "end of stream";
        break;
      }
      const auto now = clock::now();
      if (got.count == 0 && std::chrono::duration<double>(now - last_data).count() > config.idle_timeout) {
        rx->finish();
        summary.stop_reason = "idle";
        break;
      }
      if (live && now - last_status > std::chrono::milliseconds(500)) {
        last_status = now;
        std::fprintf(stderr, "\r\033[K%s",
                     pipeline::status_line(rx->stats(), config, std::chrono::duration<double>(now - t0).count()).c_str());
        std::fflush(stderr);
      }
    }
    // Every frame in flight reaches the stats and the decoder sink before they are read.
    rx->flush();
  } catch (const std::exception& e) {
    // A back-end task may still be running with the sinks destroyed before the receiver
    // (declared earlier): end it now.
    rx.reset();
    std::cerr << "\namimo-bs: error: " << e.what() << "\n";
    return 1;
  }
  if (live) std::fputs("\r\033[K", stderr);
  summary.wall_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  summary.source_seconds = synthetic != nullptr ? synthetic->generation_seconds() : 0.0;
  summary.radio = source->events();
  if (decoder) {
    summary.coded = &decoder->stats();
    // A payload directory that broke during the run (removed, made unwritable) loses the
    // payload files, not the run's results: bs.json and bs.csv are still written, they and
    // the table say so, and the status is 3 (an output file that cannot be written). It
    // used to return 3 here with no report at all.
    try {
      if (payload_out) summary.payload_lines = payload_out->finish();
    } catch (const std::exception& e) {
      summary.payload_error = e.what();
      std::cerr << "amimo-bs: payload output: " << e.what() << "\n";
    }
  }
  std::fputs(pipeline::summary_table(rx->stats(), config, summary).c_str(), stdout);
  try {
    pipeline::write_bs_report(config.out, config, rx->stats(), summary);
  } catch (const std::exception& e) {
    std::cerr << "amimo-bs: " << e.what() << "\n";
    return 3;
  }
  // A remote backend that fell back is never silent.
  if (const std::string warning = remote::remote_fallback_warning(); !warning.empty()) {
    std::cerr << "amimo-bs: " << warning << "\n";
  }
  std::printf("# Wrote %s/bs.json, bs.csv\n", config.out.c_str());
  if (!summary.payload_error.empty()) return 3;
  return summary.stop_reason == "interrupted" ? 130 : 0;
}
