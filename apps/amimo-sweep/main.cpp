// amimo-sweep: link-level BER-vs-SNR sweeps of linear MIMO detection over solver backends.

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/stop_signals.h>
#include <amimo/core/version.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>
#include <amimo/sweep/sweep_output.h>
#include <amimo/sweep/sweep_runner.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <unistd.h>

namespace {

amimo::sweep::sweep_control g_control;
std::atomic<long long> g_last_interrupt_ms{-1000000};

long long monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Ctrl-C ends the current point (what it measured is kept); a second Ctrl-C within a
// second, or SIGTERM, ends the run. Either way the files are still written.
extern "C" void on_signal(int signal_number) {
  if (signal_number == SIGINT) {
    const long long now = monotonic_ms();
    if (now - g_last_interrupt_ms.exchange(now) < 1000) g_control.stop_run = true;
    g_control.skip_point = true;
  } else {
    g_control.stop_run = true;
  }
}

std::string read_text_file(const std::string& path) {
  return amimo::read_bounded_file(path, amimo::max_config_file_bytes, "config file");
}

class terminal_observer final : public amimo::sweep::sweep_observer {
 public:
  terminal_observer(bool live, const amimo::sweep::sweep_config& config) : live_(live), config_(config) {}
  void on_progress(const amimo::sweep::point_result& partial) override {
    if (!live_) return;
    std::fprintf(stderr, "\r\033[K%s", amimo::sweep::progress_line(partial).c_str());
    std::fflush(stderr);
  }
  void on_point_done(const amimo::sweep::point_result& point) override {
    if (live_) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    std::fputs(amimo::sweep::table_rows(point, config_).c_str(), stdout);
    if (point.stop_reason == "interrupted") std::fputs("# (point interrupted: partial statistics)\n", stdout);
    std::fflush(stdout);
  }

 private:
  bool live_;
  const amimo::sweep::sweep_config& config_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace amimo;
  CLI::App app{"amimo-sweep: BER-vs-SNR sweeps of ZF/MMSE MIMO detection over solver backends"};
  app.set_version_flag("--version", std::string(version_string));

  // A repeated option takes its last value, so a flag appended to a command overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string config_path;
  int antennas = 0, users = 0, threads = 0, vectors = 0;
  std::string modulation, detector, solvers, channel, snr, out, mode;
  double rho_bs = 0.0, rho_ue = 0.0, max_seconds = 0.0, max_bits = 0.0;
  std::uint64_t min_errors = 0, min_error_frames = 0, seed = 0;
  std::string progress = "auto";

