#include <amimo/perf/compare.h>

#include <amimo/analog/analog_profile.h>
#include <amimo/perf/rapl.h>
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/rng.h>
#include <amimo/core/thread_pool.h>
#include <amimo/core/version.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/text_table.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace amimo::perf {
namespace {

using report::si;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "";
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

/// Short tag of a basis for the table: "measured" → "meas.", else "model".
std::string tag(const std::string& basis) {
  return basis.rfind("measured", 0) == 0 ? "[measured]" : "[modelled]";
}

/// The iterations cell: "direct" for a direct solve (0), "-" when no analog solve was
/// answered (NaN: every one fell back; it printed "direct" until stop 35).
std::string iterations_cell(double iterations) {
  if (!std::isfinite(iterations)) return "-";
  return iterations > 0 ? fmt::format("{:g}", iterations) : "direct";
}

result_row base_row(const workload& w) {
  result_row r;
  r.workload = w.name();
  r.kind = w.kind == workload_kind::real_system ? "real" : "mimo";
  r.n = w.n;
  r.antennas = w.antennas;
  r.users = w.users;
  r.rel_error_vs_f64 = kNaN;
  return r;
}

}  // namespace

mimo_shape parse_mimo_shape(const std::string& text) {
  const std::size_t x = text.find_first_of("xX");
  mimo_shape s;
  try {
    if (x == std::string::npos || x == 0 || x + 1 >= text.size()) throw std::invalid_argument("no x");
    std::size_t used_a = 0, used_b = 0;
    s.antennas = std::stoi(text.substr(0, x), &used_a);
    s.users = std::stoi(text.substr(x + 1), &used_b);
    if (used_a != x || used_b != text.size() - x - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw config_error("MIMO shape '" + text + "' is not ANTENNASxUSERS (e.g. 16x4)");
  }
  (void)mimo_workload(s.antennas, s.users);  // range check
  return s;
}

void validate(const compare_options& o) {
  if (o.sizes.empty() && o.shapes.empty()) throw config_error("nothing to compare: no --sizes and no --shapes");
  for (const int n : o.sizes) {
    if (n < 2 || n > 512) throw config_error(fmt::format("--sizes: each size must be in 2..512 (got {})", n));
  }
  for (const mimo_shape& s : o.shapes) {
    if (s.users > 512) throw config_error(fmt::format("--shapes: users must be <= 512 (got {})", s.users));
    (void)mimo_workload(s.antennas, s.users);
  }
  for (const std::string& p : o.profiles) (void)analog::load_analog_profile(p);
  if (!(o.cond >= 1.0) || !std::isfinite(o.cond)) {
    throw config_error(fmt::format("--cond must be a finite number >= 1 (got {})", o.cond));
  }
  if (o.solves_per_matrix < 1 || o.solves_per_matrix > 100000) {
    throw config_error(fmt::format("--solves-per-matrix must be in 1..100000 (got {})", o.solves_per_matrix));
  }
  if (o.matrices < 1 || o.matrices > 1024)
    throw config_error(fmt::format("--matrices must be in 1..1024 (got {})", o.matrices));
  if (!(o.cpu_seconds >= 0.0 && o.cpu_seconds <= 600.0)) {
    throw config_error(fmt::format("--seconds must be in 0..600 (got {})", o.cpu_seconds));
  }
  if (o.threads < 0 || o.threads > max_worker_threads)
    throw config_error(fmt::format("--threads must be in 0..{} (0: all hardware threads; got {})", max_worker_threads,
                                   o.threads));
  if (!(o.cpu_watts_per_core > 0.0) || !std::isfinite(o.cpu_watts_per_core)) {
    throw config_error(fmt::format("--cpu-watts must be a positive number (got {})", o.cpu_watts_per_core));
  }
  if (!(o.asic.pj_per_flop > 0.0) || !std::isfinite(o.asic.pj_per_flop)) {
    throw config_error(fmt::format("--asic-pj-per-flop must be a positive number (got {})", o.asic.pj_per_flop));
  }
  if (!(o.asic.flops_per_s > 0.0) || !std::isfinite(o.asic.flops_per_s)) {
    throw config_error(fmt::format("--asic-flops must be a positive number (got {})", o.asic.flops_per_s));
  }
  if (!(o.gpu.efficiency > 0.0 && o.gpu.efficiency <= 1.0)) {
    throw config_error(fmt::format("--gpu-efficiency must be in (0, 1] (got {})", o.gpu.efficiency));
  }
  if (!(o.gpu.peak_flops > 0.0 && o.gpu.memory_bw > 0.0 && o.gpu.board_watts > 0.0)) {
    throw config_error("GPU peak FLOP/s, bandwidth and board power must be positive");
  }
  if (!(o.analog.tolerance > 0.0 && o.analog.tolerance < 1.0)) {
    throw config_error(fmt::format("--analog-tol must be in (0, 1) (got {})", o.analog.tolerance));
  }
  if (o.analog.max_iterations < 1 || o.analog.max_iterations > 64) {
    throw config_error(fmt::format("--analog-max-iters must be in 1..64 (got {})", o.analog.max_iterations));
  }
  if (o.analog.rhs < 1 || o.analog.rhs > 1000) {
    throw config_error(fmt::format("--analog-rhs must be in 1..1000 (got {})", o.analog.rhs));
  }
  if (o.analog_matrices < 1 || o.analog_matrices > o.matrices) {
    throw config_error(
        fmt::format("--analog-matrices must be in 1..--matrices ({}) (got {})", o.matrices, o.analog_matrices));
  }
}

compare_result run_compare(const compare_options& o, const std::function<void(const std::string&)>& progress,
                           const std::atomic<bool>* stop) {
  const rapl_meter rapl;  // CPU energy measured where the machine exposes RAPL
  validate(o);
  const auto say = [&progress](const std::string& line) {
    if (progress) progress(line);
  };
  std::vector<workload> loads;
  for (const int n : o.sizes) loads.push_back(real_workload(n));
  for (const mimo_shape& s : o.shapes) loads.push_back(mimo_workload(s.antennas, s.users));
  std::vector<analog::analog_profile> profiles;
  for (const std::string& p : o.profiles) profiles.push_back(analog::load_analog_profile(p));

  thread_pool pool(o.threads);
  compare_result result;
  result.threads = pool.size();
  bool gpu_checked = false;
  result.gpu_status = built_with_cuda() ? "" : "not measured: amimo built without CUDA";
  // Checked between steps: once set, the rows so far are the result.
  const auto stopped = [&result, stop] {
    if (stop != nullptr && stop->load()) result.interrupted = true;
    return result.interrupted;
  };

  for (std::size_t wi = 0; wi < loads.size() && !stopped(); ++wi) {
    const workload& w = loads[wi];
    const system_set set = make_systems(w, o.matrices, o.solves_per_matrix, o.cond, derive_seed(o.seed, {wi}));
    const std::string amortised = fmt::format("factorisation once per {} solves", o.solves_per_matrix);

    for (const char* backend : {"digital-f64", "digital-f32"}) {
      if (stopped()) break;
      say(fmt::format("{}: cpu {} ({} threads, {} s)", w.name(), backend, pool.size(), o.cpu_seconds));
      const auto before = rapl.read();
      const cpu_measurement m = measure_cpu(pool, set, backend, o.cpu_seconds, 1, o.cpu_watts_per_core, stop);
      const auto after = rapl.read();
      result_row r = base_row(w);
      r.backend = fmt::format("cpu {} x{}", backend, m.threads);
      r.series = fmt::format("cpu {}", backend);
      r.amortisation = amortised;
      r.solves_per_s = m.figures.solves_per_s;
      r.throughput_basis = "measured";
      r.joules_per_solve = m.figures.joules_per_solve;
      r.energy_basis = fmt::format("modelled (measured time x {} W/core x {} cores)", o.cpu_watts_per_core, m.threads);
      // RAPL where readable: the package energy over the measurement (warm-up included,
      // like the wall time; other processes and idle power included).
      if (rapl.available() && before && after && m.solves > 0) {
        r.joules_per_solve = rapl.joules_between(*before, *after) / static_cast<double>(m.solves);
        r.energy_basis = "measured (RAPL package energy over the run, whole package)";
      }
      r.seconds_per_solve = m.figures.seconds_per_solve;
      r.rel_error_vs_f64 = m.rel_error_vs_f64;
      r.solves = m.solves;
      result.rows.push_back(r);
    }

    if (stopped()) break;
    if (o.try_gpu && built_with_cuda() && (!gpu_checked || result.gpu_status.rfind("not measured", 0) != 0)) {
      say(fmt::format("{}: gpu (cuSOLVER batched Cholesky)", w.name()));
      const gpu_measurement g = measure_gpu(set, o.cpu_seconds, o.gpu.board_watts);
      gpu_checked = true;
      result.gpu_status = g.status;
      if (g.available) {
        result_row r = base_row(w);
        r.backend = "gpu cuSOLVER c-FP32";
        r.series = "gpu cuSOLVER";
        r.amortisation = amortised;
        r.solves_per_s = g.figures.solves_per_s;
        r.throughput_basis = "measured";
        r.joules_per_solve = g.figures.joules_per_solve;
        r.energy_basis = fmt::format("modelled (measured time x {} W board)", o.gpu.board_watts);
        r.seconds_per_solve = g.figures.seconds_per_solve;
        r.rel_error_vs_f64 = g.rel_error_vs_f64;
        r.solves = g.solves;
        result.rows.push_back(r);
      }
    }

    {
      const throughput_energy g = gpu_roofline(o.gpu, w.n, w.arith(), o.solves_per_matrix);
      result_row r = base_row(w);
      r.backend = "gpu H100 roofline";
      r.series = "gpu H100 roofline";
      r.amortisation = amortised;
      r.solves_per_s = g.solves_per_s;
      r.throughput_basis = "modelled";
      r.joules_per_solve = g.joules_per_solve;
      r.energy_basis = "modelled";
      r.seconds_per_solve = g.seconds_per_solve;
      result.rows.push_back(r);
    }
    {
      const throughput_energy a = asic_model(o.asic, w.n, w.arith(), o.solves_per_matrix);
      result_row r = base_row(w);
      r.backend = "digital ASIC";
      r.series = "digital ASIC";
      r.amortisation = amortised;
      r.solves_per_s = a.solves_per_s;
      r.throughput_basis = "modelled";
      r.joules_per_solve = a.joules_per_solve;
      r.energy_basis = "modelled";
      r.seconds_per_solve = a.seconds_per_solve;
      result.rows.push_back(r);
    }

    for (std::size_t pi = 0; pi < profiles.size(); ++pi) {
      if (stopped()) break;
      say(fmt::format("{}: analog {} (simulating {} matrices x {} solves)", w.name(), profiles[pi].name,
                      o.analog_matrices, o.analog.rhs));
      analog_run_options ao = o.analog;
      ao.matrices = o.analog_matrices;
      const analog_estimate e = model_analog(set, profiles[pi], ao, derive_seed(o.seed, {1000, wi, pi}));
      for (const bool with_programming : {false, true}) {
        const throughput_energy& f = with_programming ? e.amortised : e.solve_only;
        result_row r = base_row(w);
        r.backend = fmt::format("analog {} ({} mapping){}", e.profile, profiles[pi].circuit.lp_mapping,
                                with_programming ? " +prog" : "");
        r.series = r.backend;
        r.amortisation = with_programming ? fmt::format("programming once per {} solves", o.solves_per_matrix)
                                          : "programming not counted";
        r.solves_per_s = f.solves_per_s;
        r.throughput_basis = "modelled";
        r.joules_per_solve = f.joules_per_solve;
        r.energy_basis = "modelled";
        r.seconds_per_solve = f.seconds_per_solve;
        r.iterations = e.median_iterations;
        r.rel_error_vs_f64 = e.median_rel_error_vs_f64;
        r.fallbacks = e.fallbacks;
        r.solves = static_cast<std::uint64_t>(e.solves);
        result.rows.push_back(r);
      }
    }
  }
  if (result.gpu_status.empty()) result.gpu_status = "not measured";
  return result;
}

std::vector<std::pair<std::string, std::string>> describe(const compare_options& o) {
  std::vector<std::pair<std::string, std::string>> d;
  std::string sizes, shapes, profiles;
  for (const int n : o.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(n);
  for (const mimo_shape& s : o.shapes) shapes += fmt::format("{}{}x{}", shapes.empty() ? "" : ",", s.antennas, s.users);
  for (const std::string& p : o.profiles) {
    profiles += (profiles.empty() ? "" : ", ") + analog::profile_label(analog::load_analog_profile(p));
  }
  d.emplace_back("seed", std::to_string(o.seed));
  d.emplace_back("real sizes n", sizes.empty() ? "(none)" : sizes);
  d.emplace_back("real systems", fmt::format("A = I + r S/rho(S), SPD, unit diagonal, cond <= {}", o.cond));
  d.emplace_back("MIMO shapes NxK", shapes.empty() ? "(none)" : shapes);
  d.emplace_back("MIMO systems", "K x K ZF Gram H^H H, H i.i.d. CN(0,1) (Rayleigh), complex Hermitian");
  d.emplace_back("solves per matrix", fmt::format("{} (a coherence block: factorisation/programming amortised over it)",
                                                  o.solves_per_matrix));
  d.emplace_back("matrices per workload", std::to_string(o.matrices));
  d.emplace_back("cpu backends", "digital-f64, digital-f32 (Eigen LLT, complex arithmetic), one per worker");
  d.emplace_back("cpu threads", o.threads == 0
                                    ? fmt::format("{} (all hardware threads)", thread_pool::hardware_threads())
                                    : std::to_string(o.threads));
  d.emplace_back("cpu seconds per measurement", fmt::format("{}", o.cpu_seconds));
  d.emplace_back("cpu watts per core", fmt::format("{} ({})", o.cpu_watts_per_core, o.cpu_watts_source));
  d.emplace_back("cpu energy", rapl_meter().available()
                                   ? "measured from RAPL (" + rapl_meter().status() + ")"
                                   : "modelled: measured time x watts per core (" + rapl_meter().status() + ")");
  d.emplace_back("analog profiles", profiles.empty() ? "(none)" : profiles);
  d.emplace_back("analog precision target", fmt::format("relative residual <= {} (FP32 level), at most {} iterations",
                                                        o.analog.tolerance, o.analog.max_iterations));
  d.emplace_back("analog simulated", fmt::format("{} matrices x {} right-hand sides per workload and profile",
                                                 o.analog_matrices, o.analog.rhs));
  d.emplace_back("gpu model",
                 fmt::format("{}: FP32 {:g} TFLOP/s, {:g} TB/s, {:g} W, efficiency {:g}", o.gpu.device,
                             o.gpu.peak_flops / 1e12, o.gpu.memory_bw / 1e12, o.gpu.board_watts, o.gpu.efficiency));
  d.emplace_back("gpu model source", o.gpu.source);
  d.emplace_back("gpu model formula",
                 "t = max(FLOPs/peak, bytes/bandwidth)/efficiency; E = t x board W; "
                 "FLOPs = n^3/3 per matrix + 2n^2 per rhs (x4 complex); "
                 "bytes = FP32 (3n^2 per matrix + 2n per rhs)");
  d.emplace_back("gpu measurement", !o.try_gpu          ? "off (--no-gpu)"
                                    : built_with_cuda() ? "cuSOLVER batched Cholesky when a CUDA device is present"
                                                        : "unavailable: built without CUDA");
  d.emplace_back("asic model", fmt::format("{:g} pJ/FLOP, {:g} FLOP/s", o.asic.pj_per_flop, o.asic.flops_per_s));
  d.emplace_back("asic model source", o.asic.source);
  return d;
}

std::string format_tables(const compare_result& result) {
  const report::text_table table({
      {"Backend", {{"name", 26}}},
      {"Throughput", {{"solves/s", 10}, {"basis", 10}}},
      {"Energy per solve", {{"J", 10}, {"basis", 10}}},
      {"Refinement", {{"iters", 5}, {"err vs f64", 10}, {"fallbk", 6}}},
  });
  std::string text;
  std::string current;
  for (const result_row& r : result.rows) {
    if (r.workload != current) {
      current = r.workload;
      text += fmt::format("# Workload: {}{}\n", r.workload,
                          r.kind == "mimo" ? " — ZF detection, one received vector per solve" : "");
      text += table.header();
    }
    text += table.row({r.backend, std::isfinite(r.solves_per_s) ? fmt::format("{:.3e}", r.solves_per_s) : "n/a",
                       tag(r.throughput_basis), si(r.joules_per_solve, "J"), tag(r.energy_basis),
                       iterations_cell(r.iterations),
                       std::isfinite(r.rel_error_vs_f64) ? fmt::format("{:.2e}", r.rel_error_vs_f64) : "-",
                       r.backend.rfind("analog", 0) == 0 ? std::to_string(r.fallbacks) : "-"});
  }
  text += "# cpu: measured wall time here; its energy is modelled (time x stated W/core). gpu roofline, ASIC and\n";
  text += "# analog figures are modelled. analog: iterations to the precision target (median), +prog = programming\n";
  text += "# amortised over the solves per matrix; err vs f64 = median ||x - x_f64|| / ||x_f64||.\n";
  for (const result_row& r : result.rows) {
    if (r.fallbacks > 0 && r.backend.rfind("analog", 0) == 0 && r.backend.find("+prog") == std::string::npos) {
      text += fmt::format("# {} / {}: {} of {} solves fell back to the digital backend; their digital solve is not "
                          "modelled, so no throughput or energy is given (n/a)\n",
                          r.workload, r.backend, r.fallbacks, r.solves);
    }
  }
  text += fmt::format("# gpu measurement: {}\n", result.gpu_status);
  if (result.interrupted) {
    text += "# Interrupted (signal): the rows above are the steps finished before it (the last CPU measurement\n"
            "# may be shorter than --seconds); the rest was not run.\n";
  }
  return text;
}

std::string to_csv(const compare_result& result) {
  std::string csv =
      "workload,kind,n,antennas,users,backend,amortisation,throughput_solves_per_s,throughput_basis,"
      "energy_j_per_solve,energy_basis,seconds_per_solve,iterations,rel_error_vs_f64,fallbacks,solves\n";
  for (const result_row& r : result.rows) {
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.workload, r.kind, r.n, r.antennas,
                       r.users, r.backend, r.amortisation, csv_number(r.solves_per_s), r.throughput_basis,
                       csv_number(r.joules_per_solve), r.energy_basis, csv_number(r.seconds_per_solve),
                       csv_number(r.iterations), csv_number(r.rel_error_vs_f64), r.fallbacks, r.solves);
  }
  return csv;
}

std::string to_json(const compare_options& o, const compare_result& result, const std::string& command_line) {
  nlohmann::ordered_json doc;
  doc["interrupted"] = result.interrupted;
  nlohmann::ordered_json params;
  params["version"] = version_string;
  params["command_line"] = command_line;
  for (const auto& [key, value] : describe(o)) params[key] = value;
  params["threads_used"] = result.threads;
  doc["params"] = params;
  nlohmann::ordered_json models;
  models["gpu"] = {
      {"device", o.gpu.device},           {"peak_flops", o.gpu.peak_flops}, {"memory_bw_bytes_per_s", o.gpu.memory_bw},
      {"board_watts", o.gpu.board_watts}, {"efficiency", o.gpu.efficiency}, {"source", o.gpu.source}};
  models["asic"] = {
      {"pj_per_flop", o.asic.pj_per_flop}, {"flops_per_s", o.asic.flops_per_s}, {"source", o.asic.source}};
  models["cpu"] = {{"watts_per_core", o.cpu_watts_per_core}, {"source", o.cpu_watts_source}};
  doc["models"] = models;
  doc["gpu_status"] = result.gpu_status;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const result_row& r : result.rows) {
    nlohmann::ordered_json j;
    j["workload"] = r.workload;
    j["kind"] = r.kind;
    j["n"] = r.n;
    j["antennas"] = r.antennas;
    j["users"] = r.users;
    j["backend"] = r.backend;
    j["amortisation"] = r.amortisation;
    j["throughput_solves_per_s"] = json_number(r.solves_per_s);
    j["throughput_basis"] = r.throughput_basis;
    j["energy_j_per_solve"] = json_number(r.joules_per_solve);
    j["energy_basis"] = r.energy_basis;
    j["seconds_per_solve"] = json_number(r.seconds_per_solve);
    j["iterations"] = json_number(r.iterations);
    j["rel_error_vs_f64"] = json_number(r.rel_error_vs_f64);
    j["fallbacks"] = r.fallbacks;
    j["solves"] = r.solves;
    rows.push_back(j);
  }
  doc["rows"] = rows;
  doc["units"] = {{"throughput_solves_per_s", "right-hand sides solved per second"},
                  {"energy_j_per_solve", "J per right-hand side"},
                  {"seconds_per_solve", "s per right-hand side (1 / throughput)"},
                  {"iterations", "median analog refinement iterations to the precision target; 0: direct solve; "
                                 "null: every analog solve fell back"},
                  {"fallbacks", "analog solves the digital fallback answered; when > 0 the row's throughput and "
                                "energy are null (the fallback's digital solve is not modelled)"},
                  {"rel_error_vs_f64", "median ||x - x_f64||_2 / ||x_f64||_2; null for models"}};
  return doc.dump(2) + "\n";
}

