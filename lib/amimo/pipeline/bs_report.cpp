#include <amimo/pipeline/bs_report.h>

#include <amimo/pipeline/channel_estimator.h>

#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/core/version.h>
#include <amimo/metrics/error_stats.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/report/atomic_file.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <filesystem>

namespace amimo::pipeline {
namespace {

nlohmann::json cdl_json(const channel_models::cdl_geometry& g) {
  nlohmann::json j;
  for (const auto& [key, value] : channel_models::cdl_geometry_fields(g)) j[key] = value;
  return j;
}

/// Frame symbol where each pilot group starts (numerology.h).
std::vector<int> pilot_group_symbols(const ofdm::numerology& n) {
  std::vector<int> at;
  for (int g = 0; g < n.pilot_groups(); ++g) at.push_back(n.pilot_group_symbol(g));
  return at;
}

std::string pilot_layout_text(const ofdm::numerology& n, time_interpolation t) {
  if (n.additional_pilots == 0)
    return "front (pilot symbols at the frame start; every data symbol detected with that estimate)";
  return fmt::format("spread: {} groups of {} pilot symbols at frame symbols {}; channel per data symbol by {} "
                     "interpolation in time",
                     n.pilot_groups(), n.pilot_symbols, fmt::join(pilot_group_symbols(n), ", "), to_string(t));
}

double stream_seconds(const receiver_stats& s, const link_config& c) {
  return static_cast<double>(s.samples) / c.rx.layout.sample_rate;
}

std::string solver_list(const link_config& c) {
  std::string text;
  for (const auto& ch : c.rx.chains) {
    text += (text.empty() ? "" : ", ") + ch.label();
    if (!ch.solver.options.empty()) {
      text += " (";
      bool first = true;
      for (const auto& [k, v] : ch.solver.options) {
        text += fmt::format("{}{}={}", first ? "" : " ", k, v);
        first = false;
      }
      text += ")";
    }
  }
  return text;
}

/// Mbit/s of CRC-passing payload bits over the stream's signal time (measured).
double goodput_mbps(const payload::coded_user_stats& u, const receiver_stats& s, const link_config& c) {
  const double t = stream_seconds(s, c);
  return t > 0.0 ? static_cast<double>(u.payload_bytes) * 8.0 / t / 1e6 : 0.0;
}

std::string coded_table(const receiver_stats& s, const link_config& c, const run_summary& r) {
  std::string t;
  const auto& cfg = c.coding;
  t += fmt::format("# coded link: 5G NR LDPC, one transport block per user and frame, code rate {} (target), "
                   "layered min-sum ≤ {} iterations; payload output: chain {} ({})\n",
                   cfg.code_rate, cfg.ldpc_iterations, cfg.payload_chain,
                   cfg.payload_chain < static_cast<int>(s.chains.size()) ? s.chains[static_cast<std::size_t>(cfg.payload_chain)].label
                                                                         : std::string("?"));
  t += fmt::format("# {:<22} {:>5} {:>7} {:>7} {:>10} {:>21} {:>12} {:>8} {:>12}\n", "chain", "user", "blocks",
                   "errors", "BLER", "BLER 95% CI", "goodput", "LDPC it", "uncoded BER");
  t += fmt::format("# {:<22} {:>5} {:>7} {:>7} {:>10} {:>21} {:>12} {:>8} {:>12}\n", "", "", "measured", "measured",
                   "measured", "measured", "Mbit/s meas", "mean", "CRC-ok blks");
  for (const auto& ch : *r.coded) {
    for (int k = -1; k < static_cast<int>(ch.users.size()); ++k) {
      const auto u = k < 0 ? ch.total() : ch.users[static_cast<std::size_t>(k)];
      const auto ci = metrics::wilson_interval(static_cast<double>(u.block_errors + u.malformed), static_cast<double>(u.blocks));
      t += fmt::format("  {:<22} {:>5} {:>7} {:>7} {:>10.3e} [{:.2e}, {:.2e}] {:>12.3f} {:>8.2f} {:>12.3e}\n", ch.label,
                       k < 0 ? std::string("all") : std::to_string(k), u.blocks, u.block_errors + u.malformed, payload::bler(u),
                       ci.low, ci.high, goodput_mbps(u, s, c), payload::mean_iterations(u), payload::uncoded_ber(u));
    }
  }
  t += "# coded scoring: a block error = TB CRC failed (or a CRC-passing block with an invalid header), its bytes\n"
       "#   never output; goodput = CRC-passing payload bits / stream signal time; uncoded BER = LLR signs of the TB\n"
       "#   bits of CRC-passing blocks vs the re-encoded codeword; the BER table above scores the known header bits\n";
  for (const auto& line : r.payload_lines) t += "# payload output: " + line + "\n";
  if (!r.payload_error.empty()) t += "# payload output: FAILED, not written: " + r.payload_error + "\n";
  return t;
}

double per_detected_frame(const chain_stats& ch, double total) noexcept {
  return ch.detected_frames == 0 ? std::numeric_limits<double>::quiet_NaN()
                                 : total / static_cast<double>(ch.detected_frames);
}

/// A figure with `decimals` decimals, or "-" when it cannot be computed (NaN).
std::string fixed_or_dash(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : std::string("-");
}

/// A figure in scientific notation with `decimals` decimals, or "-" when it cannot be computed.
std::string sci_or_dash(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}e}", v, decimals) : std::string("-");
}

