// BER of the streaming uplink (amimo-bs's receiver fed by the synthetic emulator, in one
// process) under a TDL channel moving at several speeds, at one SNR: how the once-per-frame
// pilot estimate degrades as the channel moves within the frame. Writes speed.csv,
// speed.md (table) and speed.png (BER vs speed, measured) into --out, and prints the table.
//
//   build/bench/ber_vs_speed                          TDL-C 300 ns at 3.5 GHz, 16x4 16-QAM,
//                                                     0/30/120/300/500 km/h, Es/N0 25 dB
//   build/bench/ber_vs_speed --frames 50 --snr 30 --speeds 0,60,250
//
// Next to each measured BER the table gives the modelled mean-square error of the outdated
// estimate, 2(1 − J0(2π f_D Δt)) averaged over the data symbols (Δt from the middle of the
// pilot symbols; channel power 1), which sets the error floor.

#include <amimo/core/error.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/pipeline/synthetic_source.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <channel_models/tdl_models.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace amimo;

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> v;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) v.push_back(std::stod(item));
  return v;
}

struct point {
  double speed_kmh = 0.0;
  double doppler_hz = 0.0;
  std::uint64_t bits = 0;
  std::uint64_t errors = 0;
  double ber = 0.0;
  double modelled_mse_db = 0.0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ber_vs_speed: streaming-uplink BER vs user speed under a moving TDL channel"};
  std::string speeds = "0,30,120,300,500", model = "tdl-c", out = "results/speed", time = "symbol";
  double snr = 25.0, fc = 3.5e9, ds = 300e-9;
  std::uint64_t frames = 60, seed = 1;
  app.add_option("--speeds", speeds, "user speeds, km/h, comma-separated")->capture_default_str();
  app.add_option("--channel", model, "tdl-a … tdl-e | cdl-a … cdl-e")->capture_default_str();
  app.add_option("--delay-spread", ds, "delay spread (s)")->capture_default_str();
  app.add_option("--snr", snr, "Es/N0 (dB)")->capture_default_str();
  app.add_option("--center-frequency", fc, "carrier (Hz)")->capture_default_str();
  app.add_option("--frames", frames, "frames per speed")->capture_default_str();
  app.add_option("--channel-time", time, "symbol | frame")->capture_default_str();
  app.add_option("--seed", seed, "seed")->capture_default_str();
  app.add_option("--out", out, "output folder")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::vector<point> points;
  std::string header;
  try {
    std::filesystem::create_directories(out);
    for (const double v : parse_list(speeds)) {
      std::ostringstream fmt_ds, fmt_fc;
      fmt_ds << ds;
      fmt_fc << fc;
      const auto config = pipeline::parse_link_config(
          pipeline::embedded_link_config(),
          {{"channel", model}, {"delay_spread", fmt_ds.str()}, {"speed_kmh", fmt::format("{}", v)},
           {"center_frequency", fmt_fc.str()}, {"snr_db", fmt::format("{}", snr)}, {"solver", "digital-f32"},
           {"detector", "mmse"}, {"frames", std::to_string(frames)}, {"seed", std::to_string(seed)},
           {"channel_time", time}, {"threads", "1"}});
      pipeline::receiver rx(config.rx);
      pipeline::synthetic_source source(rx.layout(), channel_models::create_selective_channel_model(config.channel),
                                        config.snr_db, config.rx.seed,
                                        ofdm::user_impairments{config.cfo_hz, config.timing_offsets}, config.frames,
                                        config.emulator_options());
      header = channel_models::describe(config.channel) + " (the last row's Doppler; each row its own)";
      for (;;) {
        std::size_t room = 1U << 15U;
        auto ptrs = rx.input(room);
        const auto got = source.read(ptrs, room, std::chrono::milliseconds(100));
        if (got.count > 0) rx.commit(got.count);
        if (rx.stats().frames >= frames) break;
        if (got.status == radio::read_status::end_of_stream) {
          rx.finish();
          break;
        }
      }
      point p;
      p.speed_kmh = v;
      p.doppler_hz = config.channel.doppler_hz;
      p.bits = rx.stats().chains.at(0).bits;
      p.errors = rx.stats().chains.at(0).bit_errors;
      p.ber = rx.stats().chains.at(0).ber();
      // Modelled: mean over data symbols of 2(1 − J0(2π f_D Δt)), Δt from the pilots' centre.
      const auto& n = config.rx.layout;
      const double ts = n.symbol_length() / n.sample_rate;
      const double pilot_centre = 1.0 + (n.pilot_symbols - 1) / 2.0;
      double mse = 0.0;
      for (int d = 0; d < n.data_symbols; ++d) {
        const double dt = (1.0 + n.pilot_symbols + d - pilot_centre) * ts;
        const double step = time == "frame" ? 0.0 : dt;  // block fading: no change within a frame
        mse += 2.0 * (1.0 - std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * p.doppler_hz * step));
      }
      mse /= n.data_symbols;
      p.modelled_mse_db = mse > 0.0 ? 10.0 * std::log10(mse) : -INFINITY;
      points.push_back(p);
      std::cerr << fmt::format("speed {:g} km/h: BER {:.3e} ({} errors / {} bits)\n", v, p.ber, p.errors, p.bits);
    }
  } catch (const config_error& e) {
    std::cerr << "ber_vs_speed: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ber_vs_speed: " << e.what() << "\n";
    return 3;
  }

  std::string csv = "speed_kmh,doppler_hz,bits,bit_errors,ber,modelled_estimate_mse_db\n";
  std::string md = fmt::format("Channel: {}; Es/N0 {:g} dB, {} frames per speed, seed {}, estimator: once per frame on "
                               "the pilot symbols (no time interpolation).\n\n",
                               header, snr, frames, seed);
  md += "| speed (km/h) | f_D (Hz) | BER (measured) | bit errors / bits | outdated-estimate MSE (modelled, dB) |\n";
  md += "|---|---|---|---|---|\n";
  report::plot_spec spec;
  spec.title = fmt::format("{} {:g} ns, {:g} GHz, {:g} dB: BER vs speed", model, ds * 1e9, fc / 1e9, snr);
  spec.x_label = "user speed (km/h)";
  spec.y_label = "BER (measured)";
  spec.log_y = true;
  report::plot_series s;
  s.label = "MMSE, pilots once per frame";
  for (const auto& p : points) {
    csv += fmt::format("{},{},{},{},{},{}\n", p.speed_kmh, p.doppler_hz, p.bits, p.errors, p.ber, p.modelled_mse_db);
    md += fmt::format("| {:g} | {:.1f} | {:.2e} | {} / {} | {:.1f} |\n", p.speed_kmh, p.doppler_hz, p.ber, p.errors,
                      p.bits, p.modelled_mse_db);
    if (p.ber > 0.0) {
      s.x.push_back(p.speed_kmh);
      s.y.push_back(p.ber);
    }
  }
  spec.series.push_back(s);
  try {
    report::write_file_atomically(std::filesystem::path(out) / "speed.csv", csv);
    report::write_file_atomically(std::filesystem::path(out) / "speed.md", md);
    report::write_line_plot_png(std::filesystem::path(out) / "speed.png", spec);
  } catch (const std::exception& e) {
    std::cerr << "ber_vs_speed: " << e.what() << "\n";
    return 3;
  }
  std::cout << md;
  return 0;
}
