// Study 2 of the paper reproduction: BER vs SNR of ZF 256-QAM over i.i.d. Rayleigh for
// digital-f32, analog at several iteration counts and LP-INV alone (see paper_studies.h).
//
// The sweep applies its analog options to every analog solver of a run, so each iteration
// count is its own run_sweep call; all runs use one seed, so frame f of SNR s carries the
// same channel, bits and noise in every run and the merged curves differ by solver alone.

#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <amimo/repro/paper_studies.h>
#include <amimo/sweep/sweep_runner.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace amimo::repro {
namespace {

void validate(const ber_settings& s) {
  if (s.shapes.empty()) throw config_error("BER study needs at least one antenna x user shape");
  if (s.iterations.empty()) throw config_error("BER study needs at least one analog iteration count");
  for (const int k : s.iterations) {
    if (k < 1 || k > 64) throw config_error(fmt::format("analog iteration counts must be in 1..64 (got {})", k));
  }
  for (const mimo_shape& shape : s.shapes) {
    if (shape.snr_db.empty()) throw config_error("BER study shape without SNR points");
    for (std::size_t i = 1; i < shape.snr_db.size(); ++i) {
      if (!(shape.snr_db[i] > shape.snr_db[i - 1])) throw config_error("BER study SNR points must ascend");
    }
  }
}

/// Forwards finished points as progress lines, and a stop request (a signal handler's flag)
/// to the running sweep: it ends after its current round.
class progress_observer final : public sweep::sweep_observer {
 public:
  progress_observer(const progress_sink& sink, std::string prefix, const std::atomic<bool>* stop,
                    sweep::sweep_control& control)
      : sink_(sink), prefix_(std::move(prefix)), stop_(stop), control_(control) {}
  void on_progress(const sweep::point_result&) override {
    if (stop_ != nullptr && stop_->load()) control_.stop_run = true;
  }
  void on_point_done(const sweep::point_result& point) override {
    if (!sink_) return;
    std::string text = fmt::format("{}: {:g} dB", prefix_, point.snr_db);
    for (const sweep::curve_point& c : point.curves) {
      text += fmt::format(", {} BER {:.3g}", c.solver, c.errors.ber());
    }
    sink_(text);
  }

 private:
  const progress_sink& sink_;
  std::string prefix_;
  const std::atomic<bool>* stop_;
  sweep::sweep_control& control_;
};

std::string analog_label(int iterations) {
  return fmt::format("analog {} it", iterations);
}

ber_curve& curve_for(std::vector<ber_curve>& curves, const std::string& label, const std::string& solver,
                     int iterations) {
  for (ber_curve& c : curves) {
    if (c.label == label) return c;
  }
  curves.push_back({label, solver, iterations, {}});
  return curves.back();
}

/// The point of a curve at snr; else, when the curve stopped error-free below snr, its last
/// point (flagged through stopped_at); else null.
const ber_point* point_at(const ber_curve& c, double snr, double& stopped_at) {
  stopped_at = kNoValue;
  const ber_point* last_below = nullptr;
  for (const ber_point& p : c.points) {
    if (p.snr_db == snr) return &p;
    if (p.snr_db < snr) last_below = &p;
  }
  if (last_below != nullptr && last_below->errors.bit_errors() == 0) {
    stopped_at = last_below->snr_db;
    return last_below;
  }
  return nullptr;
}

iteration_match compare_with_digital(const ber_curve& digital, const ber_curve& analog,
                                     const std::vector<double>& snrs, double visible_ber) {
  iteration_match m;
  m.label = analog.label;
  m.iterations = analog.iterations;
  for (const double snr : snrs) {
    double d_stop = kNoValue, a_stop = kNoValue;
    const ber_point* d = point_at(digital, snr, d_stop);
    const ber_point* a = point_at(analog, snr, a_stop);
    if (d == nullptr || a == nullptr) continue;  // not run (interrupted)
    if (std::isfinite(d_stop) && std::isfinite(a_stop)) continue;  // both stopped error-free
    ber_verdict v;
    v.snr_db = snr;
    const metrics::interval ci = d->errors.ber_interval();
    v.digital_ber = d->errors.ber();
    v.digital_low = ci.low;
    v.digital_high = ci.high;
    v.analog_ber = std::isfinite(a_stop) ? 0.0 : a->errors.ber();
    if (std::isfinite(d_stop)) {
      v.note = fmt::format("digital-f32 error-free from {:g} dB on (its interval there)", d_stop);
    }
    if (std::isfinite(a_stop)) v.note = fmt::format("{} error-free from {:g} dB on (BER 0)", analog.label, a_stop);
    v.inside = v.analog_ber >= v.digital_low && v.analog_ber <= v.digital_high;
    m.verdicts.push_back(std::move(v));
  }
  m.matches = !m.verdicts.empty() && std::all_of(m.verdicts.begin(), m.verdicts.end(),
                                                 [](const ber_verdict& v) { return v.inside; });
  bool any_visible = false;
  m.matches_visible = true;
  for (const ber_verdict& v : m.verdicts) {
    if (!(v.digital_ber >= visible_ber)) continue;
    any_visible = true;
    m.matches_visible = m.matches_visible && v.inside;
  }
  m.matches_visible = m.matches_visible && any_visible;
  for (const ber_verdict& v : m.verdicts) {  // ascending SNR
    if (!v.inside) break;
    if (v.digital_ber > 0.0 && !(v.digital_ber >= m.matched_down_to_ber)) m.matched_down_to_ber = v.digital_ber;
  }
  return m;
}

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "";
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

double per(double total, std::uint64_t count) {
  return count > 0 ? total / static_cast<double>(count) : kNoValue;
}

std::string shape_name(const mimo_shape& s) {
  return fmt::format("{}x{}", s.antennas, s.users);
}

}  // namespace