/// errors / bits, NaN over no bits: a BER of nothing scored is not 0 (until stop 35
/// `--frames 3 --snr -50`, no frame found, printed BER 0.000e+00 and bs.json "ber": 0.0).
double ratio_or_nan(std::uint64_t errors, std::uint64_t bits) noexcept {
  return bits == 0 ? std::numeric_limits<double>::quiet_NaN()
                   : static_cast<double>(errors) / static_cast<double>(bits);
}

std::uint64_t chain_symbols(const chain_stats& ch) noexcept {
  std::uint64_t n = 0;
  for (const auto v : ch.user_symbols) n += v;
  return n;
}

/// RMS EVM of the chain (k < 0) or user k, NaN over no scored symbol.
double evm_or_nan(const chain_stats& ch, int k) noexcept {
  const std::uint64_t symbols = k < 0 ? chain_symbols(ch) : ch.user_symbols[static_cast<std::size_t>(k)];
  if (symbols == 0) return std::numeric_limits<double>::quiet_NaN();
  return k < 0 ? ch.evm() : ch.user_evm(k);
}

/// Es/N0 estimate in dB, NaN before any frame was estimated (snr_estimate 0).
double snr_estimate_db(const receiver_stats& s) noexcept {
  return s.snr_estimate > 0.0 ? 10.0 * std::log10(s.snr_estimate) : std::numeric_limits<double>::quiet_NaN();
}

/// The guard-bin N0, NaN before any frame was estimated.
double noise_variance_or_nan(const receiver_stats& s) noexcept {
  return s.noise_variance > 0.0 && std::isfinite(s.noise_variance) ? s.noise_variance
                                                                   : std::numeric_limits<double>::quiet_NaN();
}

/// Quantile q of a stage's latency (s), NaN when the stage never ran.
double latency_quantile(const latency_record& rec, double q) {
  return rec.count() == 0 ? std::numeric_limits<double>::quiet_NaN() : rec.quantile(q);
}

/// The chain's LLR calibration ratio, NaN when it cannot be judged: the ratio needs errors,
/// so while neither the LLRs claim nor the data show at least one sign error it is not
/// computed (the table printed '-' there while bs.json wrote 0.0 until stop 35). +∞ when
/// errors occur where the LLRs claim none.
double llr_calibration(const chain_stats& ch) noexcept {
  const bool judgeable = ch.llr.sign_errors() > 0 || ch.llr.claimed_errors() >= 1.0;
  return judgeable ? ch.llr.calibration_ratio() : std::numeric_limits<double>::quiet_NaN();
}

/// A figure in scientific notation for bs.csv, or an empty field when it cannot be computed.
std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{:.6e}", v) : std::string(); }

/// A figure for bs.json, or null when it cannot be computed.
nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

std::string chain_analog_profile(const link_config& c, const chain_spec& chain) {
  if (!chain_is_analog(c, chain)) return "";
  std::map<std::string, std::string> options;
  const std::vector<std::string>& keys = analog::analog_option_keys();
  for (const auto& [key, value] : chain.solver.options) {
    if (key == "profile" || std::find(keys.begin(), keys.end(), key) != keys.end()) options.emplace(key, value);
  }
  try {
    const std::string label = analog::profile_label(analog::profile_from_options(options));
    return chain.solver.name == "remote" ? label + " (as requested of the service)" : label;
  } catch (const config_error&) {
    return "profile of the service";  // a remote profile this process cannot load by name
  }
}