namespace {

report::plot_spec plot_against_n(const compare_result& result, bool energy) {
  report::plot_spec plot;
  plot.title = energy ? "Energy per solve vs n (real n x n systems)" : "Throughput vs n (real n x n systems)";
  plot.x_label = "log2(n)   (8 = 3, 16 = 4, 32 = 5, 64 = 6, 128 = 7, 256 = 8)";
  plot.y_label = energy ? "energy per solve (J)" : "throughput (solves/s)";
  plot.log_y = true;
  plot.width = 1200;
  plot.height = 760;
  std::vector<std::string> order;
  std::map<std::string, report::plot_series> series;
  for (const result_row& r : result.rows) {
    if (r.kind != "real") continue;
    if (!series.count(r.series)) {
      order.push_back(r.series);
      const bool measured = r.throughput_basis == "measured" && !energy;
      series[r.series].label = r.series + (measured ? " [measured]" : " [modelled]");
    }
    report::plot_series& s = series[r.series];
    s.x.push_back(std::log2(static_cast<double>(r.n)));
    s.y.push_back(energy ? r.joules_per_solve : r.solves_per_s);
  }
  for (const std::string& name : order) plot.series.push_back(series[name]);
  return plot;
}

}  // namespace

report::plot_spec throughput_plot(const compare_result& result) {
  return plot_against_n(result, false);
}

report::plot_spec energy_plot(const compare_result& result) {
  return plot_against_n(result, true);
}

void write_outputs(const std::filesystem::path& dir, const compare_options& options, const compare_result& result,
                   const std::string& command_line) {
  report::ensure_writable_directory(dir);
  output_file_set files;
  files.add(dir / "report.csv", to_csv(result));
  files.add(dir / "report.json", to_json(options, result, command_line));
  files.add(dir / "report-throughput.png", report::encode_png(report::render_line_plot(throughput_plot(result))));
  files.add(dir / "report-energy.png", report::encode_png(report::render_line_plot(energy_plot(result))));
  files.commit();
}

}  // namespace amimo::perf