ber_result run_mimo_ber_study(const ber_settings& settings, const progress_sink& progress,
                              const std::atomic<bool>* stop) {
  validate(settings);
  ber_result result;
  result.settings = settings;
  const auto stop_requested = [stop] { return stop != nullptr && stop->load(); };
  for (const mimo_shape& shape : settings.shapes) {
    if (stop_requested()) break;
    const auto start = std::chrono::steady_clock::now();
    ber_shape_result sr;
    sr.shape = shape;
    sweep::sweep_config base;
    base.antennas = shape.antennas;
    base.users = shape.users;
    base.modulation = modem::modulation::qam256;
    base.detectors = {detect::detector_kind::zf};
    base.mode = detect::detection_mode::per_vector;
    base.channel = "rayleigh";
    base.snr_db = shape.snr_db;
    base.vectors_per_channel = settings.vectors_per_channel;
    base.min_errors = settings.min_errors;
    base.max_bits = settings.max_bits;
    base.max_seconds = settings.max_seconds;
    base.seed = settings.seed;
    base.threads = settings.threads;

    // Curves in plot order: digital-f32, analog at each count, analog-lp.
    curve_for(sr.curves, "digital-f32", "digital-f32", 0);
    for (const int k : settings.iterations) curve_for(sr.curves, analog_label(k), "analog", k);
    curve_for(sr.curves, "analog-lp", "analog-lp", 1);

    for (std::size_t run = 0; run < settings.iterations.size(); ++run) {
      if (stop_requested()) {
        sr.interrupted = true;
        break;
      }
      const int k = settings.iterations[run];
      sweep::sweep_config c = base;
      c.analog_options = {{"profile", settings.profile}, {"iters", std::to_string(k)}};
      if (run == 0) {
        c.solvers = {{"digital-f32", {}}, {"analog", {}}, {"analog-lp", {}}};
      } else {
        c.solvers = {{"analog", {}}};
      }
      sweep::validate(c);
      sweep::sweep_control control;
      progress_observer observer(progress,
                                 fmt::format("BER {} run {}/{} (analog {} it{})", shape_name(shape), run + 1,
                                             settings.iterations.size(), k, run == 0 ? ", digital-f32, analog-lp" : ""),
                                 stop, control);
      const sweep::sweep_result r = sweep::run_sweep(c, observer, control);
      sr.interrupted = sr.interrupted || r.interrupted;
      for (const sweep::point_result& p : r.points) {
        for (const sweep::curve_point& cp : p.curves) {
          const std::string label = cp.solver == "analog" ? analog_label(k) : cp.solver;
          ber_curve& curve = curve_for(sr.curves, label, cp.solver, cp.solver == "analog" ? k : 0);
          curve.points.push_back({p.snr_db, p.ebn0_db, p.stop_reason, cp.errors, cp.stats});
        }
      }
    }

    const ber_curve& digital = sr.curves.front();
    for (std::size_t i = 1; i < sr.curves.size(); ++i) {
      sr.matches.push_back(compare_with_digital(digital, sr.curves[i], shape.snr_db, settings.visible_ber));
    }
    for (const iteration_match& m : sr.matches) {
      if (m.label == "analog-lp") continue;
      if (m.matches && sr.first_matching_iterations == 0) sr.first_matching_iterations = m.iterations;
      if (m.matches_visible && sr.first_matching_iterations_visible == 0) {
        sr.first_matching_iterations_visible = m.iterations;
      }
    }
    const ber_curve& lp = sr.curves.back();
    if (!lp.points.empty()) {
      const ber_point& top = lp.points.back();
      sr.lp_top_snr = top.snr_db;
      sr.lp_top_ber = top.errors.ber();
      double stopped = kNoValue;
      if (const ber_point* d = point_at(digital, top.snr_db, stopped)) {
        sr.lp_top_digital_high = d->errors.ber_interval().high;
      }
    }
    sr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (progress) {
      progress(fmt::format("BER {}: analog matches digital-f32 from {} iterations ({:.1f} s measured)",
                           shape_name(shape),
                           sr.first_matching_iterations > 0 ? std::to_string(sr.first_matching_iterations) : "none",
                           sr.seconds));
    }
    result.shapes.push_back(std::move(sr));
  }
  return result;
}

