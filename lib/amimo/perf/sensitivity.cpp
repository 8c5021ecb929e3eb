#include <amimo/perf/sensitivity.h>

#include <amimo/analog/analog_profile.h>
#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/text_table.h>
#include <amimo/report/tornado_plot.h>

#include <Eigen/Eigenvalues>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace amimo::perf {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double swing(double a, double b, double c) {
  const double lo = std::min({a, b, c});
  const double hi = std::max({a, b, c});
  return lo > 0.0 && std::isfinite(hi) ? hi / lo : std::nan("");
}

// The larger swing of a row, NaN (no system answered) ranked last.
double rank_of(double time_swing, double energy_swing) {
  const double m = std::max(std::isnan(time_swing) ? 0.0 : time_swing, std::isnan(energy_swing) ? 0.0 : energy_swing);
  return m;
}

// A CSV field: the number, or empty for NaN (no "nan" in the file).
std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }

// A JSON number, or null for NaN.
nlohmann::ordered_json json_number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); }

// A table cell: the figure with its unit, or n/a.
std::string cell(double v, const char* unit) { return std::isfinite(v) ? report::si(v, unit) : "n/a"; }
std::string swing_cell(double v) { return std::isfinite(v) ? fmt::format("{:.3g}x", v) : "-"; }

// One varied field: how to read and write it on a profile.
struct field_access {
  const char* key;
  const char* what;
  std::function<double(const analog::analog_profile&)> get;
  std::function<void(analog::analog_profile&, double)> set;
  double low_factor;   ///< range low = baseline × factor (or absolute, see absolute_low)
  double high_factor;
  bool integer;
  const char* basis;
};

#define AMIMO_FIELD(sec, member) \
  [](const analog::analog_profile& p) { return static_cast<double>(p.sec.member); }, \
      [](analog::analog_profile& p, double v) { p.sec.member = static_cast<decltype(p.sec.member)>(v); }

const std::vector<field_access>& fields() {
  static const std::vector<field_access> table = {
      {"circuit.opamp_gbw_hz", "op-amp GBW", AMIMO_FIELD(circuit, opamp_gbw_hz), 0.1, 10.0, false,
       "x0.1..x10: discrete to integrated op-amps"},
      {"circuit.opamp_power_w", "op-amp static power", AMIMO_FIELD(circuit, opamp_power_w), 0.1, 10.0, false,
       "x0.1..x10"},
      {"circuit.mvm_read_s", "array read time", AMIMO_FIELD(circuit, mvm_read_s), 0.1, 10.0, false, "x0.1..x10"},
      {"circuit.adc_conversion_s", "ADC conversion time", AMIMO_FIELD(circuit, adc_conversion_s), 0.1, 10.0, false,
       "x0.1..x10"},
      {"circuit.dac_conversion_s", "DAC conversion time", AMIMO_FIELD(circuit, dac_conversion_s), 0.0, 0.0, false,
       "0..one ADC conversion time"},
      {"circuit.mvm_dac_bits", "HP-MVM input DAC bits", AMIMO_FIELD(circuit, mvm_dac_bits), 0.0, 0.0, true,
       "1 (bit-serial)..4 bits per DAC step"},
      {"circuit.adc_fom_j", "ADC energy per step", AMIMO_FIELD(circuit, adc_fom_j), 0.1, 10.0, false, "x0.1..x10"},
      {"circuit.dac_fom_j", "DAC energy per step", AMIMO_FIELD(circuit, dac_fom_j), 0.1, 10.0, false, "x0.1..x10"},
      {"circuit.mvm_adc_bits", "HP-MVM ADC bits", AMIMO_FIELD(circuit, mvm_adc_bits), 0.0, 0.0, true, "-2..+2 bits"},
      {"circuit.lp_adc_bits", "LP-INV ADC bits", AMIMO_FIELD(circuit, lp_adc_bits), 0.0, 0.0, true, "-2..+2 bits"},
      {"circuit.read_voltage_v", "array read voltage", AMIMO_FIELD(circuit, read_voltage_v), 0.5, 2.0, false,
       "x0.5..x2"},
      {"device.g_max_us", "largest conductance", AMIMO_FIELD(device, g_max_us), 0.5, 2.0, false,
       "x0.5..x2 (unconfirmed in the reports)"},
      {"circuit.digital_j_per_op", "digital energy per op", AMIMO_FIELD(circuit, digital_j_per_op), 0.1, 10.0, false,
       "x0.1..x10"},
  };
  return table;
}

#undef AMIMO_FIELD

std::pair<double, double> range_of(const field_access& f, const analog::analog_profile& p) {
  const double base = f.get(p);
  const std::string key = f.key;
  if (key == "circuit.dac_conversion_s") return {0.0, std::max(base, p.circuit.adc_conversion_s)};
  if (key == "circuit.mvm_dac_bits") return {1.0, 4.0};
  if (f.integer) return {std::max(2.0, base - 2.0), base + 2.0};
  return {base * f.low_factor, base * f.high_factor};
}

