// amimo-image: sends an image through a massive-MIMO uplink and shows how each solver
// backend recovers it (the image-transmission recovery demo, lib/amimo/demo/).

#include <amimo/core/error.h>
#include <amimo/core/stop_signals.h>
#include <amimo/core/version.h>
#include <amimo/demo/image_link.h>
#include <amimo/demo/image_output.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <optional>

int main(int argc, char** argv) {
  using namespace amimo;
  CLI::App app{"amimo-image: send an image through a massive-MIMO uplink and recover it with each solver backend"};
  app.set_version_flag("--version", std::string(version_string));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::string input;
  int test_size = 128;
  int antennas = 16, users = 4, vectors = 16;
  std::string modulation = "qam16", detector = "zf", mode = "per-vector", channel = "rayleigh";
  double rho_bs = 0.0, rho_ue = 0.0, snr = 20.0;
  std::string solvers = "digital-f32,analog:iters=1,analog:iters=2,analog:iters=3,analog-lp";
  std::uint64_t seed = 1;
  std::string out = "results/image";
  std::string coding = "none";
  double code_rate = 0.5, ldpc_alpha = 0.75;
  int ldpc_iters = 10;

  app.add_option("--input,-i", input, "PNG image to send (default: the embedded test image)");
  app.add_option("--test-image-size", test_size, "side of the embedded test image in pixels (16..1024)")
      ->capture_default_str();
  app.add_option("--antennas,-N", antennas, "receive antennas N")->capture_default_str();
  app.add_option("--users,-K", users, "users K")->capture_default_str();
  app.add_option("--modulation", modulation, "bpsk | qpsk | qam16 | qam64 | qam256")->capture_default_str();
  app.add_option("--detector", detector, "zf | mmse")->capture_default_str();
  app.add_option("--mode", mode, "per-vector | per-block")->capture_default_str();
  app.add_option("--channel", channel, "rayleigh | kronecker | awgn | cdl-a … cdl-e")->capture_default_str();
  channel_models::cdl_geometry cdl;
  app.add_option("--array-rows", cdl.array_rows, "CDL: BS array rows (1: ULA; else a UPA)")->capture_default_str();
  app.add_option("--element-spacing", cdl.element_spacing, "CDL: BS element spacing (wavelengths)")->capture_default_str();
  app.add_option("--asd", cdl.asd_deg, "CDL: desired azimuth spread at the BS (deg; 0: the table's)");
  app.add_option("--rho-bs", rho_bs, "Kronecker: BS-side correlation coefficient in [0, 1)");
  app.add_option("--rho-ue", rho_ue, "Kronecker: user-side correlation coefficient in [0, 1)");
  app.add_option("--snr", snr, "Es/N0 in dB")->capture_default_str();
  app.add_option("--solver", solvers,
                 "backends, comma-separated, each name[:key=value[:key=value]], e.g. "
                 "digital-f32,analog:iters=2,analog:iters=3:profile=ideal,analog-lp")
      ->capture_default_str();
  app.add_option("--vectors-per-channel", vectors, "received vectors per channel realisation")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--coding", coding, "none | ldpc: send the image bits as 5G NR LDPC transport blocks")
      ->capture_default_str();
  app.add_option("--code-rate", code_rate, "coding ldpc: target code rate in (0, 1)")->capture_default_str();
  app.add_option("--ldpc-iters", ldpc_iters, "coding ldpc: decoder iterations (max)")->capture_default_str();
  app.add_option("--ldpc-alpha", ldpc_alpha, "coding ldpc: min-sum normalisation in (0, 1]")->capture_default_str();
  app.add_option("--out", out, "output directory")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  const std::string command_line = report::command_line(argc, argv);
  demo::image_link_config config;
  demo::image_run_info info;
  std::optional<report::rgb_image> image;
  demo::image_link_result plan;
  try {
    config.antennas = antennas;
    config.users = users;
    config.modulation = modem::parse_modulation(modulation);
    config.detector = detect::parse_detector_kind(detector);
    config.mode = detect::parse_detection_mode(mode);
    config.channel = channel;
    config.rho_bs = rho_bs;
    config.rho_ue = rho_ue;
    config.cdl = cdl;
    config.snr_db = snr;
    config.vectors_per_channel = vectors;
    config.seed = seed;
    config.coding = coding;
    config.code_rate = code_rate;
    config.ldpc_iterations = ldpc_iters;
    config.ldpc_alpha = ldpc_alpha;
    config.backends = demo::parse_backend_list(solvers);
    demo::validate(config);
    if (input.empty()) {
      if (test_size < 16 || test_size > 1024) throw config_error("--test-image-size must be in 16..1024");
      image = demo::default_test_image(test_size, test_size);
      info.input = fmt::format("(embedded default test image, {}x{})", test_size, test_size);
    } else {
      // The demo's pixel cap is checked on the PNG header, before anything is decoded.
      image = report::read_png(input, static_cast<std::size_t>(demo::max_image_pixels));
      info.input = input;
    }
    plan = demo::plan_image_link(*image, config);
    info.command_line = command_line;
    info.out = out;
    report::ensure_writable_directory(info.out);
  } catch (const config_error& e) {
    std::cerr << "amimo-image: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << "amimo-image: " << e.what() << "\n";
    return 3;
  }

  std::fputs(demo::parameter_header(config, info, plan).c_str(), stdout);
  std::fflush(stdout);
  try {
    // Once the header is out, SIGINT/SIGTERM end the run after the current channel block; what
    // was received is written (status 130).
    const std::atomic<bool>& stop = install_stop_handlers();
    const demo::image_link_result result = demo::run_image_link(*image, config, &stop);
    std::fputs(demo::result_table(result).c_str(), stdout);
    demo::write_outputs(*image, config, info, result);
    std::printf("# Wrote %s/original.png, recovered-*.png (%zu), mosaic.png, image.csv, image.json%s\n",
                info.out.c_str(), result.backends.size(), result.interrupted ? " (run interrupted: partial results)" : "");
    if (result.interrupted) return 130;
  } catch (const config_error& e) {
    std::cerr << "amimo-image: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << "amimo-image: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "amimo-image: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