// Until stop 35 these divided by the identified frames while the totals held every detected
// frame's solves: two captures back to back, the second not identifiable, showed 58224 µJ/frame
// for 29113, and a run of only unmatched frames 0 µJ/frame after 1800 solves.
double modelled_joules_per_frame(const chain_stats& ch) noexcept {
  return per_detected_frame(ch, ch.solver.modelled_matrix_joules + ch.solver.modelled_solve_joules);
}

double modelled_seconds_per_frame(const chain_stats& ch) noexcept {
  return per_detected_frame(ch, ch.solver.modelled_matrix_seconds + ch.solver.modelled_solve_seconds);
}

double solver_seconds_per_frame(const chain_stats& ch) noexcept {
  return per_detected_frame(ch, ch.solver.measured_seconds);
}

double real_time_factor(const receiver_stats& s, const link_config& c) noexcept {
  return s.busy_seconds > 0.0 ? stream_seconds(s, c) / s.busy_seconds : std::numeric_limits<double>::quiet_NaN();
}

double msamples_per_second(const receiver_stats& s, double wall_seconds) noexcept {
  return s.samples > 0 && wall_seconds > 0.0 ? static_cast<double>(s.samples) / wall_seconds / 1e6
                                             : std::numeric_limits<double>::quiet_NaN();
}

std::string status_line(const receiver_stats& s, const link_config& c, double wall_seconds) {
  std::string line = fmt::format("[measured] frames {}", s.frames);
  for (const auto& ch : s.chains) {
    line += fmt::format(" | {} BER {}", ch.label, sci_or_dash(ratio_or_nan(ch.bit_errors, ch.bits), 2));
    if (ch.erased_bits > 0) line += fmt::format(" ({} erased bits)", ch.erased_bits);
  }
  if (s.misaligned_channels > 0 || s.unaligned_frames > 0) {
    line += fmt::format(" | misaligned {} / unaligned frames {}", s.misaligned_channels, s.unaligned_frames);
  }
  if (s.slipped_frames > 0) line += fmt::format(" | slipped frames {}", s.slipped_frames);
  line += fmt::format(" | {} Msps/antenna | RTF {}", fixed_or_dash(msamples_per_second(s, wall_seconds), 2),
                      fixed_or_dash(real_time_factor(s, c), 2));
  for (int st = 0; st < static_cast<int>(stage::count); ++st) {
    const auto& rec = s.latency[static_cast<std::size_t>(st)];
    if (rec.count() == 0) continue;
    line += fmt::format(" | {} {:.2f}/{:.2f} ms", to_string(static_cast<stage>(st)), rec.quantile(0.5) * 1e3,
                        rec.quantile(0.99) * 1e3);
  }
  for (std::size_t i = 0; i < s.chains.size(); ++i) {
    if (!chain_is_analog(c, c.rx.chains[i])) continue;
    line += fmt::format(" | {} {} uJ/frame (modelled; {})", s.chains[i].label,
                        fixed_or_dash(modelled_joules_per_frame(s.chains[i]) * 1e6, 1),
                        chain_analog_profile(c, c.rx.chains[i]));
  }
  return line;
}

