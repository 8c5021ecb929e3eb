// BER of the streaming uplink (amimo-bs's receiver fed by the synthetic emulator, in one
// process) under a TDL channel moving at several speeds, at one SNR, for two pilot layouts:
// front pilots only (one estimate per frame, outdated by the time since the pilots) and
// pilot groups spread through the frame (additional_pilots, numerology.h) with the channel
// interpolated in time per data symbol (time_interpolation, channel_estimator.h). Writes
// speed.csv, speed.md (table) and speed.png (BER vs speed, measured, one curve per layout)
// into --out, and prints the table.
//
//   build/bench/ber_vs_speed                          TDL-C 300 ns at 3.5 GHz, 16x4 16-QAM,
//                                                     0/30/120/300/500 km/h, Es/N0 25 dB,
//                                                     spread: 2 additional groups, linear
//   build/bench/ber_vs_speed --frames 50 --snr 30 --speeds 0,60,250 --additional-pilots 3
//
// Next to each measured BER the table gives the modelled mean-square error of the estimate
// the detector uses, per channel entry (power 1, noise-free estimates): with R(τ) =
// J0(2π f_D τ) and Ĥ(t) = (1 − w) H(t_a) + w H(t_b) (time_segments()),
// E|H(t) − Ĥ(t)|² = 1 + (1 − w)² + w² − 2(1 − w) R(t − t_a) − 2w R(t_b − t) + 2w(1 − w) R(t_b − t_a),
// averaged over the data symbols (2(1 − R(t − t_a)) for the front layout), which sets the
// error floor.

#include <amimo/core/error.h>
#include <amimo/pipeline/channel_estimator.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/pipeline/synthetic_source.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <channel_models/tdl_models.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

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

struct layout_result {
  std::uint64_t bits = 0;
  std::uint64_t errors = 0;
  double ber = 0.0;
  double modelled_mse_db = 0.0;
};

struct point {
  double speed_kmh = 0.0;
  double doppler_hz = 0.0;
  layout_result front;
  layout_result spread;
};

