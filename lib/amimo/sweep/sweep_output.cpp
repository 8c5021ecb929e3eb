#include <amimo/core/error.h>
#include <amimo/core/version.h>
#include <amimo/fec/link_coding.h>
#include <amimo/metrics/theory.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <amimo/report/text_table.h>
#include <amimo/sweep/sweep_output.h>

#include <amimo/remote/remote_solver.h>
#include <channel_models/flat_models.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <system_error>
#include <utility>

namespace amimo::sweep {
namespace {

std::string join_snr(const std::vector<double>& values) {
  std::string text;
  for (const double v : values) text += (text.empty() ? "" : ",") + fmt::format("{:g}", v);
  return text;
}

std::string join_solvers(const sweep_config& c) {
  std::string text;
  for (std::size_t i = 0; i < c.solvers.size(); ++i) {
    const solver::solver_spec spec = effective_solver_spec(c, i);
    std::string options;
    for (const auto& [key, value] : spec.options) options += (options.empty() ? "" : " ") + key + "=" + value;
    text += (text.empty() ? "" : ",") + spec.name + (options.empty() ? "" : " (" + options + ")");
  }
  return text;
}

std::string join_detectors(const std::vector<detect::detector_kind>& kinds) {
  std::string text;
  for (const auto k : kinds) text += (text.empty() ? "" : ",") + std::string(detect::to_string(k));
  return text;
}

// coding ldpc: the block-error group goes after the bit errors.
const report::text_table& coded_table(bool analog) {
  static const report::text_table with_analog({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 14}}},
      {"Uncoded (measured)", {{"bit err", 9}, {"BER", 9}}},
      {"Coded (measured)", {{"blocks", 8}, {"blk err", 7}, {"BLER", 9}, {"BLER 95% CI", 19}, {"dec it", 6}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}, {"resid.", 8}}},
      {"Analog (modelled)", {{"nJ/RHS", 9}, {"us/RHS", 9}, {"nJ/prog", 9}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  if (analog) return with_analog;
  static const report::text_table table({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 14}}},
      {"Uncoded (measured)", {{"bit err", 9}, {"BER", 9}}},
      {"Coded (measured)", {{"blocks", 8}, {"blk err", 7}, {"BLER", 9}, {"BLER 95% CI", 19}, {"dec it", 6}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  return table;
}

const report::text_table& result_table(bool analog) {
  static const report::text_table with_analog({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 14}}},
      {"Errors (measured)", {{"bits", 10}, {"bit err", 9}, {"BER", 9}, {"BER 95% CI", 19}, {"SER", 9}, {"FER", 9}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}, {"resid.", 8}}},
      {"Analog (modelled)", {{"nJ/RHS", 9}, {"us/RHS", 9}, {"nJ/prog", 9}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  if (analog) return with_analog;
  static const report::text_table table({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 14}}},
      {"Errors (measured)", {{"bits", 10}, {"bit err", 9}, {"BER", 9}, {"BER 95% CI", 19}, {"SER", 9}, {"FER", 9}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  return table;
}

double per_solve(double total, std::uint64_t solves) {
  return solves == 0 ? 0.0 : total / static_cast<double>(solves);
}

// How ebn0_db derives from Es/N0, with the offset (header and JSON units).
std::string ebn0_convention(const sweep_config& c) {
  const unsigned qm = modem::bits_per_symbol(c.modulation);
  const double offset = 10.0 * std::log10(information_bits_per_symbol(c));
  if (!is_coded(c)) return fmt::format("per information bit, Es/N0 - 10*log10(Qm = {}) = Es/N0 - {:.2f} dB (uncoded)", qm, offset);
  const fec::transport_block_config tb = user_transport_block(c);
  return fmt::format("per information bit, Es/N0 - 10*log10(Qm*A/G = {}*{}/{}) = Es/N0 - {:.2f} dB "
                     "(A payload bits per G coded bits)",
                     qm, tb.tb_bits, tb.g_bits, offset);
}

}  // namespace

double zf_rayleigh_theory_ber(const sweep_config& config, double snr_db) noexcept {
  const double snr = std::pow(10.0, snr_db / 10.0);
  switch (config.modulation) {
    case modem::modulation::bpsk:
      return metrics::ber_zf_rayleigh_bpsk(snr, config.antennas, config.users);
    case modem::modulation::qpsk:
      return metrics::ber_zf_rayleigh_qpsk(snr, config.antennas, config.users);
    default:
      return metrics::ber_zf_rayleigh_mqam(1 << modem::bits_per_symbol(config.modulation), snr, config.antennas,
                                           config.users);
  }
}

std::string parameter_header(const sweep_config& c, const std::string& command_line) {
  std::string h = "# ----------------------------------------------------\n";
  h += fmt::format("# amimo-sweep {} — link-level BER-vs-SNR sweep\n", version_string);
  h += "# Parameters:\n";
  const auto line = [&h](std::string_view key, const std::string& value) {
    h += fmt::format("#   {:<20}: {}\n", key, value);
  };
  line("command line", command_line);
  line("seed", std::to_string(c.seed));
  line("antennas x users", fmt::format("{} x {}", c.antennas, c.users));
  line("modulation", std::string(modem::to_string(c.modulation)));
  line("detectors", join_detectors(c.detectors));
  line("detection mode", std::string(detect::to_string(c.mode)));
  line("solvers", join_solvers(c));
  for (std::size_t i = 0; i < c.solvers.size(); ++i) {
    const std::string label = analog_label(c, i);
    if (!label.empty()) line(solver_label(c, i) + " profile", label);
  }
  line("channel", channel_models::describe(
                      channel_models::flat_channel_config{c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl));
  line("Es/N0 (dB)", join_snr(c.snr_db));
  line("vectors per channel", std::to_string(c.vectors_per_channel));
  if (is_coded(c)) {
    const fec::transport_block_config tb = user_transport_block(c);
    line("coding", fmt::format("5G NR LDPC, target R {}, TBS {} bits{} in G = {} bits per user and frame "
                               "(effective rate {:.3f})",
                               c.code_rate, tb.tb_bits, c.tb_bits > 0 ? " (given)" : " (38.214)", tb.g_bits,
                               fec::effective_code_rate(tb)));
    line("LDPC decoder", fmt::format("layered min-sum int8, {} iterations max, alpha {}", c.ldpc_iterations, c.ldpc_alpha));
    line("stop rule", fmt::format("{} block errors | {} blocks | {} bits | {} s per point", c.min_block_errors,
                                  c.max_blocks, c.max_bits, c.max_seconds));
  } else {
    line("stop rule", fmt::format("{} bit errors in {} frames or more | {} bits | {} s per point", c.min_errors,
                                  c.min_error_frames, c.max_bits, c.max_seconds));
  }
  line("threads", c.threads == 0 ? "all cores" : std::to_string(c.threads));
  line("output", c.out);
  h += "# SNR convention: Es/N0 per user symbol per receive antenna (Es = 1, unit-power channel).\n";
  h += "# Eb/N0: " + ebn0_convention(c) + ".\n";
  h += "# Scoring: BER of hard decisions over streams not erased; erased streams (quality unknown:\n"
       "#   singular channel, failed solve) are counted as erased_bits in CSV/JSON, never scored.\n";
  if (is_coded(c)) {
    h += "# Coded: one transport block per user and frame; a block error is a failed TB CRC or a payload\n"
         "#   that differs from the one sent (BLER 95% interval: Wilson score). BER stays uncoded.\n";
  }
  h += "# ----------------------------------------------------\n";
  return h;
}

const report::text_table& table_for(const sweep_config& config) {
  return is_coded(config) ? coded_table(has_analog_solver(config)) : result_table(has_analog_solver(config));
}

double mean_decoder_iterations(const curve_point& cp) {
  return cp.code_blocks == 0 ? 0.0 : static_cast<double>(cp.decoder_iterations) / static_cast<double>(cp.code_blocks);
}

std::string table_header(const sweep_config& config) { return table_for(config).header(); }

std::string table_rows(const point_result& point, const sweep_config& config) {
  const bool analog = has_analog_solver(config);
  std::string text;
  for (const curve_point& cp : point.curves) {
    const metrics::interval ci = cp.errors.ber_interval();
    std::vector<std::string> cells = {
        fmt::format("{:.2f}", point.snr_db),
        fmt::format("{:.2f}", point.ebn0_db),
        std::string(detect::to_string(cp.detector)),
        cp.solver,
    };
    if (is_coded(config)) {
      const metrics::interval bci = cp.bler_interval();
      cells.insert(cells.end(), {std::to_string(cp.errors.bit_errors()), fmt::format("{:.3e}", cp.errors.ber()),
                                 std::to_string(cp.blocks), std::to_string(cp.block_errors),
                                 fmt::format("{:.3e}", cp.bler()), fmt::format("{:.2e}-{:.2e}", bci.low, bci.high),
                                 fmt::format("{:.2f}", mean_decoder_iterations(cp))});
    } else {
      cells.insert(cells.end(), {std::to_string(cp.errors.bits()), std::to_string(cp.errors.bit_errors()),
                                 fmt::format("{:.3e}", cp.errors.ber()), fmt::format("{:.2e}-{:.2e}", ci.low, ci.high),
                                 fmt::format("{:.3e}", cp.errors.ser()), fmt::format("{:.3e}", cp.errors.fer())});
    }
    cells.insert(cells.end(), {fmt::format("{:.2f}", cp.stats.mean_iterations()), std::to_string(cp.stats.fallbacks),
                               std::to_string(cp.unresolved_channels)});
    if (analog) {
      const bool modelled = reports_modelled_cost(config, cp.solver);
      const double residual = cp.stats.mean_residual();
      cells.push_back(std::isfinite(residual) ? fmt::format("{:.1e}", residual) : "-");
      cells.push_back(modelled ? fmt::format("{:.3g}", 1e9 * per_solve(cp.stats.modelled_solve_joules, cp.stats.right_hand_sides)) : "-");
      cells.push_back(modelled ? fmt::format("{:.3g}", 1e6 * per_solve(cp.stats.modelled_solve_seconds, cp.stats.right_hand_sides)) : "-");
      cells.push_back(modelled ? fmt::format("{:.3g}", 1e9 * per_solve(cp.stats.modelled_matrix_joules, cp.stats.matrices)) : "-");
    }
    cells.push_back(fmt::format("{:.2f}", point.seconds));
    cells.push_back(fmt::format("{:.2f}", 1e6 * per_solve(cp.stats.measured_seconds, cp.stats.right_hand_sides)));
    text += table_for(config).row(cells);
  }
  return text;
}

std::string progress_line(const point_result& partial) {
  std::string text = fmt::format("  Es/N0 {:6.2f} dB |", partial.snr_db);
  for (const curve_point& cp : partial.curves) {
    text += fmt::format(" {}/{}: {} err, BER {:.2e}", detect::to_string(cp.detector), cp.solver,
                        cp.errors.bit_errors(), cp.errors.ber());
    if (cp.blocks > 0) text += fmt::format(", {} blk err, BLER {:.2e}", cp.block_errors, cp.bler());
    text += " |";
  }
  text += fmt::format(" {:.1f} s (provisional)", partial.seconds);
  return text;
}

std::string to_csv(const sweep_config& config, const sweep_result& result) {
  std::string csv =
      "snr_db,ebn0_db,detector,solver,frames,bits,bit_errors,ber,ber_ci_low,ber_ci_high,symbols,symbol_errors,"
      "ser,frame_errors,fer,seconds,stop_reason,unresolved_channels,solves,mean_iterations,mean_residual,"
      "fallbacks,failed_solves,measured_seconds_per_rhs,modelled_seconds_per_rhs,modelled_joules_per_rhs,"
      "modelled_programming_joules_per_channel,erased_bits,blocks,block_errors,bler,bler_ci_low,bler_ci_high,"
      "undetected_block_errors,mean_decoder_iterations,analog_profile\n";
  for (const point_result& p : result.points) {
    for (const curve_point& cp : p.curves) {
      const metrics::interval ci = cp.errors.ber_interval();
      const solver::solver_stats& s = cp.stats;
      const double residual = s.mean_residual();
      csv += fmt::format("{},{},{},{},{},{},{},{:.9g},{:.9g},{:.9g},{},{},{:.9g},{},{:.9g},{:.6f},{},{},{},{:.6g},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{}",
                         p.snr_db, p.ebn0_db, detect::to_string(cp.detector), cp.solver, cp.errors.frames(),
                         cp.errors.bits(), cp.errors.bit_errors(), cp.errors.ber(), ci.low, ci.high,
                         cp.errors.symbols(), cp.errors.symbol_errors(), cp.errors.ser(), cp.errors.frame_errors(),
                         cp.errors.fer(), p.seconds, p.stop_reason, cp.unresolved_channels, s.solves,
                         s.mean_iterations(), std::isfinite(residual) ? fmt::format("{:.6g}", residual) : "",
                         s.fallbacks, s.failed_solves, per_solve(s.measured_seconds, s.right_hand_sides),
                         per_solve(s.modelled_solve_seconds, s.right_hand_sides), per_solve(s.modelled_solve_joules, s.right_hand_sides),
                         per_solve(s.modelled_matrix_joules, s.matrices), cp.erased_bits);
      const metrics::interval bci = cp.bler_interval();
      csv += fmt::format(",{},{},{:.9g},{:.9g},{:.9g},{},{:.6g},\"{}\"\n", cp.blocks, cp.block_errors, cp.bler(), bci.low,
                         bci.high, cp.undetected_block_errors, mean_decoder_iterations(cp), analog_label(config, cp.solver_index));
    }
  }
  return csv;
}

std::string to_json(const sweep_config& c, const std::string& command_line, const sweep_result& result) {
  nlohmann::ordered_json params;
  params["version"] = version_string;
  params["command_line"] = command_line;
  params["seed"] = c.seed;
  params["antennas"] = c.antennas;
  params["users"] = c.users;
  params["modulation"] = modem::to_string(c.modulation);
  params["detectors"] = join_detectors(c.detectors);
  params["detection_mode"] = detect::to_string(c.mode);
  params["solvers"] = join_solvers(c);
  params["channel"] = c.channel;
  params["rho_bs"] = c.rho_bs;
  params["rho_ue"] = c.rho_ue;
  params["channel_description"] =
      channel_models::describe(channel_models::flat_channel_config{c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl);
  for (const auto& [key, value] : channel_models::cdl_geometry_fields(c.cdl)) params["cdl"][key] = value;
  params["snr_db"] = c.snr_db;
  params["vectors_per_channel"] = c.vectors_per_channel;
  params["min_errors"] = c.min_errors;
  params["min_error_frames"] = c.min_error_frames;
  params["max_bits"] = c.max_bits;
  params["max_seconds"] = c.max_seconds;
  params["threads"] = c.threads;
  params["coding"] = c.coding;
  if (is_coded(c)) {
    const fec::transport_block_config tb = user_transport_block(c);
    params["code_rate"] = c.code_rate;
    params["tb_bits"] = tb.tb_bits;
    params["tb_bits_from"] = c.tb_bits > 0 ? "tb_bits" : "38.214 5.1.3.2 TBS";
    params["g_bits"] = tb.g_bits;
    params["effective_code_rate"] = fec::effective_code_rate(tb);
    params["ldpc_decoder"] = "layered normalised min-sum, int8";
    params["ldpc_iterations"] = c.ldpc_iterations;
    params["ldpc_alpha"] = c.ldpc_alpha;
    params["min_block_errors"] = c.min_block_errors;
    params["max_blocks"] = c.max_blocks;
    params["bler_interval"] = "Wilson score, 95%";
  }
  params["snr_convention"] = "Es/N0 per user symbol per receive antenna, Es = 1, unit-power channel entries";

  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const point_result& p : result.points) {
    for (const curve_point& cp : p.curves) {
      const metrics::interval ci = cp.errors.ber_interval();
      const solver::solver_stats& s = cp.stats;
      nlohmann::ordered_json j;
      j["snr_db"] = p.snr_db;
      j["ebn0_db"] = p.ebn0_db;
      j["detector"] = detect::to_string(cp.detector);
      j["solver"] = cp.solver;
      const std::string label = analog_label(c, cp.solver_index);
      j["analog_profile"] = label.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(label);
      j["frames"] = cp.errors.frames();
      j["bits"] = cp.errors.bits();
      j["bit_errors"] = cp.errors.bit_errors();
      j["ber"] = cp.errors.ber();
      j["ber_ci_low"] = ci.low;
      j["ber_ci_high"] = ci.high;
      j["symbols"] = cp.errors.symbols();
      j["symbol_errors"] = cp.errors.symbol_errors();
      j["ser"] = cp.errors.ser();
      j["frame_errors"] = cp.errors.frame_errors();
      j["fer"] = cp.errors.fer();
      j["seconds"] = p.seconds;
      j["stop_reason"] = p.stop_reason;
      j["unresolved_channels"] = cp.unresolved_channels;
      j["erased_bits"] = cp.erased_bits;
      if (is_coded(c)) {
        const metrics::interval bci = cp.bler_interval();
        j["blocks"] = cp.blocks;
        j["block_errors"] = cp.block_errors;
        j["bler"] = cp.bler();
        j["bler_ci_low"] = bci.low;
        j["bler_ci_high"] = bci.high;
        j["undetected_block_errors"] = cp.undetected_block_errors;
        j["mean_decoder_iterations"] = mean_decoder_iterations(cp);
      }
      nlohmann::ordered_json solver;
      solver["solves"] = s.solves;
      solver["mean_iterations"] = s.mean_iterations();
      const double residual = s.mean_residual();
      solver["mean_residual"] = std::isfinite(residual) ? nlohmann::ordered_json(residual) : nlohmann::ordered_json();
      solver["fallbacks"] = s.fallbacks;
      solver["failed_solves"] = s.failed_solves;
      solver["measured_seconds_per_rhs"] = per_solve(s.measured_seconds, s.right_hand_sides);
      solver["modelled_seconds_per_rhs"] = per_solve(s.modelled_solve_seconds, s.right_hand_sides);
      solver["modelled_joules_per_rhs"] = per_solve(s.modelled_solve_joules, s.right_hand_sides);
      solver["modelled_programming_joules_per_channel"] = per_solve(s.modelled_matrix_joules, s.matrices);
      j["solver_stats"] = solver;
      points.push_back(j);
    }
  }
  nlohmann::ordered_json doc;
  doc["params"] = params;
  doc["interrupted"] = result.interrupted;
  // Points not run, so a missing row is said, not silent.
  doc["skipped_snr_db"] = result.skipped_snr_db;
  doc["points"] = points;
  // Remote solves a local fallback answered in this process, by reason (never silent).
  const remote::fallback_tally fallbacks = remote::remote_fallbacks();
  doc["remote_fallbacks"] = {{"total", fallbacks.total}, {"by_reason", fallbacks.by_reason}};
  doc["units"] = {{"snr_db", "dB (Es/N0)"},
                  {"skipped_snr_db", "dB (Es/N0); not run: every curve was error-free at max_bits / max_blocks at a "
                                     "lower Es/N0"},
                  {"ebn0_db", "dB, " + ebn0_convention(c)}, {"seconds", "s, measured wall time"},
                  {"measured_seconds_per_rhs", "s, measured"}, {"modelled_seconds_per_rhs", "s, modelled"},
                  {"modelled_joules_per_rhs", "J, modelled"}};
  return doc.dump(2) + "\n";
}

namespace {

// Points in order of x: the SNR list need not ascend, and a polyline in list order would
// double back.
void sort_by_x(report::plot_series& s) {
  std::vector<std::size_t> order(s.x.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
  const auto permuted = [&](const std::vector<double>& v) {
    if (v.size() != order.size()) return v;  // error bars absent
    std::vector<double> out;
    out.reserve(v.size());
    for (const std::size_t i : order) out.push_back(v[i]);
    return out;
  };
  s.x = permuted(s.x);
  s.y = permuted(s.y);
  s.y_low = permuted(s.y_low);
  s.y_high = permuted(s.y_high);
}

// ber.png's image: log BER (and, coded, BLER in a second panel) against Es/N0.
report::rgb_image render_plot(const sweep_config& config, const sweep_result& result) {
  report::plot_spec plot;
  plot.title = fmt::format("BER vs Es/N0 (measured): {}x{} {} {}", config.antennas, config.users,
                           modem::to_string(config.modulation), config.channel);
  plot.x_label = "Es/N0 (dB)";
  plot.y_label = is_coded(config) ? "uncoded BER" : "BER";
  plot.log_y = true;
  report::plot_spec bler_plot = plot;
  if (is_coded(config)) {
    const fec::transport_block_config tb = user_transport_block(config);
    bler_plot.title = fmt::format("BLER (measured): LDPC R {}, A {} bits, {} it", config.code_rate,
                                  tb.tb_bits, config.ldpc_iterations);
    bler_plot.y_label = "BLER";
  }
  std::map<std::string, std::size_t> index;
  for (const point_result& p : result.points) {
    for (const curve_point& cp : p.curves) {
      const std::string profile = analog_label(config, cp.solver_index);
      const std::string label = fmt::format("{} / {}{}", detect::to_string(cp.detector), cp.solver,
                                            profile.empty() ? "" : " [" + profile + "]");
      auto [it, inserted] = index.try_emplace(label, plot.series.size());
      if (inserted) {
        plot.series.push_back({label, {}, {}, {}, {}});
        bler_plot.series.push_back({label, {}, {}, {}, {}});
      }
      report::plot_series& s = plot.series[it->second];
      const metrics::interval ci = cp.errors.ber_interval();
      s.x.push_back(p.snr_db);
      s.y.push_back(cp.errors.bit_errors() > 0 ? cp.errors.ber() : std::numeric_limits<double>::quiet_NaN());
      s.y_low.push_back(ci.low);
      s.y_high.push_back(ci.high);
      report::plot_series& b = bler_plot.series[it->second];
      const metrics::interval bci = cp.bler_interval();
      b.x.push_back(p.snr_db);
      b.y.push_back(cp.block_errors > 0 ? cp.bler() : std::numeric_limits<double>::quiet_NaN());
      b.y_low.push_back(bci.low);
      b.y_high.push_back(bci.high);
    }
  }
  for (report::plot_series& s : plot.series) sort_by_x(s);
  for (report::plot_series& s : bler_plot.series) sort_by_x(s);
  // Closed-form reference where it applies: ZF in i.i.d. Rayleigh with the true channel
  // (the sweep detects with perfect CSI: the detector is given the channel it drew).
  const bool zf = std::find(config.detectors.begin(), config.detectors.end(), detect::detector_kind::zf) !=
                  config.detectors.end();
  if (zf && config.channel == "rayleigh" && config.users <= config.antennas && !result.points.empty()) {
    report::plot_series theory{"theory ZF, i.i.d. Rayleigh, perfect CSI (closed form)", {}, {}, {}, {}};
    // Drawn down to a tenth of the lowest measured BER, so the measured range stays readable.
    double lowest = 1.0;
    for (const report::plot_series& s : plot.series) {
      for (const double y : s.y) {
        if (std::isfinite(y) && y > 0.0) lowest = std::min(lowest, y);
      }
    }
    for (const point_result& p : result.points) {
      const double ber = zf_rayleigh_theory_ber(config, p.snr_db);
      theory.x.push_back(p.snr_db);
      theory.y.push_back(ber >= lowest / 10.0 ? ber : std::numeric_limits<double>::quiet_NaN());
    }
    sort_by_x(theory);
    plot.series.push_back(std::move(theory));
  }
  if (is_coded(config)) {
    // Two panels side by side: uncoded BER (left) and BLER (right).
    const report::rgb_image left = report::render_line_plot(plot);
    const report::rgb_image right = report::render_line_plot(bler_plot);
    report::rgb_image both(left.width() + right.width(), std::max(left.height(), right.height()));
    for (int y = 0; y < left.height(); ++y) {
      for (int x = 0; x < left.width(); ++x) both.set_pixel(x, y, left.pixel(x, y));
    }
    for (int y = 0; y < right.height(); ++y) {
      for (int x = 0; x < right.width(); ++x) both.set_pixel(left.width() + x, y, right.pixel(x, y));
    }
    return both;
  }
  return report::render_line_plot(plot);
}

}  // namespace

void write_outputs(const std::filesystem::path& directory, const sweep_config& config,
                   const std::string& command_line, const sweep_result& result) {
  report::ensure_writable_directory(directory);
  // The three files are one result: rendered first, then written as a set, so a failure (a
  // full disk, a file-size limit, a directory in the way) leaves the previous run's set as it
  // was — never new CSV and JSON beside an old PNG.
  const std::string csv = to_csv(config, result);
  const std::string json = to_json(config, command_line, result);
  const std::string png = report::encode_png(render_plot(config, result));
  const std::array<report::output_file, 3> files{
      {{directory / "ber.csv", csv}, {directory / "ber.json", json}, {directory / "ber.png", png}}};
  report::write_file_set_atomically(files);
}

}  // namespace amimo::sweep
