#include <amimo/core/version.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <amimo/report/text_table.h>
#include <amimo/sweep/sweep_output.h>

#include <amimo/remote/remote_solver.h>
#include <channel_models/flat_models.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <map>

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

const report::text_table& result_table(bool analog) {
  static const report::text_table with_analog({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 12}}},
      {"Errors (measured)", {{"bits", 10}, {"bit err", 9}, {"BER", 9}, {"BER 95% CI", 19}, {"SER", 9}, {"FER", 9}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}, {"resid.", 8}}},
      {"Analog (modelled)", {{"nJ/RHS", 9}, {"us/RHS", 9}, {"nJ/prog", 9}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  if (analog) return with_analog;
  static const report::text_table table({
      {"Signal", {{"Es/N0(dB)", 9}, {"Eb/N0(dB)", 9}}},
      {"Receiver", {{"detector", 8}, {"solver", 12}}},
      {"Errors (measured)", {{"bits", 10}, {"bit err", 9}, {"BER", 9}, {"BER 95% CI", 19}, {"SER", 9}, {"FER", 9}}},
      {"Solver", {{"iters", 5}, {"fallback", 8}, {"unres.", 6}}},
      {"Time (measured)", {{"point s", 8}, {"us/RHS", 9}}},
  });
  return table;
}

double per_solve(double total, std::uint64_t solves) {
  return solves == 0 ? 0.0 : total / static_cast<double>(solves);
}

}  // namespace

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
  line("channel", channel_models::describe(
                      channel_models::flat_channel_config{c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl));
  line("Es/N0 (dB)", join_snr(c.snr_db));
  line("vectors per channel", std::to_string(c.vectors_per_channel));
  line("stop rule", fmt::format("{} bit errors | {} bits | {} s per point", c.min_errors, c.max_bits, c.max_seconds));
  line("threads", c.threads == 0 ? "all cores" : std::to_string(c.threads));
  line("output", c.out);
  h += "# SNR convention: Es/N0 per user symbol per receive antenna (Es = 1, unit-power channel).\n";
  h += "# Scoring: BER of hard decisions over streams not erased; erased streams (quality unknown:\n"
       "#   singular channel, failed solve) are counted as erased_bits in CSV/JSON, never scored.\n";
  h += "# ----------------------------------------------------\n";
  return h;
}

std::string table_header(const sweep_config& config) { return result_table(has_analog_solver(config)).header(); }

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
        std::to_string(cp.errors.bits()),
        std::to_string(cp.errors.bit_errors()),
        fmt::format("{:.3e}", cp.errors.ber()),
        fmt::format("{:.2e}-{:.2e}", ci.low, ci.high),
        fmt::format("{:.3e}", cp.errors.ser()),
        fmt::format("{:.3e}", cp.errors.fer()),
        fmt::format("{:.2f}", cp.stats.mean_iterations()),
        std::to_string(cp.stats.fallbacks),
        std::to_string(cp.unresolved_channels),
    };
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
    text += result_table(analog).row(cells);
  }
  return text;
}

std::string progress_line(const point_result& partial) {
  std::string text = fmt::format("  Es/N0 {:6.2f} dB |", partial.snr_db);
  for (const curve_point& cp : partial.curves) {
    text += fmt::format(" {}/{}: {} err, BER {:.2e} |", detect::to_string(cp.detector), cp.solver,
                        cp.errors.bit_errors(), cp.errors.ber());
  }
  text += fmt::format(" {:.1f} s (provisional)", partial.seconds);
  return text;
}