  app.add_option("--config", config_path, "YAML configuration (default: the embedded configs/sweep-default.yaml)");
  auto* o_antennas = app.add_option("--antennas,-N", antennas, "receive antennas N");
  auto* o_users = app.add_option("--users,-K", users, "users K");
  auto* o_mod = app.add_option("--modulation", modulation, "bpsk | qpsk | qam16 | qam64 | qam256");
  auto* o_det = app.add_option("--detector", detector, "zf | mmse, or a comma-separated list");
  auto* o_mode = app.add_option("--mode", mode, "per-vector | per-block");
  auto* o_solver = app.add_option("--solver", solvers, "solver backend(s), comma-separated: digital-f64, digital-f32, analog, analog-lp, "
                                   "remote:tcp://HOST:PORT (amimo-solverd)");
  std::string analog_profile, analog_iters, analog_tol, analog_array;
  std::string remote_backend, remote_timeout, remote_retries;
  auto* o_rbackend = app.add_option("--remote-backend", remote_backend,
                                    "remote solvers: backend the service runs (default digital-f64)");
  auto* o_rtimeout = app.add_option("--remote-timeout-ms", remote_timeout, "remote solvers: timeout per request (ms)");
  auto* o_rretries = app.add_option("--remote-retries", remote_retries, "remote solvers: retries before the local fallback");
  auto* o_aprofile = app.add_option("--analog-profile", analog_profile,
                                    "analog backends: feedback-board (default) | paper-board | projected | feedback-projected | ideal | path to a profile YAML");
  auto* o_aiters = app.add_option("--analog-iters", analog_iters, "analog backends: refinement iterations (LP-INV solves)");
  auto* o_atol = app.add_option("--analog-tol", analog_tol, "analog backends: stop at this relative residual (0: fixed iterations)");
  auto* o_aarray = app.add_option("--analog-array", analog_array, "analog backends: array size (BlockAMC above it)");
  auto* o_channel = app.add_option("--channel", channel,
                                   "rayleigh | kronecker | awgn | cdl-a … cdl-e (a fresh CDL realisation per draw)");
  channel_models::cdl_geometry cdl;
  auto* o_rows = app.add_option("--array-rows", cdl.array_rows, "CDL: BS array rows (1: ULA; else a UPA)");
  auto* o_spacing = app.add_option("--element-spacing", cdl.element_spacing, "CDL: BS element spacing (wavelengths)");
  auto* o_asd = app.add_option("--asd", cdl.asd_deg, "CDL: desired azimuth spread at the BS (deg; 38.901 §7.7.5.1)");
  auto* o_rho_bs = app.add_option("--rho-bs", rho_bs, "Kronecker: BS-side correlation coefficient in [0, 1)");
  auto* o_rho_ue = app.add_option("--rho-ue", rho_ue, "Kronecker: user-side correlation coefficient in [0, 1)");
  auto* o_snr = app.add_option("--snr", snr, "Es/N0 in dB: a:step:b or a,b,c");
  auto* o_vectors = app.add_option("--vectors-per-channel", vectors, "received vectors per channel realisation");
  auto* o_min_errors = app.add_option("--min-errors", min_errors, "stop a point at this many bit errors (every curve)");
  auto* o_min_error_frames =
      app.add_option("--min-error-frames", min_error_frames, "... held in at least this many frames (default 30)");
  auto* o_max_bits = app.add_option("--max-bits", max_bits, "stop a point at this many bits per curve");
  auto* o_max_seconds = app.add_option("--max-seconds", max_seconds, "stop a point after this wall time (s)");
  std::string coding;
  double code_rate = 0.0, ldpc_alpha = 0.0;
  int tb_bits = 0, ldpc_iters = 0;
  std::uint64_t min_block_errors = 0, max_blocks = 0;
  auto* o_coding = app.add_option("--coding", coding, "none | ldpc: one 5G NR LDPC transport block per user and frame");
  auto* o_code_rate = app.add_option("--code-rate", code_rate, "coding ldpc: target code rate R in (0, 1)");
  auto* o_tb_bits = app.add_option("--tb-bits", tb_bits,
                                   "coding ldpc: transport block size A (default: the 38.214 TBS for G and R)");
  auto* o_ldpc_iters = app.add_option("--ldpc-iters", ldpc_iters, "coding ldpc: decoder iterations (max, early termination)");
  auto* o_ldpc_alpha = app.add_option("--ldpc-alpha", ldpc_alpha, "coding ldpc: min-sum normalisation in (0, 1]");
  auto* o_min_block_errors = app.add_option("--min-block-errors", min_block_errors,
                                            "coding ldpc: stop a point at this many block errors (every curve)");
  auto* o_max_blocks = app.add_option("--max-blocks", max_blocks, "coding ldpc: stop a point at this many blocks per curve");
  auto* o_seed = app.add_option("--seed", seed, "random seed");
  auto* o_threads = app.add_option("--threads", threads, "worker threads (0: one per core)");
  auto* o_out = app.add_option("--out", out, "output directory for ber.csv, ber.json, ber.png");
  app.add_option("--progress", progress, "live progress line on stderr: auto | on | off")
      ->check(CLI::IsMember({"auto", "on", "off"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help/--version: 0; a bad command line: 2 (README)
  }

  const std::string command_line = report::command_line(argc, argv);

  sweep::sweep_config config;
  try {
    const std::string yaml = config_path.empty() ? std::string(sweep::embedded_default_config())
                                                 : read_text_file(config_path);
    config = sweep::parse_sweep_yaml(yaml);
    if (*o_antennas) config.antennas = antennas;
    if (*o_users) config.users = users;
    if (*o_mod) config.modulation = modem::parse_modulation(modulation);
    if (*o_det) config.detectors = sweep::parse_detector_list(detector);
    if (*o_mode) config.mode = detect::parse_detection_mode(mode);
    if (*o_solver) config.solvers = sweep::parse_solver_list(solvers);
    if (*o_aprofile) config.analog_options["profile"] = analog_profile;
    if (*o_aiters) config.analog_options["iters"] = analog_iters;
    if (*o_atol) config.analog_options["tol"] = analog_tol;
    if (*o_aarray) config.analog_options["array"] = analog_array;
    if (*o_rbackend) config.remote_options["backend"] = remote_backend;
    if (*o_rtimeout) config.remote_options["timeout-ms"] = remote_timeout;
    if (*o_rretries) config.remote_options["retries"] = remote_retries;
    if (*o_channel) config.channel = channel;
    if (*o_rho_bs) config.rho_bs = rho_bs;
    if (*o_rows) config.cdl.array_rows = cdl.array_rows;
    if (*o_spacing) config.cdl.element_spacing = cdl.element_spacing;
    if (*o_asd) config.cdl.asd_deg = cdl.asd_deg;
    if (*o_rho_ue) config.rho_ue = rho_ue;
    if (*o_snr) config.snr_db = sweep::parse_snr_list(snr);
    if (*o_vectors) config.vectors_per_channel = vectors;
    if (*o_min_errors) config.min_errors = min_errors;
    if (*o_min_error_frames) config.min_error_frames = min_error_frames;
    if (*o_max_bits) {
      if (!(max_bits >= 1.0) || max_bits > 1e15) throw config_error("--max-bits must be in 1..1e15");
      config.max_bits = static_cast<std::uint64_t>(max_bits);
    }
    if (*o_max_seconds) config.max_seconds = max_seconds;
    if (*o_coding) config.coding = coding;
    if (*o_code_rate) config.code_rate = code_rate;
    if (*o_tb_bits) config.tb_bits = tb_bits;
    if (*o_ldpc_iters) config.ldpc_iterations = ldpc_iters;
    if (*o_ldpc_alpha) config.ldpc_alpha = ldpc_alpha;
    if (*o_min_block_errors) config.min_block_errors = min_block_errors;
    if (*o_max_blocks) config.max_blocks = max_blocks;
    if (*o_seed) config.seed = seed;
    if (*o_threads) config.threads = threads;
    if (*o_out) config.out = out;
    sweep::validate(config);
    report::ensure_writable_directory(config.out);
  } catch (const config_error& e) {
    std::cerr << "amimo-sweep: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << "amimo-sweep: " << e.what() << "\n";
    return 3;
  }

  const bool live = progress == "on" || (progress == "auto" && isatty(STDERR_FILENO) != 0);
  // The handlers first: once the header is out, a signal is the run's to handle (scripts
  // wait for the header before they signal).
  amimo::install_stop_signal_handler(on_signal);
  std::fputs(sweep::parameter_header(config, command_line).c_str(), stdout);
  std::fputs(sweep::table_header(config).c_str(), stdout);
  std::fflush(stdout);
  terminal_observer observer(live, config);
  sweep::sweep_result result;
  try {
    result = sweep::run_sweep(config, observer, g_control);
    sweep::write_outputs(config.out, config, command_line, result);
  } catch (const io_error& e) {
    std::cerr << "amimo-sweep: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "amimo-sweep: error: " << e.what() << "\n";
    return 1;
  }
  // A remote backend that fell back is never silent (the fallbacks column counts them too).
  if (const std::string warning = remote::remote_fallback_warning(); !warning.empty()) {
    std::cerr << "amimo-sweep: " << warning << "\n";
  }
  if (!result.skipped_snr_db.empty()) {
    std::string list;
    for (const double skipped : result.skipped_snr_db) list += (list.empty() ? "" : ",") + fmt::format("{:g}", skipped);
    std::printf("# Not run: Es/N0 %s dB (every curve error-free at the bit/block cap at a lower Es/N0)\n", list.c_str());
  }
  std::printf("# Wrote %s/ber.csv, ber.json, ber.png%s\n", config.out.c_str(),
              result.interrupted ? " (run interrupted: partial results)" : "");
  return result.interrupted ? 130 : 0;
}