// amimo-solve's "dominant" family: I + r·S/ρ(S), spectrum in [1−r, 1+r], r = (κ−1)/(κ+1).
rmat dominant(int n, double cond, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  }
  rmat sym = 0.5 * (g + g.transpose());
  sym.diagonal().setZero();
  const double radius = n == 1 ? 0.0 : Eigen::SelfAdjointEigenSolver<rmat>(sym).eigenvalues().cwiseAbs().maxCoeff();
  rmat a = rmat::Identity(n, n);
  if (radius > 0.0) a += ((cond - 1.0) / (cond + 1.0) / radius) * sym;
  return a;
}

// Modelled (seconds, joules) per solve of the profile, per system; NaN where the solve fell
// back (a digital answer has no analog cost).
std::vector<std::pair<double, double>> costs_of(const analog::analog_profile& profile, const std::vector<rmat>& systems,
                                                std::uint64_t seed) {
  const int n = static_cast<int>(systems.front().rows());
  auto backend = analog::create_analog_backend(profile, analog::analog_mode::refine, n, seed);
  std::vector<std::pair<double, double>> out;
  cmat x(n, 1), b(n, 1);
  rng gen(derive_seed(seed, {7}));
  for (std::size_t t = 0; t < systems.size(); ++t) {
    backend->reseed(derive_seed(seed, {2, t}));
    backend->set_matrix(systems[t].cast<cf64>(), solver::matrix_structure::hermitian);
    rvec truth(n);
    for (int i = 0; i < n; ++i) truth(i) = gen.normal();
    b.col(0) = (systems[t] * truth).cast<cf64>();
    x.setZero();
    const solver::solve_status status = backend->solve(x, b);
    if (status.fallback) {
      out.emplace_back(std::nan(""), std::nan(""));
      continue;
    }
    out.emplace_back(backend->last_solve_cost().seconds, backend->last_solve_cost().joules);
  }
  return out;
}

// Median of one part (seconds: 0, joules: 1) over the systems answered in every variant.
double median_over(const std::vector<std::pair<double, double>>& costs, const std::vector<bool>& keep, int part) {
  std::vector<double> v;
  for (std::size_t t = 0; t < costs.size(); ++t) {
    if (keep[t]) v.push_back(part == 0 ? costs[t].first : costs[t].second);
  }
  return median(v);
}

std::string value_text(const assumption_range& r, double v) {
  if (r.key.find("bits") != std::string::npos) return fmt::format("{:g}", v);
  const bool joules = r.key.ends_with("_j") || r.key.find("_j_") != std::string::npos;
  const std::string unit = r.key.ends_with("_s") ? "s" : joules ? "J" : r.key.ends_with("_hz") ? "Hz"
                           : r.key.ends_with("_w") ? "W" : r.key.ends_with("_v") ? "V" : r.key.ends_with("_us") ? "uS" : "";
  if (unit == "uS") return fmt::format("{:g} uS", v);
  return report::si(v, unit.c_str());
}

std::string range_text(const assumption_range& r) {
  return fmt::format("{}..{}", value_text(r, r.low), value_text(r, r.high));
}

}  // namespace

double sensitivity_row::time_swing() const noexcept { return swing(base_seconds, low_seconds, high_seconds); }
double sensitivity_row::energy_swing() const noexcept { return swing(base_joules, low_joules, high_joules); }

std::vector<assumption_range> sensitivity_ranges(const std::string& profile_name) {
  const analog::analog_profile p = analog::load_analog_profile(profile_name);
  std::vector<assumption_range> out;
  for (const field_access& f : fields()) {
    const auto [low, high] = range_of(f, p);
    const auto src = p.sources.find(f.key);
    std::string basis = f.basis;
    if (src != p.sources.end()) basis += "; profile value: " + src->second;
    out.push_back({f.key, f.what, f.get(p), low, high, basis});
  }
  return out;
}

void validate(const sensitivity_options& o) {
  if (o.sizes.empty()) throw config_error("sensitivity: at least one size");
  for (const int n : o.sizes) {
    if (n < 2 || n > 256) throw config_error(fmt::format("sensitivity: sizes must be in 2..256 (got {})", n));
  }
  if (o.trials < 1 || o.trials > 100) throw config_error("sensitivity: trials must be in 1..100");
  if (o.iterations < 1 || o.iterations > 64) throw config_error("sensitivity: iterations must be in 1..64");
  if (!(o.cond >= 1.0) || !std::isfinite(o.cond)) throw config_error("sensitivity: cond must be >= 1");
  (void)analog::load_analog_profile(o.profile);
}