std::string parameter_header(const link_config& c, const std::string& command_line) {
  const auto& n = c.rx.layout;
  std::string h = "# ----------------------------------------------------\n";
  h += fmt::format("# amimo-bs {} — streaming OFDM uplink receiver\n# Parameters:\n", version_string);
  const auto line = [&h](std::string_view key, const std::string& value) {
    h += fmt::format("#   {:<22}: {}\n", key, value);
  };
  line("command line", command_line);
  line("seed", std::to_string(c.rx.seed));
  line("antennas x users", fmt::format("{} x {}", c.rx.antennas, c.rx.users));
  line("modulation", std::string(modem::to_string(c.rx.modulation)));
  line("numerology", fmt::format("FFT {}, CP {}, {} used subcarriers, {:.3f} Msps, {:.1f} kHz spacing", n.fft_size,
                                 n.cp_length, n.used_subcarriers, n.sample_rate / 1e6, n.subcarrier_spacing() / 1e3));
  line("frame", fmt::format("1 preamble + {} pilot + {} data symbols = {} samples ({:.3f} ms)",
                            n.pilot_groups() * n.pilot_symbols, n.data_symbols, n.frame_length(),
                            n.frame_seconds() * 1e3));
  line("pilot layout", pilot_layout_text(n, c.rx.interpolation));
  line("chains", solver_list(c));
  for (const auto& ch : c.rx.chains) {
    const std::string profile = chain_analog_profile(c, ch);
    if (!profile.empty()) line("analog profile", ch.label() + ": " + profile);
  }
  line("detection mode", std::string(detect::to_string(c.rx.mode)));
  line("source", c.source);
  if (c.source == "synthetic") {
    line("channel", channel_models::describe(c.channel));
    line("channel filter", c.channel_filter == "sinc"
                               ? fmt::format("sinc (windowed-sinc FIR in time, half-width {})", c.sinc_half_width)
                               : std::string("frequency (H(f) per subcarrier)"));
    line("Es/N0 (dB)", fmt::format("{}", c.snr_db));
  }
  const int smoothing = pipeline::resolved_smoothing(c.rx);
  line("estimation", fmt::format("LS comb pilots, {} smoothing{}, linear interpolation in frequency; N0 from guard bins",
                                 smoothing < 0 ? std::string("whole-band") : fmt::format("±{} pilot", smoothing),
                                 c.rx.estimation_smoothing == pipeline::receiver_config::kAutoSmoothing
                                     ? fmt::format(" (auto: ±{:.0f} kHz)", pipeline::kAutoSmoothingHz / 1e3)
                                     : std::string()));
  if (c.coding.kind == payload::coding_kind::ldpc) {
    const ofdm::frame_layout frame(c.rx.layout, c.rx.users, c.rx.modulation);
    const auto cl = payload::make_coded_layout(frame, c.coding);
    line("coding", fmt::format("5G NR LDPC: {} header bits + TB A = {} bits in G = {} coded bits per user and frame "
                               "(rate {:.3f}, ≤ {} payload bytes), ≤ {} decoder iterations",
                               cl.header_bits, cl.tb.tb_bits, cl.g_bits,
                               static_cast<double>(cl.tb.tb_bits) / static_cast<double>(cl.g_bits), cl.capacity(),
                               c.coding.ldpc_iterations));
    if (!c.coding.payload_out.empty())
      line("payload output", fmt::format("{} (chain {})", c.coding.payload_out, c.coding.payload_chain));
  }
  line("frames", c.frames == 0 ? std::string("until the stream ends") : std::to_string(c.frames));
  line("threads", c.rx.threads == 0 ? "all cores" : std::to_string(c.rx.threads));
  line("output", c.out);
  h += "# ----------------------------------------------------\n";
  return h;
}