std::string to_csv(const sweep_result& result) {
  std::string csv =
      "snr_db,ebn0_db,detector,solver,frames,bits,bit_errors,ber,ber_ci_low,ber_ci_high,symbols,symbol_errors,"
      "ser,frame_errors,fer,seconds,stop_reason,unresolved_channels,solves,mean_iterations,mean_residual,"
      "fallbacks,failed_solves,measured_seconds_per_rhs,modelled_seconds_per_rhs,modelled_joules_per_rhs,"
      "modelled_programming_joules_per_channel,erased_bits\n";
  for (const point_result& p : result.points) {
    for (const curve_point& cp : p.curves) {
      const metrics::interval ci = cp.errors.ber_interval();
      const solver::solver_stats& s = cp.stats;
      const double residual = s.mean_residual();
      csv += fmt::format("{},{},{},{},{},{},{},{:.9g},{:.9g},{:.9g},{},{},{:.9g},{},{:.9g},{:.6f},{},{},{},{:.6g},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{}\n",
                         p.snr_db, p.ebn0_db, detect::to_string(cp.detector), cp.solver, cp.errors.frames(),
                         cp.errors.bits(), cp.errors.bit_errors(), cp.errors.ber(), ci.low, ci.high,
                         cp.errors.symbols(), cp.errors.symbol_errors(), cp.errors.ser(), cp.errors.frame_errors(),
                         cp.errors.fer(), p.seconds, p.stop_reason, cp.unresolved_channels, s.solves,
                         s.mean_iterations(), std::isfinite(residual) ? fmt::format("{:.6g}", residual) : "",
                         s.fallbacks, s.failed_solves, per_solve(s.measured_seconds, s.right_hand_sides),
                         per_solve(s.modelled_solve_seconds, s.right_hand_sides), per_solve(s.modelled_solve_joules, s.right_hand_sides),
                         per_solve(s.modelled_matrix_joules, s.matrices), cp.erased_bits);
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
  params["max_bits"] = c.max_bits;
  params["max_seconds"] = c.max_seconds;
  params["threads"] = c.threads;
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
  doc["points"] = points;
  // Remote solves a local fallback answered in this process, by reason (never silent).
  const remote::fallback_tally fallbacks = remote::remote_fallbacks();
  doc["remote_fallbacks"] = {{"total", fallbacks.total}, {"by_reason", fallbacks.by_reason}};
  doc["units"] = {{"snr_db", "dB (Es/N0)"}, {"ebn0_db", "dB"}, {"seconds", "s, measured wall time"},
                  {"measured_seconds_per_rhs", "s, measured"}, {"modelled_seconds_per_rhs", "s, modelled"},
                  {"modelled_joules_per_rhs", "J, modelled"}};
  return doc.dump(2) + "\n";
}

void write_outputs(const std::filesystem::path& directory, const sweep_config& config,
                   const std::string& command_line, const sweep_result& result) {
  report::ensure_writable_directory(directory);
  report::write_file_atomically(directory / "ber.csv", to_csv(result));
  report::write_file_atomically(directory / "ber.json", to_json(config, command_line, result));

  report::plot_spec plot;
  plot.title = fmt::format("BER vs Es/N0 (measured): {}x{} {} {}", config.antennas, config.users,
                           modem::to_string(config.modulation), config.channel);
  plot.x_label = "Es/N0 (dB)";
  plot.y_label = "BER";
  plot.log_y = true;
  std::map<std::string, std::size_t> index;
  for (const point_result& p : result.points) {
    for (const curve_point& cp : p.curves) {
      const std::string label = fmt::format("{} / {}", detect::to_string(cp.detector), cp.solver);
      auto [it, inserted] = index.try_emplace(label, plot.series.size());
      if (inserted) plot.series.push_back({label, {}, {}, {}, {}});
      report::plot_series& s = plot.series[it->second];
      const metrics::interval ci = cp.errors.ber_interval();
      s.x.push_back(p.snr_db);
      s.y.push_back(cp.errors.bit_errors() > 0 ? cp.errors.ber() : std::numeric_limits<double>::quiet_NaN());
      s.y_low.push_back(ci.low);
      s.y_high.push_back(ci.high);
    }
  }
  report::write_line_plot_png(directory / "ber.png", plot);
}

}  // namespace amimo::sweep