void add_ber_outputs(output_file_set& files, const std::filesystem::path& directory, const ber_result& result) {
  const analog::analog_profile profile = analog::load_analog_profile(result.settings.profile);
  std::string csv =
      "shape,antennas,users,snr_db,ebn0_db,curve,solver,iterations,frames,bits,bit_errors,ber,ber_ci_low,"
      "ber_ci_high,stop_reason,solves,mean_iterations,mean_residual,fallbacks,modelled_seconds_per_rhs,"
      "modelled_joules_per_rhs,modelled_joules_per_matrix\n";
  std::string match_csv = "shape,curve,iterations,snr_db,digital_ber,digital_ci_low,digital_ci_high,analog_ber,inside,note\n";
  nlohmann::ordered_json shapes = nlohmann::ordered_json::array();
  for (const ber_shape_result& sr : result.shapes) {
    const std::string name = shape_name(sr.shape);
    nlohmann::ordered_json js;
    js["shape"] = name;
    js["antennas"] = sr.shape.antennas;
    js["users"] = sr.shape.users;
    js["snr_db"] = sr.shape.snr_db;
    js["measured_seconds"] = sr.seconds;
    js["interrupted"] = sr.interrupted;
    nlohmann::ordered_json curves = nlohmann::ordered_json::array();
    for (const ber_curve& c : sr.curves) {
      nlohmann::ordered_json jc;
      jc["curve"] = c.label;
      jc["solver"] = c.solver;
      jc["iterations"] = c.iterations;
      nlohmann::ordered_json points = nlohmann::ordered_json::array();
      for (const ber_point& p : c.points) {
        const metrics::interval ci = p.errors.ber_interval();
        const double s_rhs = per(p.stats.modelled_solve_seconds, p.stats.right_hand_sides);
        const double j_rhs = per(p.stats.modelled_solve_joules, p.stats.right_hand_sides);
        const double j_matrix = per(p.stats.modelled_matrix_joules, p.stats.matrices);
        const bool modelled = c.solver != "digital-f32";
        csv += fmt::format("{},{},{},{:g},{:.4f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", name,
                           sr.shape.antennas, sr.shape.users, p.snr_db, p.ebn0_db, c.label, c.solver, c.iterations,
                           p.errors.frames(), p.errors.bits(), p.errors.bit_errors(), csv_number(p.errors.ber()),
                           csv_number(ci.low), csv_number(ci.high), p.stop_reason, p.stats.solves,
                           csv_number(p.stats.mean_iterations()), csv_number(p.stats.mean_residual()),
                           p.stats.fallbacks, modelled ? csv_number(s_rhs) : "", modelled ? csv_number(j_rhs) : "",
                           modelled ? csv_number(j_matrix) : "");
        nlohmann::ordered_json jp;
        jp["snr_db"] = p.snr_db;
        jp["ebn0_db"] = p.ebn0_db;
        jp["frames"] = p.errors.frames();
        jp["bits"] = p.errors.bits();
        jp["bit_errors"] = p.errors.bit_errors();
        jp["ber"] = p.errors.ber();
        jp["ber_ci_low"] = ci.low;
        jp["ber_ci_high"] = ci.high;
        jp["stop_reason"] = p.stop_reason;
        jp["solves"] = p.stats.solves;
        jp["mean_iterations"] = json_number(p.stats.mean_iterations());
        jp["mean_residual"] = json_number(p.stats.mean_residual());
        jp["fallbacks"] = p.stats.fallbacks;
        if (modelled) {
          jp["modelled_seconds_per_rhs"] = json_number(s_rhs);
          jp["modelled_joules_per_rhs"] = json_number(j_rhs);
          jp["modelled_joules_per_matrix"] = json_number(j_matrix);
        }
        points.push_back(std::move(jp));
      }
      jc["points"] = std::move(points);
      curves.push_back(std::move(jc));
    }
    js["curves"] = std::move(curves);
    nlohmann::ordered_json matches = nlohmann::ordered_json::array();
    for (const iteration_match& m : sr.matches) {
      nlohmann::ordered_json jm;
      jm["curve"] = m.label;
      jm["iterations"] = m.iterations;
      jm["inside_digital_f32_interval_everywhere"] = m.matches;
      jm["inside_where_digital_ber_at_least_visible_ber"] = m.matches_visible;
      jm["matched_down_to_ber"] = json_number(m.matched_down_to_ber);
      nlohmann::ordered_json verdicts = nlohmann::ordered_json::array();
      for (const ber_verdict& v : m.verdicts) {
        verdicts.push_back({{"snr_db", v.snr_db},
                            {"digital_ber", json_number(v.digital_ber)},
                            {"digital_ci_low", json_number(v.digital_low)},
                            {"digital_ci_high", json_number(v.digital_high)},
                            {"analog_ber", json_number(v.analog_ber)},
                            {"inside", v.inside},
                            {"note", v.note}});
        match_csv += fmt::format("{},{},{},{:g},{},{},{},{},{},\"{}\"\n", name, m.label, m.iterations, v.snr_db,
                                 csv_number(v.digital_ber), csv_number(v.digital_low), csv_number(v.digital_high),
                                 csv_number(v.analog_ber), v.inside ? 1 : 0, v.note);
      }
      jm["verdicts"] = std::move(verdicts);
      matches.push_back(std::move(jm));
    }
    js["matches"] = std::move(matches);
    js["first_matching_iterations"] = sr.first_matching_iterations;
    js["first_matching_iterations_visible"] = sr.first_matching_iterations_visible;
    js["analog_lp_top"] = {{"snr_db", json_number(sr.lp_top_snr)},
                           {"ber", json_number(sr.lp_top_ber)},
                           {"digital_f32_ci_high", json_number(sr.lp_top_digital_high)}};
    shapes.push_back(std::move(js));

    report::plot_spec plot;
    plot.title = fmt::format("BER (measured): {} ZF 256-QAM, {} ({} mapping)", name, result.settings.profile,
                             profile.circuit.lp_mapping);
    plot.x_label = "Es/N0 (dB)";
    plot.y_label = "BER (95% Wilson interval)";
    plot.log_y = true;
    plot.width = 1100;
    plot.height = 720;
    for (const ber_curve& c : sr.curves) {
      report::plot_series s{c.label, {}, {}, {}, {}};
      for (const ber_point& p : c.points) {
        const metrics::interval ci = p.errors.ber_interval();
        s.x.push_back(p.snr_db);
        s.y.push_back(p.errors.bit_errors() > 0 ? p.errors.ber() : kNoValue);
        s.y_low.push_back(ci.low);
        s.y_high.push_back(ci.high);
      }
      plot.series.push_back(std::move(s));
    }
    files.add(directory / fmt::format("ber_{}.png", name), report::encode_png(report::render_line_plot(plot)));
  }
  const ber_settings& s = result.settings;
  nlohmann::ordered_json doc;
  doc["settings"] = {{"modulation", "qam256"},
                     {"detector", "zf"},
                     {"mode", "per-vector"},
                     {"channel", "rayleigh"},
                     {"profile", s.profile},
                     {"lp_mapping", profile.circuit.lp_mapping},
                     {"profile_label", analog::profile_label(profile)},
                     {"iterations", s.iterations},
                     {"visible_ber", s.visible_ber},
                     {"vectors_per_channel", s.vectors_per_channel},
                     {"min_errors", s.min_errors},
                     {"max_bits", s.max_bits},
                     {"max_seconds", s.max_seconds},
                     {"seed", s.seed},
                     {"threads", s.threads}};
  doc["shapes"] = std::move(shapes);
  doc["units"] = {{"ber", "bit errors / bits, measured (simulated link)"},
                  {"ber_ci_low", "95% Wilson interval on the effective number of bits"},
                  {"modelled_seconds_per_rhs", "s per right-hand side, modelled (analog cost model)"},
                  {"modelled_joules_per_rhs", "J per right-hand side, modelled"},
                  {"modelled_joules_per_matrix", "J per programmed channel matrix, modelled"},
                  {"measured_seconds", "s wall time of the shape's sweep runs, measured"}};
  files.add(directory / "ber.csv", std::move(csv));
  files.add(directory / "ber_match.csv", std::move(match_csv));
  files.add(directory / "ber.json", doc.dump(2) + "\n");
}

}  // namespace amimo::repro