sensitivity_result run_sensitivity(const sensitivity_options& o, const std::atomic<bool>* stop) {
  validate(o);
  analog::analog_profile base = analog::load_analog_profile(o.profile);
  analog::apply_analog_options(base, {{"iters", std::to_string(o.iterations)}, {"tol", "0"}});
  sensitivity_result result;
  result.options = o;
  result.profile_label = analog::profile_label(base);
  const std::vector<assumption_range> ranges = sensitivity_ranges(o.profile);
  for (const int n : o.sizes) {
    std::vector<rmat> systems;
    rng gen(derive_seed(o.seed, {static_cast<std::uint64_t>(n)}));
    for (int t = 0; t < o.trials; ++t) systems.push_back(dominant(n, o.cond, gen));
    const std::uint64_t seed = derive_seed(o.seed, {1000, static_cast<std::uint64_t>(n)});
    const auto base_costs = costs_of(base, systems, seed);
    std::vector<sensitivity_row> rows;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (stop != nullptr && stop->load()) {  // the rows so far are the result
        result.interrupted = true;
        break;
      }
      sensitivity_row row;
      row.n = n;
      row.range = ranges[i];
      std::vector<std::pair<double, double>> ends[2];
      for (const bool high : {false, true}) {
        analog::analog_profile p = base;
        fields()[i].set(p, high ? ranges[i].high : ranges[i].low);
        analog::validate(p);
        ends[high ? 1 : 0] = costs_of(p, systems, seed);
      }
      std::vector<bool> keep(systems.size());
      for (std::size_t t = 0; t < systems.size(); ++t) {
        int fell = 0;
        for (const auto* c : {&base_costs, std::as_const(ends) + 0, std::as_const(ends) + 1}) fell += std::isnan((*c)[t].first) ? 1 : 0;
        row.fallbacks += fell;
        keep[t] = fell == 0;
        row.systems += keep[t] ? 1 : 0;
      }
      row.base_seconds = median_over(base_costs, keep, 0);
      row.base_joules = median_over(base_costs, keep, 1);
      row.low_seconds = median_over(ends[0], keep, 0);
      row.low_joules = median_over(ends[0], keep, 1);
      row.high_seconds = median_over(ends[1], keep, 0);
      row.high_joules = median_over(ends[1], keep, 1);
      rows.push_back(row);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const sensitivity_row& a, const sensitivity_row& b) {
      return rank_of(a.time_swing(), a.energy_swing()) > rank_of(b.time_swing(), b.energy_swing());
    });
    result.rows.insert(result.rows.end(), rows.begin(), rows.end());
    if (result.interrupted) break;
  }
  return result;
}

std::string sensitivity_table(const sensitivity_result& r) {
  std::string t = fmt::format(
      "# Sensitivity of the modelled time and energy per solve ({}; dominant systems, condition number {:g}, {} "
      "iterations, median over the {} systems that the baseline and both ends solved in analog: 'systems' says how "
      "many, 'fell back' how many of the three variants' solves fell back to the digital answer, which has no analog "
      "cost). Each assumption at the low and high end of its range, all others at the profile's value. All figures "
      "modelled.\n",
      r.profile_label, r.options.cond, r.options.iterations, r.options.trials);
  const report::text_table table({
      {"System", {{"n", 4}}},
      {"Assumption (profile value, range)", {{"what", 22}, {"value", 10}, {"range", 22}}},
      {"Time per solve (modelled)", {{"low end", 10}, {"high end", 10}, {"swing", 7}}},
      {"Energy per solve (modelled)", {{"low end", 10}, {"high end", 10}, {"swing", 7}}},
      {"Solves", {{"systems", 7}, {"fell back", 9}}},
  });
  int last_n = -1;
  for (const sensitivity_row& row : r.rows) {
    if (row.n != last_n) {
      t += fmt::format("# n = {}: baseline {} and {} per solve (modelled; over the first row's systems)\n", row.n,
                       cell(row.base_seconds, "s"), cell(row.base_joules, "J"));
      t += table.header();
      last_n = row.n;
    }
    t += table.row({std::to_string(row.n), row.range.what, value_text(row.range, row.range.baseline),
                    range_text(row.range), cell(row.low_seconds, "s"), cell(row.high_seconds, "s"),
                    swing_cell(row.time_swing()), cell(row.low_joules, "J"), cell(row.high_joules, "J"),
                    swing_cell(row.energy_swing()), fmt::format("{}/{}", row.systems, r.options.trials),
                    std::to_string(row.fallbacks)});
  }
  t += "# swing = largest / smallest of baseline, low end, high end; rows ranked by the larger swing.\n";
  if (r.interrupted) t += "# Interrupted (signal): the rows above are the assumptions varied before it.\n";
  return t;
}

