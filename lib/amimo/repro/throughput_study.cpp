// Study 3 of the paper reproduction: time, rate and energy per solve at 32×32 and 128×128
// for the analog HP-INV backend (modelled by amimo::analog's cost model, at the iteration
// count the simulator needs for FP32-level error), amimo's digital-f32 backend on this CPU
// (measured wall time; energy = time × a stated power per core) and the H100 roofline and
// digital-ASIC models of amimo::perf (modelled).
//
// Scenarios (right-hand sides per matrix R): "paper-style" compares the analog solve with
// programming left out against a digital factor-and-solve of every system (the reading of
// the paper's claim most favourable to analog); "R=1" charges a new matrix per solve to
// everyone (analog programming, digital factorisation); "R=16" amortises both over a
// coherence block of 16 solves.

#include <amimo/analog/analog_profile.h>
#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/perf/measure.h>
#include <amimo/perf/perf_model.h>
#include <amimo/perf/workload.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <amimo/repro/paper_studies.h>
#include <amimo/solver/solver_factory.h>

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>

namespace amimo::repro {
namespace {

constexpr double kCond = 4.0;  // condition number bound of the real test systems
constexpr int kBlock = 16;     // right-hand sides per matrix in the "R=16" scenario

struct scenario {
  const char* name;
  int analog_rhs;   // perf::analog_figures rhs_per_matrix (0: programming left out)
  int digital_rhs;  // digital right-hand sides per factorisation
};
constexpr scenario kScenarios[] = {
    {"paper-style (analog programming excluded, digital factor+solve per system)", 0, 1},
    {"R=1 (new matrix every solve, programming/factorisation included)", 1, 1},
    {"R=16 (coherence block of 16 solves per matrix)", kBlock, kBlock},
};

/// I + r·S/ρ(S) with S symmetric Gaussian, zero diagonal (amimo-solve --kind dominant).
rmat dominant_matrix(Eigen::Index n, double cond, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  rmat sym = 0.5 * (g + g.transpose());
  sym.diagonal().setZero();
  const double radius = Eigen::SelfAdjointEigenSolver<rmat>(sym).eigenvalues().cwiseAbs().maxCoeff();
  rmat a = rmat::Identity(n, n);
  if (radius > 0.0) a += ((cond - 1.0) / (cond + 1.0) / radius) * sym;
  return a;
}

struct analog_costs {
  int iterations = 0;
  bool fp32_level = false;  ///< some count up to max_iterations reached the FP32-level target
  double rel_error = kNoValue;
  double solve_s = kNoValue, solve_j = kNoValue, prog_s = kNoValue, prog_j = kNoValue;
  int fallbacks = 0;
  double adc_j = kNoValue, dac_j = kNoValue, array_j = kNoValue, opamp_j = kNoValue, digital_j = kNoValue;
};

/// Pass 1 finds the first iteration whose median error is within fp32_factor of digital-f32;
/// pass 2 runs exactly that many iterations and takes the cost model's medians.
analog_costs model_analog_costs(const perf_settings& s, const std::string& profile_name, int size) {
  const auto n = static_cast<Eigen::Index>(size);
  std::vector<rmat> matrices;
  std::vector<rvec> solutions;
  for (int t = 0; t < s.trials; ++t) {
    rng gen(derive_seed(s.seed, {static_cast<std::uint64_t>(size), static_cast<std::uint64_t>(t)}));
    matrices.push_back(dominant_matrix(n, kCond, gen));
    rvec x(n);
    for (Eigen::Index i = 0; i < n; ++i) x(i) = gen.normal();
    solutions.push_back(std::move(x));
  }
  auto f32 = solver::create_linear_solver({"digital-f32", {}}, size, 0);
  std::vector<double> f32_errors;
  cmat x(n, 1), b(n, 1);
  for (std::size_t t = 0; t < matrices.size(); ++t) {
    f32->set_matrix(matrices[t].cast<cf64>(), solver::matrix_structure::hermitian);
    b.col(0) = (matrices[t] * solutions[t]).cast<cf64>();
    x.setZero();
    f32->solve(x, b);
    f32_errors.push_back((x.col(0).real() - solutions[t]).norm() / solutions[t].norm());
  }
  const double target = s.fp32_factor * quantile(f32_errors, 0.5);

  analog::analog_profile profile = analog::load_analog_profile(profile_name);
  const auto run = [&](int iterations, std::vector<std::vector<double>>* per_k, analog_costs& out) {
    analog::analog_profile p = profile;
    analog::apply_analog_options(p, {{"iters", std::to_string(iterations)}, {"tol", "0"}});
    auto backend = analog::create_analog_backend(p, analog::analog_mode::refine, size, derive_seed(s.seed, {1000}));
    const rvec* truth = nullptr;
    std::vector<double>* errors = nullptr;
    if (per_k != nullptr) {
      backend->engine().set_iterate_observer([&](int column, int iteration, std::span<const double> xs) {
        if (errors == nullptr || truth == nullptr || column != 0 || iteration < 1 || iteration > iterations) return;
        if (static_cast<Eigen::Index>(xs.size()) < n) return;
        const Eigen::Map<const rvec> estimate(xs.data(), n);
        (*errors)[static_cast<std::size_t>(iteration - 1)] = (estimate - *truth).norm() / truth->norm();
      });
    }
    std::vector<double> solve_s, solve_j, prog_s, prog_j, final_errors, adc, dac, array, opamp, digital;
    for (std::size_t t = 0; t < matrices.size(); ++t) {
      std::vector<double> trial_errors(static_cast<std::size_t>(iterations), kNoValue);
      truth = &solutions[t];
      errors = &trial_errors;
      backend->reseed(derive_seed(s.seed, {2, static_cast<std::uint64_t>(size), t}));
      backend->set_matrix(matrices[t].cast<cf64>(), solver::matrix_structure::hermitian);
      prog_s.push_back(backend->last_programming_cost().seconds);
      prog_j.push_back(backend->last_programming_cost().joules);
      b.col(0) = (matrices[t] * solutions[t]).cast<cf64>();
      x.setZero();
      const solver::solve_status status = backend->solve(x, b);
      errors = nullptr;
      if (status.fallback) {
        ++out.fallbacks;
        continue;
      }
      solve_s.push_back(backend->last_solve_cost().seconds);
      solve_j.push_back(backend->last_solve_cost().joules);
      adc.push_back(backend->last_solve_cost().adc_j);
      dac.push_back(backend->last_solve_cost().dac_j);
      array.push_back(backend->last_solve_cost().array_j);
      opamp.push_back(backend->last_solve_cost().opamp_j);
      digital.push_back(backend->last_solve_cost().digital_j);
      final_errors.push_back((x.col(0).real() - solutions[t]).norm() / solutions[t].norm());
      if (per_k != nullptr) {
        for (std::size_t k = 0; k < trial_errors.size(); ++k) (*per_k)[k].push_back(trial_errors[k]);
      }
    }
    out.solve_s = quantile(solve_s, 0.5);
    out.solve_j = quantile(solve_j, 0.5);
    out.prog_s = quantile(prog_s, 0.5);
    out.prog_j = quantile(prog_j, 0.5);
    out.rel_error = quantile(final_errors, 0.5);
    out.adc_j = quantile(adc, 0.5);
    out.dac_j = quantile(dac, 0.5);
    out.array_j = quantile(array, 0.5);
    out.opamp_j = quantile(opamp, 0.5);
    out.digital_j = quantile(digital, 0.5);
  };

  analog_costs search;
  std::vector<std::vector<double>> per_k(static_cast<std::size_t>(s.max_iterations));
  run(s.max_iterations, &per_k, search);
  // No count reaching the target leaves the figures at the cap, which is not "the count
  // needed for FP32 level": the caller marks such rows and leaves them out of the verdicts.
  int chosen = s.max_iterations;
  bool reached = false;
  for (int k = 1; k <= s.max_iterations; ++k) {
    if (quantile(per_k[static_cast<std::size_t>(k - 1)], 0.5) <= target) {
      chosen = k;
      reached = true;
      break;
    }
  }
  analog_costs costs;
  costs.iterations = chosen;
  costs.fp32_level = reached;
  run(chosen, nullptr, costs);
  return costs;
}

/// amimo's digital-f32 backend on this CPU, one thread: MEASURED wall time of set_matrix
/// plus one solve of `rhs` right-hand sides, repeated over a few matrices for at least
/// `min_seconds` and `repeats` blocks.
perf::throughput_energy measure_cpu_f32(const perf_settings& s, int size, int rhs, double min_seconds) {
  const auto n = static_cast<Eigen::Index>(size);
  std::vector<cmat> matrices;
  for (int t = 0; t < 4; ++t) {
    rng gen(derive_seed(s.seed, {7, static_cast<std::uint64_t>(size), static_cast<std::uint64_t>(t)}));
    matrices.push_back(dominant_matrix(n, kCond, gen).cast<cf64>());
  }
  cmat b(n, rhs), x(n, rhs);
  rng gen(derive_seed(s.seed, {8, static_cast<std::uint64_t>(size)}));
  for (Eigen::Index j = 0; j < b.cols(); ++j)
    for (Eigen::Index i = 0; i < n; ++i) b(i, j) = cf64(gen.normal(), 0.0);
  auto f32 = solver::create_linear_solver({"digital-f32", {}}, size, 0);
  f32->set_matrix(matrices[0], solver::matrix_structure::hermitian);  // warm-up (buffers)
  f32->solve(x, b);
  const auto start = std::chrono::steady_clock::now();
  double wall = 0.0;
  std::uint64_t blocks = 0;
  while (blocks < static_cast<std::uint64_t>(s.cpu_repeats) || wall < min_seconds) {
    f32->set_matrix(matrices[blocks % matrices.size()], solver::matrix_structure::hermitian);
    f32->solve(x, b);
    ++blocks;
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (wall > 30.0) break;
  }
  return perf::cpu_figures(wall, static_cast<double>(blocks) * rhs, 1, s.cpu_watts_per_core);
}

void validate(const perf_settings& s) {
  if (s.sizes.empty()) throw config_error("throughput study needs at least one size");
  for (const int n : s.sizes) {
    if (n < 2 || n > 512) throw config_error(fmt::format("throughput study sizes must be in 2..512 (got {})", n));
  }
  if (s.profiles.empty()) throw config_error("throughput study needs at least one analog profile");
  if (s.trials < 1 || s.max_iterations < 1 || s.max_iterations > 64 || s.cpu_repeats < 1) {
    throw config_error("throughput study: trials, cpu_repeats >= 1 and max_iterations in 1..64");
  }
  if (!(s.cpu_watts_per_core > 0.0)) throw config_error("throughput study: cpu_watts_per_core must be positive");
}

perf_row make_row(int n, std::string system, std::string scenario_name, std::string basis,
                  const perf::throughput_energy& t, std::string source) {
  perf_row r;
  r.n = n;
  r.system = std::move(system);
  r.scenario = std::move(scenario_name);
  r.basis = std::move(basis);
  r.seconds_per_solve = t.seconds_per_solve;
  r.solves_per_s = t.solves_per_s;
  r.joules_per_solve = t.joules_per_solve;
  r.source = std::move(source);
  return r;
}

/// Where the modelled energy of an analog solve goes, and its time per iteration.
std::string breakdown(const analog_costs& c) {
  if (!(c.solve_j > 0.0)) return "";
  const auto share = [&](double part) { return std::isfinite(part) ? 100.0 * part / c.solve_j : 0.0; };
  return fmt::format(
      "energy per solve: ADC {:.0f}%, DAC {:.0f}%, array {:.0f}%, op-amps {:.0f}%, digital {:.0f}%; "
      "{:.3g} s per iteration; programming {:.3g} s, {:.3g} J per matrix (all modelled)",
      share(c.adc_j), share(c.dac_j), share(c.array_j), share(c.opamp_j), share(c.digital_j),
      c.solve_s / std::max(c.iterations, 1), c.prog_s, c.prog_j);
}

/// The largest energy component of an analog solve, e.g. "op-amp static power (95%)".
std::string energy_driver(const analog_costs& c) {
  if (!(c.solve_j > 0.0)) return "";
  const std::pair<const char*, double> parts[] = {{"ADC conversions", c.adc_j},
                                                  {"DAC conversions", c.dac_j},
                                                  {"array read energy", c.array_j},
                                                  {"op-amp/TIA static power", c.opamp_j},
                                                  {"digital periphery", c.digital_j}};
  const auto* best = std::max_element(std::begin(parts), std::end(parts), [](const auto& a, const auto& b) {
    return (std::isfinite(a.second) ? a.second : 0.0) < (std::isfinite(b.second) ? b.second : 0.0);
  });
  return fmt::format("{} ({:.0f}%)", best->first, 100.0 * best->second / c.solve_j);
}

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "";
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

}  // namespace

std::string fp32_not_reached(const perf_settings& s) {
  return fmt::format("FP32 level not reached within {} iterations", s.max_iterations);
}

perf_result run_throughput_energy_study(const perf_settings& settings, const progress_sink& progress) {
  validate(settings);
  perf_result result;
  result.settings = settings;
  const perf::gpu_roofline_params gpu;
  const perf::asic_params asic;
  result.gpu_device = gpu.device;
  result.gpu_source = gpu.source;
  result.asic_source = asic.source;
  const double cpu_seconds = settings.cpu_repeats >= 1000 ? 1.0 : 0.2;

  for (const int n : settings.sizes) {
    // Digital baselines per digital right-hand-side count (1 and kBlock).
    const perf::throughput_energy gpu1 = perf::gpu_roofline(gpu, n, perf::arithmetic::real, 1);
    const perf::throughput_energy gpu16 = perf::gpu_roofline(gpu, n, perf::arithmetic::real, kBlock);
    const std::string gpu_name = gpu.device + " (roofline)";
    result.rows.push_back(make_row(n, gpu_name, "R=1", "modelled", gpu1, gpu.source));
    result.rows.push_back(make_row(n, gpu_name, "R=16", "modelled", gpu16, gpu.source));
    result.rows.push_back(make_row(n, "digital ASIC", "R=1", "modelled",
                                   perf::asic_model(asic, n, perf::arithmetic::real, 1), asic.source));
    result.rows.push_back(make_row(n, "digital ASIC", "R=16", "modelled",
                                   perf::asic_model(asic, n, perf::arithmetic::real, kBlock), asic.source));
    const std::string cpu_source = fmt::format(
        "amimo digital-f32 backend (Eigen Cholesky, complex storage), 1 thread, wall time measured here; energy "
        "= time x {:g} W per core (stated, no RAPL)",
        settings.cpu_watts_per_core);
    result.rows.push_back(make_row(n, "CPU digital-f32", "R=1", "measured time, modelled energy",
                                   measure_cpu_f32(settings, n, 1, cpu_seconds), cpu_source));
    result.rows.push_back(make_row(n, "CPU digital-f32", "R=16", "measured time, modelled energy",
                                   measure_cpu_f32(settings, n, kBlock, cpu_seconds), cpu_source));

    // A real H100 (or whatever CUDA device is present) where this build and machine have one.
    perf::throughput_energy gpu_measured[2] = {};
    bool gpu_ok = false;
    if (perf::built_with_cuda()) {
      const int rhs_counts[2] = {1, kBlock};
      for (int i = 0; i < 2; ++i) {
        const perf::system_set set = perf::make_systems(perf::real_workload(n), 8, rhs_counts[i], kCond,
                                                        derive_seed(settings.seed, {9, static_cast<std::uint64_t>(n)}));
        const perf::gpu_measurement g = perf::measure_gpu(set, settings.gpu_measure_seconds, gpu.board_watts);
        result.gpu_status = g.status;
        if (!g.available) break;
        gpu_ok = true;
        gpu_measured[i] = g.figures;
        result.rows.push_back(make_row(
            n, "GPU measured (cuSOLVER batched)", i == 0 ? "R=1" : "R=16", "measured time, modelled energy",
            g.figures,
            fmt::format("{}; batched Cholesky factor-and-solve in complex FP32 (the real systems stored as complex: "
                        "~4x the real FLOPs), host transfers excluded; energy = time x {:g} W board power (stated)",
                        g.status, gpu.board_watts)));
      }
    } else {
      result.gpu_status = "not measured: amimo built without CUDA";
    }

    for (const std::string& profile : settings.profiles) {
      const analog_costs c = model_analog_costs(settings, profile, n);
      for (const scenario& sc : kScenarios) {
        const perf::throughput_energy a = perf::analog_figures(c.solve_s, c.solve_j, c.prog_s, c.prog_j, sc.analog_rhs);
        perf_row row = make_row(n, "analog " + profile, sc.name, "modelled", a,
                                fmt::format("amimo analog cost model, profile {} (configs/analog/{}.yaml); {} "
                                            "iterations{}; {} of {} solves fell back",
                                            profile, profile, c.iterations,
                                            c.fp32_level ? "" : " (" + fp32_not_reached(settings) + ")", c.fallbacks,
                                            settings.trials));
        row.iterations = c.iterations;
        row.fp32_level = c.fp32_level;
        row.rel_error = c.rel_error;
        row.note = breakdown(c);
        row.energy_driver = energy_driver(c);
        row.seconds_per_iteration = c.solve_s / std::max(c.iterations, 1);
        result.rows.push_back(row);
        const perf::throughput_energy& g = sc.digital_rhs == 1 ? gpu1 : gpu16;
        perf_ratio ratio;
        ratio.n = n;
        ratio.profile = profile;
        ratio.scenario = sc.name;
        ratio.fp32_level = c.fp32_level;
        ratio.throughput_ratio = a.solves_per_s / g.solves_per_s;
        ratio.energy_ratio = g.joules_per_solve / a.joules_per_solve;
        ratio.throughput_ratio_per_sm = a.solves_per_s / (g.solves_per_s / static_cast<double>(result.gpu_sms));
        if (gpu_ok) {
          const perf::throughput_energy& gm = gpu_measured[sc.digital_rhs == 1 ? 0 : 1];
          ratio.throughput_ratio_measured_gpu = a.solves_per_s / gm.solves_per_s;
          ratio.energy_ratio_measured_gpu = gm.joules_per_solve / a.joules_per_solve;
        }
        result.ratios.push_back(ratio);
      }
      if (progress) {
        progress(fmt::format("throughput/energy: {}x{} {}: {} iterations{}, {:.3g} s and {:.3g} J per solve (modelled)",
                             n, n, profile, c.iterations, c.fp32_level ? "" : " (" + fp32_not_reached(settings) + ")",
                             c.solve_s, c.solve_j));
      }
    }
  }
  return result;
}

void add_perf_outputs(output_file_set& files, const std::filesystem::path& directory, const perf_result& result) {
  std::string csv = "n,system,scenario,basis,seconds_per_solve,solves_per_s,joules_per_solve,iterations,rel_error,source,note\n";
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const perf_row& r : result.rows) {
    csv += fmt::format("{},\"{}\",\"{}\",{},{},{},{},{},{},\"{}\",\"{}\"\n", r.n, r.system, r.scenario, r.basis,
                       csv_number(r.seconds_per_solve), csv_number(r.solves_per_s), csv_number(r.joules_per_solve),
                       r.iterations, csv_number(r.rel_error), r.source, r.note);
    rows.push_back({{"n", r.n},
                    {"system", r.system},
                    {"scenario", r.scenario},
                    {"basis", r.basis},
                    {"seconds_per_solve", json_number(r.seconds_per_solve)},
                    {"solves_per_s", json_number(r.solves_per_s)},
                    {"joules_per_solve", json_number(r.joules_per_solve)},
                    {"iterations", r.iterations},
                    {"fp32_level_reached", r.fp32_level},
                    {"rel_error", json_number(r.rel_error)},
                    {"source", r.source},
                    {"note", r.note}});
  }
  nlohmann::ordered_json ratios = nlohmann::ordered_json::array();
  std::string ratio_csv =
      "n,profile,scenario,throughput_ratio_vs_h100,energy_ratio_vs_h100,throughput_ratio_vs_one_sm,"
      "throughput_ratio_vs_measured_gpu,energy_ratio_vs_measured_gpu,fp32_level_reached\n";
  for (const perf_ratio& r : result.ratios) {
    ratio_csv += fmt::format("{},{},\"{}\",{},{},{},{},{},{}\n", r.n, r.profile, r.scenario,
                             csv_number(r.throughput_ratio), csv_number(r.energy_ratio),
                             csv_number(r.throughput_ratio_per_sm), csv_number(r.throughput_ratio_measured_gpu),
                             csv_number(r.energy_ratio_measured_gpu), r.fp32_level ? "true" : "false");
    ratios.push_back({{"n", r.n},
                      {"profile", r.profile},
                      {"scenario", r.scenario},
                      {"throughput_ratio_vs_h100", json_number(r.throughput_ratio)},
                      {"energy_ratio_vs_h100", json_number(r.energy_ratio)},
                      {"throughput_ratio_vs_one_sm", json_number(r.throughput_ratio_per_sm)},
                      {"throughput_ratio_vs_measured_gpu", json_number(r.throughput_ratio_measured_gpu)},
                      {"energy_ratio_vs_measured_gpu", json_number(r.energy_ratio_measured_gpu)},
                      {"fp32_level_reached", r.fp32_level}});
  }
  const perf_settings& s = result.settings;
  nlohmann::ordered_json doc;
  doc["settings"] = {{"sizes", s.sizes},
                     {"profiles", s.profiles},
                     {"trials", s.trials},
                     {"max_iterations", s.max_iterations},
                     {"fp32_factor", s.fp32_factor},
                     {"cpu_repeats", s.cpu_repeats},
                     {"cpu_watts_per_core", s.cpu_watts_per_core},
                     {"matrices", "real dominant, condition number <= 4"},
                     {"seed", s.seed}};
  doc["gpu"] = {{"device", result.gpu_device},
                {"sms", result.gpu_sms},
                {"source", result.gpu_source},
                {"measurement", result.gpu_status}};
  doc["asic_source"] = result.asic_source;
  doc["rows"] = std::move(rows);
  doc["ratios"] = std::move(ratios);
  doc["units"] = {{"seconds_per_solve", "s per right-hand side"},
                  {"solves_per_s", "right-hand sides per second"},
                  {"joules_per_solve", "J per right-hand side"},
                  {"basis", "modelled (analog cost model, GPU roofline, ASIC) or measured (CPU wall time)"},
                  {"throughput_ratio_vs_h100", "analog solves/s / H100 solves/s (>1: analog faster)"},
                  {"energy_ratio_vs_h100", "H100 J/solve / analog J/solve (>1: analog more efficient)"},
                  {"throughput_ratio_vs_one_sm", "analog solves/s / (H100 solves/s / SMs)"},
                  {"fp32_level_reached", "analog: some iteration count up to max_iterations reached the FP32-level "
                                         "target (false: figures at max_iterations, left out of the verdicts); "
                                         "true for digital rows"}};
  files.add(directory / "perf.csv", std::move(csv));
  files.add(directory / "perf_ratios.csv", std::move(ratio_csv));
  files.add(directory / "perf.json", doc.dump(2) + "\n");