/// Modelled MSE of the per-data-symbol estimate (header comment), in dB.
double modelled_mse_db(const ofdm::numerology& n, pipeline::time_interpolation t, double doppler_hz,
                       bool block_fading) {
  const double ts = n.symbol_length() / n.sample_rate;
  const auto r = [&](double symbols) {
    return block_fading ? 1.0 : std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * doppler_hz * symbols * ts);
  };
  const auto centre = [&](int g) { return n.pilot_group_symbol(g) + 0.5 * (n.pilot_symbols - 1); };
  double mse = 0.0;
  for (const auto& seg : pipeline::time_segments(n, t)) {
    const double w = seg.weight_after;
    const double ta = centre(seg.group_before);
    const double tb = centre(seg.group_after);
    for (int d = seg.first_data; d < seg.first_data + seg.data_count; ++d) {
      const double at = n.data_symbol_index(d);
      mse += 1.0 + (1.0 - w) * (1.0 - w) + w * w - 2.0 * (1.0 - w) * r(std::abs(at - ta)) -
             2.0 * w * r(std::abs(tb - at)) + 2.0 * w * (1.0 - w) * r(std::abs(tb - ta));
    }
  }
  mse /= n.data_symbols;
  return mse > 1e-15 ? 10.0 * std::log10(mse) : -INFINITY;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ber_vs_speed: streaming-uplink BER vs user speed under a moving TDL channel"};
  std::string speeds = "0,30,120,300,500", model = "tdl-c", out = "results/speed", time = "symbol";
  std::string interpolation = "linear";
  double snr = 25.0, fc = 3.5e9, ds = 300e-9;
  std::uint64_t frames = 60, seed = 1;
  int additional = 2;
  app.add_option("--speeds", speeds, "user speeds, km/h, comma-separated")->capture_default_str();
  app.add_option("--channel", model, "tdl-a … tdl-e | cdl-a … cdl-e")->capture_default_str();
  app.add_option("--delay-spread", ds, "delay spread (s)")->capture_default_str();
  app.add_option("--snr", snr, "Es/N0 (dB)")->capture_default_str();
  app.add_option("--center-frequency", fc, "carrier (Hz)")->capture_default_str();
  app.add_option("--frames", frames, "frames per speed")->capture_default_str();
  app.add_option("--channel-time", time, "symbol | frame")->capture_default_str();
  app.add_option("--seed", seed, "seed")->capture_default_str();
  app.add_option("--additional-pilots", additional, "pilot groups among the data for the second curve")
      ->capture_default_str();
  app.add_option("--interpolation", interpolation, "hold | linear: the second curve's channel in time")
      ->capture_default_str();
  app.add_option("--out", out, "output folder")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::vector<point> points;
  std::string header;
  ofdm::numerology spread_layout;
  try {
    std::filesystem::create_directories(out);
    for (const double v : parse_list(speeds)) {
      point p;
      p.speed_kmh = v;
      for (const bool spread : {false, true}) {
        std::ostringstream fmt_ds, fmt_fc;
        fmt_ds << ds;
        fmt_fc << fc;
        const auto config = pipeline::parse_link_config(
            pipeline::embedded_link_config(),
            {{"channel", model}, {"delay_spread", fmt_ds.str()}, {"speed_kmh", fmt::format("{}", v)},
             {"center_frequency", fmt_fc.str()}, {"snr_db", fmt::format("{}", snr)}, {"solver", "digital-f32"},
             {"detector", "mmse"}, {"frames", std::to_string(frames)}, {"seed", std::to_string(seed)},
             {"channel_time", time}, {"threads", "1"}, {"additional_pilots", spread ? std::to_string(additional) : "0"},
             {"time_interpolation", interpolation}});
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
        layout_result& r = spread ? p.spread : p.front;
        p.doppler_hz = config.channel.doppler_hz;
        r.bits = rx.stats().chains.at(0).bits;
        r.errors = rx.stats().chains.at(0).bit_errors;
        r.ber = rx.stats().chains.at(0).ber();
        r.modelled_mse_db =
            modelled_mse_db(config.rx.layout, config.rx.interpolation, p.doppler_hz, time == "frame");
        if (spread) spread_layout = config.rx.layout;
        std::cerr << fmt::format("speed {:g} km/h, {}: BER {:.3e} ({} errors / {} bits)\n", v,
                                 spread ? "spread pilots" : "front pilots", r.ber, r.errors, r.bits);
      }
      points.push_back(p);
    }
  } catch (const config_error& e) {
    std::cerr << "ber_vs_speed: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ber_vs_speed: " << e.what() << "\n";
    return 3;
  }

  std::vector<int> groups;
  for (int g = 0; g < spread_layout.pilot_groups(); ++g) groups.push_back(spread_layout.pilot_group_symbol(g));
  const std::string spread_name = fmt::format("{} pilot groups (frame symbols {}), {} in time",
                                              spread_layout.pilot_groups(), fmt::join(groups, ", "), interpolation);
  std::string csv =
      "speed_kmh,doppler_hz,front_bits,front_bit_errors,front_ber,front_modelled_estimate_mse_db,spread_bits,"
      "spread_bit_errors,spread_ber,spread_modelled_estimate_mse_db\n";
  std::string md = fmt::format(
      "Channel: {}; Es/N0 {:g} dB, {} frames per speed and layout, seed {}, MMSE digital-f32. Front: the pilot "
      "symbol at the frame start, one estimate per frame (14 symbols per frame). Spread: {} ({} symbols per "
      "frame).\n\n",
      header, snr, frames, seed, spread_name, spread_layout.symbols_per_frame());
  md += "| speed (km/h) | f_D (Hz) | BER front (measured) | BER spread (measured) | bit errors / bits, front | "
        "bit errors / bits, spread | estimate MSE front / spread (modelled, dB) |\n";
  md += "|---|---|---|---|---|---|---|\n";
  report::plot_spec spec;
  spec.title = fmt::format("{} {:g} ns, {:g} GHz, {:g} dB: BER vs speed", model, ds * 1e9, fc / 1e9, snr);
  spec.x_label = "user speed (km/h)";
  spec.y_label = "BER (measured)";
  spec.log_y = true;
  report::plot_series front_series;
  front_series.label = "MMSE, front pilots (one estimate per frame)";
  report::plot_series spread_series;
  spread_series.label = fmt::format("MMSE, {} pilot groups, {} in time", spread_layout.pilot_groups(), interpolation);
  for (const auto& p : points) {
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", p.speed_kmh, p.doppler_hz, p.front.bits, p.front.errors,
                       p.front.ber, p.front.modelled_mse_db, p.spread.bits, p.spread.errors, p.spread.ber,
                       p.spread.modelled_mse_db);
    md += fmt::format("| {:g} | {:.1f} | {:.2e} | {:.2e} | {} / {} | {} / {} | {:.1f} / {:.1f} |\n", p.speed_kmh,
                      p.doppler_hz, p.front.ber, p.spread.ber, p.front.errors, p.front.bits, p.spread.errors,
                      p.spread.bits, p.front.modelled_mse_db, p.spread.modelled_mse_db);
    // A log axis cannot show BER 0: such points are left out (the table has them).
    if (p.front.ber > 0.0) {
      front_series.x.push_back(p.speed_kmh);
      front_series.y.push_back(p.front.ber);
    }
    if (p.spread.ber > 0.0) {
      spread_series.x.push_back(p.speed_kmh);
      spread_series.y.push_back(p.spread.ber);
    }
  }
  spec.series.push_back(front_series);
  spec.series.push_back(spread_series);
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