std::string summary_table(const receiver_stats& s, const link_config& c, const run_summary& r) {
  std::string t;
  t += fmt::format("# {:<22} {:>7} {:>11} {:>10} {:>21} {:>8} {:>9} {:>10} {:>7} {:>10} {:>9} {:>12} {:>12}\n",
                   "chain", "frames", "bits", "BER", "BER 95% CI", "EVM %", "erased", "LLR-sgnBER", "LLRcal",
                   "fallbacks", "unresolv", "solve us/fr", "uJ/frame");
  t += fmt::format("# {:<22} {:>7} {:>11} {:>10} {:>21} {:>8} {:>9} {:>10} {:>7} {:>10} {:>9} {:>12} {:>12}\n", "",
                   "", "measured", "measured", "measured", "measured", "bits", "measured", "measured", "measured",
                   "measured", "measured", "modelled");
  for (std::size_t i = 0; i < s.chains.size(); ++i) {
    const auto& ch = s.chains[i];
    const auto ci = metrics::wilson_interval(static_cast<double>(ch.bit_errors), static_cast<double>(ch.bits));
    const double evm = evm_or_nan(ch, -1) * 100.0;
    const double us = solver_seconds_per_frame(ch) * 1e6;
    const bool analog = chain_is_analog(c, c.rx.chains[i]);
    const double cal = llr_calibration(ch);
    t += fmt::format("  {:<22} {:>7} {:>11} {:>10} [{:.2e}, {:.2e}] {:>8} {:>9} {:>10} {:>7} {:>10} {:>9} "
                     "{:>12} {:>12}\n",
                     ch.label, ch.frames, ch.bits, sci_or_dash(ratio_or_nan(ch.bit_errors, ch.bits), 3), ci.low, ci.high,
                     fixed_or_dash(evm, 2), ch.erased_bits,
                     sci_or_dash(ratio_or_nan(ch.llr.sign_errors(), ch.llr.bits()), 3),
                     std::isfinite(cal) ? fmt::format("{:.2f}", cal) : std::string(std::isnan(cal) ? "-" : "inf"),
                     ch.solver.fallbacks, ch.unresolved_subcarriers, fixed_or_dash(us, 1),
                     analog ? fixed_or_dash(modelled_joules_per_frame(ch) * 1e6, 2) : std::string("-"));
  }
  for (std::size_t i = 0; i < s.chains.size(); ++i) {
    const std::string profile = chain_analog_profile(c, c.rx.chains[i]);
    if (!profile.empty()) t += fmt::format("# {}: analog profile {} (BER simulated, uJ/frame modelled)\n", s.chains[i].label, profile);
  }
  if (r.coded != nullptr) t += coded_table(s, c, r);
  const double wall = r.wall_seconds;
  t += fmt::format("# stream: {} frames decoded, {} samples/antenna ({:.3f} s of signal) in {:.3f} s wall (measured)\n",
                   s.frames, s.samples, stream_seconds(s, c), wall);
  t += fmt::format("# throughput: {} Msamples/s per antenna over the run, receiver real-time factor {} "
                   "(stream time / processing time, measured; {} threads)\n",
                   fixed_or_dash(msamples_per_second(s, wall), 2), fixed_or_dash(real_time_factor(s, c), 2),
                   c.rx.threads == 0 ? std::string("all") : std::to_string(c.rx.threads));
  t += "# latency per frame p50/p99 (measured, ms):";
  for (int st = 0; st < static_cast<int>(stage::count); ++st) {
    const auto& rec = s.latency[static_cast<std::size_t>(st)];
    t += fmt::format(" {} {}/{}", to_string(static_cast<stage>(st)), fixed_or_dash(latency_quantile(rec, 0.5) * 1e3, 3),
                     fixed_or_dash(latency_quantile(rec, 0.99) * 1e3, 3));
  }
  t += "\n";
  t += "# scoring: BER of hard decisions over streams not erased; erased = bits of streams whose quality\n"
       "#   could not be known (never scored); LLR-sgnBER = LLR sign errors (LLR 0 counts as an error);\n"
       "#   LLRcal = observed / LLR-claimed sign errors (1 = calibrated soft outputs, > 1 over-confident);\n"
       "#   solve us/fr and uJ/frame are per detected frame (identified or unmatched: both were solved)\n";
  t += fmt::format("# events: acquisitions {}, sync losses {}, burst ends {}, missed frames {}, unmatched frames {}, "
                   "NaN/Inf samples {} (frames dropped {}), misaligned channels {} (realigned), unaligned frames {} "
                   "(dropped), slipped frames {} (dropped: samples lost inside), radio: timeouts {}, overflows {}, dropped messages {}, dropped samples {}, "
                   "refused channels {}, late channels {}\n",
                   s.acquisitions, s.sync_losses, s.burst_ends, s.missed_frames, s.unmatched_frames, s.nonfinite_samples,
                   s.nonfinite_frames, s.misaligned_channels, s.unaligned_frames, s.slipped_frames, r.radio.timeouts, r.radio.overflows,
                   r.radio.dropped_messages, r.radio.dropped_samples, r.radio.refused_channels,
                   r.radio.late_channels);
  t += fmt::format("# noise (measured): N0 {} from the guard bins; Es/N0 {} dB estimated from the pilots "
                   "(mean |H|^2 / N0, independent of receive gain; '-': no frame estimated); stopped: {}\n",
                   sci_or_dash(noise_variance_or_nan(s), 3), fixed_or_dash(snr_estimate_db(s), 2), r.stop_reason);
  return t;
}