  // Solves/s against n, one series per system, in the "R=1" and paper-style scenarios.
  report::plot_spec plot;
  plot.title = "Solves/s vs n, R=1 (CPU, GPU measured; rest modelled)";
  plot.x_label = "system size n";
  plot.y_label = "solves/s (one right-hand side each)";
  plot.log_y = true;
  plot.width = 1200;
  plot.height = 760;
  std::vector<std::string> labels;
  for (const perf_row& r : result.rows) {
    const bool paper_style = r.scenario.rfind("paper-style", 0) == 0;
    if (r.scenario.rfind("R=1 ", 0) != 0 && r.scenario != "R=1" && !paper_style) continue;
    const std::string label = r.system + (paper_style ? ", programming excluded" : "");
    auto it = std::find(labels.begin(), labels.end(), label);
    if (it == labels.end()) {
      labels.push_back(label);
      plot.series.push_back({label, {}, {}, {}, {}});
      it = labels.end() - 1;
    }
    report::plot_series& series = plot.series[static_cast<std::size_t>(it - labels.begin())];
    series.x.push_back(static_cast<double>(r.n));
    series.y.push_back(r.solves_per_s);
  }
  files.add(directory / "perf.png", report::encode_png(report::render_line_plot(plot)));
}

}  // namespace amimo::repro