void write_sensitivity_outputs(const std::filesystem::path& directory, const sensitivity_result& r) {
  report::ensure_writable_directory(directory);
  std::string csv =
      "n,key,what,baseline,low,high,range_basis,base_seconds,low_seconds,high_seconds,time_swing,base_joules,"
      "low_joules,high_joules,energy_swing,systems,fallbacks\n";
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const sensitivity_row& row : r.rows) {
    csv += fmt::format("{},{},\"{}\",{:.6g},{:.6g},{:.6g},\"{}\",{},{},{},{},{},{},{},{},{},{}\n", row.n, row.range.key,
                       row.range.what, row.range.baseline, row.range.low, row.range.high, row.range.range_basis,
                       csv_number(row.base_seconds), csv_number(row.low_seconds), csv_number(row.high_seconds),
                       csv_number(row.time_swing()), csv_number(row.base_joules), csv_number(row.low_joules),
                       csv_number(row.high_joules), csv_number(row.energy_swing()), row.systems, row.fallbacks);
    rows.push_back({{"n", row.n},
                    {"key", row.range.key},
                    {"what", row.range.what},
                    {"baseline", row.range.baseline},
                    {"low", row.range.low},
                    {"high", row.range.high},
                    {"range_basis", row.range.range_basis},
                    {"modelled_seconds",
                     {{"baseline", json_number(row.base_seconds)},
                      {"low", json_number(row.low_seconds)},
                      {"high", json_number(row.high_seconds)}}},
                    {"modelled_joules",
                     {{"baseline", json_number(row.base_joules)},
                      {"low", json_number(row.low_joules)},
                      {"high", json_number(row.high_joules)}}},
                    {"time_swing", json_number(row.time_swing())},
                    {"energy_swing", json_number(row.energy_swing())},
                    {"systems", row.systems},
                    {"fallbacks", row.fallbacks}});
  }
  nlohmann::ordered_json doc;
  doc["profile"] = r.options.profile;
  doc["profile_label"] = r.profile_label;
  doc["cond"] = r.options.cond;
  doc["iterations"] = r.options.iterations;
  doc["trials"] = r.options.trials;
  doc["seed"] = r.options.seed;
  doc["interrupted"] = r.interrupted;
  doc["rows"] = rows;
  doc["units"] = {{"modelled_seconds", "s per solve, modelled"}, {"modelled_joules", "J per solve, modelled"}};
  output_file_set files;
  files.add(directory / "sensitivity.csv", std::move(csv));
  files.add(directory / "sensitivity.json", doc.dump(2) + "\n");
  for (const int n : r.options.sizes) {
    // A size an interrupted run did not reach has no rows and gets no chart.
    if (std::none_of(r.rows.begin(), r.rows.end(), [n](const sensitivity_row& row) { return row.n == n; })) continue;
    for (const bool energy : {false, true}) {
      report::tornado_spec spec;
      spec.title = fmt::format("{} per solve, {}x{}, {} (modelled)", energy ? "Energy" : "Time", n, n, r.profile_label);
      spec.x_label = fmt::format("{} per solve / baseline (modelled)", energy ? "energy" : "time");
      std::vector<const sensitivity_row*> mine;
      for (const sensitivity_row& row : r.rows) {
        if (row.n == n) mine.push_back(&row);
      }
      std::stable_sort(mine.begin(), mine.end(), [energy](const sensitivity_row* a, const sensitivity_row* b) {
        return rank_of(energy ? a->energy_swing() : a->time_swing(), 0.0) >
               rank_of(energy ? b->energy_swing() : b->time_swing(), 0.0);
      });
      for (const sensitivity_row* row : mine) {
        if (row->systems == 0) continue;  // nothing answered in analog: no bar
        const double base = energy ? row->base_joules : row->base_seconds;
        std::string label = fmt::format("{} {}", row->range.what, range_text(row->range));
        for (std::size_t at = label.find("µ"); at != std::string::npos; at = label.find("µ")) {
          label.replace(at, std::string("µ").size(), "u");  // the plot font is ASCII
        }
        spec.bars.push_back({label,
                             (energy ? row->low_joules : row->low_seconds) / base,
                             (energy ? row->high_joules : row->high_seconds) / base});
      }
      files.add(directory / fmt::format("tornado_{}_{}.png", n, energy ? "energy" : "time"),
                report::encode_png(report::render_tornado(spec)));
    }
  }
  // The charts of sizes this run did not chart (an interrupted run's later sizes, an
  // earlier run's other --sizes) go with the set: never an old chart beside new tables.
  files.remove_stale_matching(directory, "tornado_", "_time.png");
  files.remove_stale_matching(directory, "tornado_", "_energy.png");
  files.commit();
}

}  // namespace amimo::perf