void write_bs_report(const std::string& dir, const link_config& c, const receiver_stats& s, const run_summary& r) {
  using nlohmann::json;
  json j;
  j["version"] = version_string;
  j["command_line"] = r.command_line;
  const auto& n = c.rx.layout;
  j["params"] = {{"seed", c.rx.seed},
                 {"antennas", c.rx.antennas},
                 {"users", c.rx.users},
                 {"modulation", std::string(modem::to_string(c.rx.modulation))},
                 {"fft_size", n.fft_size},
                 {"cp_length", n.cp_length},
                 {"used_subcarriers", n.used_subcarriers},
                 {"sample_rate", n.sample_rate},
                 {"pilot_symbols", n.pilot_symbols},
                 {"additional_pilots", n.additional_pilots},
                 {"pilot_group_symbols", pilot_group_symbols(n)},
                 {"time_interpolation", to_string(c.rx.interpolation)},
                 {"data_symbols", n.data_symbols},
                 {"mode", std::string(detect::to_string(c.rx.mode))},
                 {"source", c.source},
                 {"channel", c.channel.model},
                 {"delay_spread_s", c.channel.delay_spread_s},
                 {"doppler_hz", c.channel.doppler_hz},
                 {"channel_model",
                  {{"description", channel_models::describe(c.channel)},
                   {"delay_model", c.channel.delay_model},
                   {"states_per_frame", c.channel.doppler_hz > 0.0 ? c.channel.steps_per_frame : 1},
                   {"sinusoids", c.channel.sinusoids},
                   {"los_angle_rad", c.channel.los_angle_rad},
                   {"speed_kmh", c.speed_kmh},
                   {"center_frequency_hz", c.center_frequency},
                   {"rho_bs", c.channel.rho_bs},
                   {"rho_ue", c.channel.rho_ue},
                   {"channel_filter", c.channel_filter},
                   {"sinc_half_width", c.sinc_half_width},
                   {"cdl", cdl_json(c.channel.cdl)}}},
                 {"snr_db", c.snr_db},
                 {"threads", c.rx.threads},
                 {"estimation_smoothing", pipeline::resolved_smoothing(c.rx)},
                 {"estimation_smoothing_auto", c.rx.estimation_smoothing == pipeline::receiver_config::kAutoSmoothing}};
  j["units"] = {{"ber", "measured, fraction (null over 0 scored bits)"},
                {"evm", "measured, RMS fraction (data-aided)"},
                {"erased_bits", "measured, bits of erased streams (not in bits/bit_errors)"},
                {"llr_calibration", "measured, observed / LLR-claimed sign errors (null: not judgeable — no sign "
                                    "error observed and < 1 claimed — or infinite: errors where none are claimed)"},
                {"solver_measured_seconds", "measured, s (wall, inside the solver)"},
                {"modelled_joules_per_frame", "modelled, J (analog cost model) per detected frame (identified or not)"},
                {"modelled_seconds_per_frame", "modelled, s (analog cost model) per detected frame (identified or not)"},
                {"detected_frames", "measured, frames detected (identified or not); frames = identified"},
                {"latency", "measured, s per frame (null: the stage never ran)"},
                {"noise_variance", "measured, guard-bin N0 of the last frame (null: no frame estimated)"},
                {"real_time_factor", "measured, stream s / processing s (null: nothing was processed)"}};
  if (r.coded != nullptr) {
    j["coding"] = {{"coding", payload::to_string(c.coding.kind)},
                   {"code_rate", c.coding.code_rate},
                   {"tb_bits_option", c.coding.tb_bits},
                   {"ldpc_iterations_max", c.coding.ldpc_iterations},
                   {"payload_chain", c.coding.payload_chain},
                   {"payload_out", c.coding.payload_out},
                   {"payload_output", r.payload_lines},
                   {"payload_output_error", r.payload_error.empty() ? json() : json(r.payload_error)}};
    j["units"]["bler"] = "measured, fraction of transport blocks failing the CRC (or malformed)";
    j["units"]["goodput_mbps"] = "measured, Mbit/s of CRC-passing payload bits over the stream signal time";
    j["units"]["uncoded_ber_decoded"] = "measured, TB bits of CRC-passing blocks vs the re-encoded codeword";
  }
  j["stop_reason"] = r.stop_reason;
  j["wall_seconds"] = r.wall_seconds;
  j["source_seconds"] = r.source_seconds;
  j["receiver"] = {{"samples", s.samples},
                   {"frames", s.frames},
                   {"acquisitions", s.acquisitions},
                   {"sync_losses", s.sync_losses},
                   {"burst_ends", s.burst_ends},
                   {"discarded_samples", s.discarded_samples},
                   {"nonfinite_samples", s.nonfinite_samples},
                   {"nonfinite_frames", s.nonfinite_frames},
                   {"unmatched_frames", s.unmatched_frames},
                   {"missed_frames", s.missed_frames},
                   {"misaligned_channels", s.misaligned_channels},
                   {"unaligned_frames", s.unaligned_frames},
                   {"slipped_frames", s.slipped_frames},
                   {"noise_variance", json_number(noise_variance_or_nan(s))},
                   {"snr_estimate_db", json_number(snr_estimate_db(s))},
                   {"busy_seconds", s.busy_seconds},
                   {"real_time_factor", json_number(real_time_factor(s, c))}};
  j["radio"] = {{"samples", r.radio.samples},
                {"timeouts", r.radio.timeouts},
                {"overflows", r.radio.overflows},
                {"late_packets", r.radio.late_packets},
                {"dropped_messages", r.radio.dropped_messages},
                {"dropped_samples", r.radio.dropped_samples},
                {"nonfinite_samples", r.radio.nonfinite_samples},
                {"other_errors", r.radio.other_errors},
                {"refused_channels", r.radio.refused_channels},
                {"late_channels", r.radio.late_channels}};
  const remote::fallback_tally fallbacks = remote::remote_fallbacks();
  j["remote_fallbacks"] = {{"total", fallbacks.total}, {"by_reason", fallbacks.by_reason}};
  json lat = json::object();
  for (int st = 0; st < static_cast<int>(stage::count); ++st) {
    const auto& rec = s.latency[static_cast<std::size_t>(st)];
    lat[std::string(to_string(static_cast<stage>(st)))] = {
        {"count", rec.count()},
        {"p50", json_number(latency_quantile(rec, 0.5))},
        {"p99", json_number(latency_quantile(rec, 0.99))},
        {"mean", rec.count() ? json(rec.total() / static_cast<double>(rec.count())) : json()}};
  }
  j["latency"] = lat;
  std::string csv =
      "chain,detector,solver,user,frames,bits,bit_errors,ber,ber_ci_low,ber_ci_high,evm,solves,fallbacks,"
      "unresolved_subcarriers,solver_measured_seconds,modelled_joules_per_frame,modelled_seconds_per_frame,"
      "erased_bits,blocks,block_errors,bler,bler_ci_low,bler_ci_high,goodput_mbps,ldpc_iterations,"
      "uncoded_ber_decoded\n";
  json chains = json::array();
  for (std::size_t i = 0; i < s.chains.size(); ++i) {
    const auto& ch = s.chains[i];
    const auto& spec = c.rx.chains[i];
    const double mj = modelled_joules_per_frame(ch);
    const double ms = modelled_seconds_per_frame(ch);
    json users = json::array();
    json chain_coded = nullptr;
    for (int k = -1; k < c.rx.users; ++k) {
      const std::uint64_t bits = k < 0 ? ch.bits : ch.user_bits[static_cast<std::size_t>(k)];
      const std::uint64_t errors = k < 0 ? ch.bit_errors : ch.user_errors[static_cast<std::size_t>(k)];
      const double evm = evm_or_nan(ch, k);
      const auto ci = metrics::wilson_interval(static_cast<double>(errors), static_cast<double>(bits));
      const double ber = ratio_or_nan(errors, bits);
      const std::uint64_t erased = k < 0 ? ch.erased_bits : ch.user_erased_bits[static_cast<std::size_t>(k)];
      std::string coded_csv = ",,,,,,,";
      json coded = nullptr;
      if (r.coded != nullptr) {
        const auto& cc = (*r.coded)[i];
        const auto u = k < 0 ? cc.total() : cc.users[static_cast<std::size_t>(k)];
        const auto bci = metrics::wilson_interval(static_cast<double>(u.block_errors + u.malformed), static_cast<double>(u.blocks));
        coded_csv = fmt::format("{},{},{:.6e},{:.6e},{:.6e},{:.6e},{:.4f},{:.6e}", u.blocks, u.block_errors + u.malformed,
                                payload::bler(u), bci.low, bci.high, goodput_mbps(u, s, c), payload::mean_iterations(u),
                                payload::uncoded_ber(u));
        coded = {{"blocks", u.blocks},
                 {"block_errors", u.block_errors},
                 {"malformed_blocks", u.malformed},
                 {"bler", payload::bler(u)},
                 {"bler_ci", {bci.low, bci.high}},
                 {"payload_bytes", u.payload_bytes},
                 {"goodput_mbps", goodput_mbps(u, s, c)},
                 {"ldpc_code_blocks", u.code_blocks},
                 {"ldpc_iterations_mean", payload::mean_iterations(u)},
                 {"uncoded_bits_decoded", u.uncoded_bits},
                 {"uncoded_errors_decoded", u.uncoded_errors},
                 {"uncoded_ber_decoded", payload::uncoded_ber(u)}};
      }
      // The solver columns (solves, fallbacks, unresolved subcarriers, solver time, modelled
      // J and s per frame) are the chain's: a subcarrier's solve serves every user at once, so
      // there is no per-user share. The `all` row carries them; a user's row leaves them empty
      // (it repeated the chain's totals, which read as that user's).
      const std::string solver_csv =
          k < 0 ? fmt::format("{},{},{},{:.6e},{},{}", ch.solver.solves, ch.solver.fallbacks, ch.unresolved_subcarriers,
                              ch.solver.measured_seconds, csv_number(mj), csv_number(ms))
                : std::string(",,,,,");
      csv += fmt::format("{},{},{},{},{},{},{},{},{:.6e},{:.6e},{},{},{},{}\n", ch.label, detect::to_string(spec.detector),
                         spec.solver.name, k < 0 ? std::string("all") : std::to_string(k), ch.frames, bits, errors,
                         csv_number(ber), ci.low, ci.high, csv_number(evm), solver_csv, erased, coded_csv);
      if (k >= 0) {
        json entry = {{"user", k}, {"bits", bits}, {"bit_errors", errors}, {"ber", json_number(ber)}, {"evm", json_number(evm)},
                      {"erased_bits", erased}};
        if (!coded.is_null()) entry["coded"] = coded;
        users.push_back(entry);
      } else if (!coded.is_null()) {
        chain_coded = coded;
      }
    }
    chains.push_back({{"label", ch.label},
                      {"detector", std::string(detect::to_string(spec.detector))},
                      {"solver", spec.solver.name},
                      {"solver_options", spec.solver.options},
                      {"analog_profile", chain_is_analog(c, spec) ? json(chain_analog_profile(c, spec)) : json()},
                      {"frames", ch.frames},
                      {"detected_frames", ch.detected_frames},
                      {"bits", ch.bits},
                      {"bit_errors", ch.bit_errors},
                      {"ber", json_number(ratio_or_nan(ch.bit_errors, ch.bits))},
                      {"unresolved_subcarriers", ch.unresolved_subcarriers},
                      {"erased_bits", ch.erased_bits},
                      {"erased_streams", ch.erased_streams},
                      {"llr_bits", ch.llr.bits()},
                      {"llr_sign_errors", ch.llr.sign_errors()},
                      {"llr_sign_ber", json_number(ratio_or_nan(ch.llr.sign_errors(), ch.llr.bits()))},
                      {"mean_abs_llr", ch.llr.bits() ? json(ch.llr.mean_abs_llr()) : json()},
                      {"llr_claimed_errors", ch.llr.claimed_errors()},
                      {"llr_calibration", json_number(llr_calibration(ch))},
                      {"solves", ch.solver.solves},
                      {"fallbacks", ch.solver.fallbacks},
                      {"mean_iterations", ch.solver.solves ? json(ch.solver.mean_iterations()) : json()},
                      {"solver_measured_seconds", ch.solver.measured_seconds},
                      {"modelled", chain_is_analog(c, spec)},
                      {"modelled_joules_per_frame", json_number(mj)},
                      {"modelled_seconds_per_frame", json_number(ms)},
                      {"users", users}});
    if (!chain_coded.is_null()) chains.back()["coded"] = chain_coded;
  }
  j["chains"] = chains;
  report::write_file_atomically(std::filesystem::path(dir) / "bs.json", j.dump(2) + "\n");
  report::write_file_atomically(std::filesystem::path(dir) / "bs.csv", csv);
}

}  // namespace amimo::pipeline
