// Study 1 of the paper reproduction: relative error per refinement iteration on random
// 16×16 real systems, per analog profile and matrix family (see paper_studies.h).

#include <amimo/analog/analog_profile.h>
#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/line_plot.h>
#include <amimo/repro/paper_studies.h>
#include <amimo/solver/solver_factory.h>

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <span>

namespace amimo::repro {

double quantile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
               values.end());
  if (values.empty()) return kNoValue;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double fit_slope(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 2) return kNoValue;
  double mx = 0.0, my = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxx > 0.0 ? sxy / sxx : kNoValue;
}

namespace {

/// Haar-distributed random orthogonal matrix (Householder QR of a Gaussian matrix, signs of
/// R's diagonal moved into Q; Mezzadri 2007) — as amimo-solve generates it.
rmat random_orthogonal(rng& gen, Eigen::Index n) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  const Eigen::HouseholderQR<rmat> qr(g);
  rmat q = qr.householderQ() * rmat::Identity(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    if (qr.matrixQR()(j, j) < 0.0) q.col(j) *= -1.0;
  }
  return q;
}

/// The matrix families of amimo-solve --kind dominant | spd (same construction).
rmat generate_matrix(const matrix_family& family, Eigen::Index n, rng& gen) {
  if (family.kind == "dominant") {
    rmat g(n, n);
    for (Eigen::Index j = 0; j < n; ++j)
      for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
    rmat sym = 0.5 * (g + g.transpose());
    sym.diagonal().setZero();
    const double radius =
        n == 1 ? 0.0 : Eigen::SelfAdjointEigenSolver<rmat>(sym).eigenvalues().cwiseAbs().maxCoeff();
    rmat a = rmat::Identity(n, n);
    if (radius > 0.0) a += ((family.cond - 1.0) / (family.cond + 1.0) / radius) * sym;
    return a;
  }
  rvec spectrum(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    spectrum(i) =
        n == 1 ? 1.0 : std::pow(family.cond, -static_cast<double>(i) / static_cast<double>(n - 1));
  }
  const rmat q = random_orthogonal(gen, n);
  rmat a = q * spectrum.asDiagonal() * q.transpose();
  return 0.5 * (a + a.transpose());
}

void validate(const relerr_settings& s) {
  if (s.size < 2 || s.size > 256) throw config_error(fmt::format("relative-error size must be in 2..256 (got {})", s.size));
  if (s.iterations < 1 || s.iterations > 64) {
    throw config_error(fmt::format("relative-error iterations must be in 1..64 (got {})", s.iterations));
  }
  if (s.trials < 1 || s.trials > 100000) {
    throw config_error(fmt::format("relative-error trials must be in 1..100000 (got {})", s.trials));
  }
  if (s.profiles.empty()) throw config_error("relative-error study needs at least one analog profile");
  if (s.families.empty()) throw config_error("relative-error study needs at least one matrix family");
  for (const matrix_family& f : s.families) {
    if (f.kind != "dominant" && f.kind != "spd") {
      throw config_error("matrix family kind must be dominant or spd (got '" + f.kind + "')");
    }
    if (!(f.cond >= 1.0) || !std::isfinite(f.cond)) {
      throw config_error(fmt::format("matrix family condition number must be finite and >= 1 (got {})", f.cond));
    }
  }
  if (!(s.fp32_factor >= 1.0) || !(s.paper_level > 0.0)) {
    throw config_error("relative-error fp32_factor must be >= 1 and paper_level > 0");
  }
}

double relative_error(const rvec& x, const rvec& x_true) {
  return (x - x_true).norm() / x_true.norm();
}

/// Fills the derived figures of a curve from its per-iteration medians.
void derive_figures(relerr_curve& c, const relerr_settings& s) {
  const int iters = static_cast<int>(c.median.size());
  const double fp32_level = s.fp32_factor * c.f32_median;
  for (int k = 1; k <= iters; ++k) {
    const double m = c.median[static_cast<std::size_t>(k - 1)];
    if (c.first_k_paper_level == 0 && m <= s.paper_level) c.first_k_paper_level = k;
    if (c.first_k_fp32 == 0 && m <= fp32_level) c.first_k_fp32 = k;
  }
  c.floor_median = iters > 0 ? c.median.back() : kNoValue;
  // Fit over the iterations clearly above the precision floor (at least k = 1..2).
  int last = 1;
  while (last < iters) {
    const double m = c.median[static_cast<std::size_t>(last)];
    if (!std::isfinite(m) || !(m > 4.0 * c.f32_median)) break;
    ++last;
  }
  last = std::max(last, std::min(2, iters));
  std::vector<double> ks, bits;
  for (int k = 1; k <= last; ++k) {
    const double m = c.median[static_cast<std::size_t>(k - 1)];
    if (std::isfinite(m) && m > 0.0) {
      ks.push_back(static_cast<double>(k));
      bits.push_back(-std::log2(m));
    }
  }
  c.fit_first = 1;
  c.fit_last = last;
  c.bits_per_iteration = fit_slope(ks, bits);
}

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.6g}", v) : "";
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

nlohmann::ordered_json json_array(const std::vector<double>& values) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const double v : values) a.push_back(json_number(v));
  return a;
}

std::string family_name(const matrix_family& f) {
  return fmt::format("{} cond {:g}", f.kind, f.cond);
}

}  // namespace

relerr_result run_relative_error_study(const relerr_settings& settings, const progress_sink& progress) {
  validate(settings);
  relerr_result result;
  result.settings = settings;
  const auto n = static_cast<Eigen::Index>(settings.size);
  const auto iters = static_cast<std::size_t>(settings.iterations);

  for (const std::string& profile_name : settings.profiles) {
    analog::analog_profile profile = analog::load_analog_profile(profile_name);
    analog::apply_analog_options(profile, {{"iters", std::to_string(settings.iterations)}, {"tol", "0"}});
    // One chip per profile (its stuck devices fixed by the seed), reprogrammed per matrix.
    auto backend = analog::create_analog_backend(profile, analog::analog_mode::refine, settings.size,
                                                 derive_seed(settings.seed, {1000}));
    auto lp_backend = analog::create_analog_backend(profile, analog::analog_mode::lp_only, settings.size,
                                                    derive_seed(settings.seed, {1000}));
    auto f32 = solver::create_linear_solver({"digital-f32", {}}, settings.size, 0);
    auto f64 = solver::create_linear_solver({"digital-f64", {}}, settings.size, 0);

    rvec x_true(n);
    std::vector<double>* current = nullptr;  // per-iteration errors of the trial in flight
    backend->engine().set_iterate_observer([&](int column, int iteration, std::span<const double> x) {
      if (current == nullptr || column != 0 || iteration < 1 || static_cast<std::size_t>(iteration) > iters) return;
      // Real systems stay n-dimensional; an embedding [Re x; Im x] would start with Re x.
      if (static_cast<Eigen::Index>(x.size()) < n) return;
      const Eigen::Map<const rvec> estimate(x.data(), n);
      (*current)[static_cast<std::size_t>(iteration - 1)] = relative_error(estimate, x_true);
    });

    for (std::size_t fi = 0; fi < settings.families.size(); ++fi) {
      const matrix_family& family = settings.families[fi];
      relerr_curve curve;
      curve.profile = profile_name;
      curve.family = family;
      curve.trials = settings.trials;
      std::vector<std::vector<double>> per_k(iters);
      std::vector<double> lp_errors, f32_errors, f64_errors, solve_s, solve_j, prog_s, prog_j;
      cmat a_c(n, n), x(n, 1), b(n, 1);
      for (int t = 0; t < settings.trials; ++t) {
        const auto trial = static_cast<std::uint64_t>(t);
        // The same systems for every profile, and the streams amimo-solve uses (trial t:
        // derive_seed(seed, {t}); noise derive_seed(seed, {2, t}); chip derive_seed(seed,
        // {1000})), so `amimo-solve --kind K --cond C --seed S` reproduces a curve exactly.
        rng gen(derive_seed(settings.seed, {trial}));
        const rmat a = generate_matrix(family, n, gen);
        for (Eigen::Index i = 0; i < n; ++i) x_true(i) = gen.normal();
        a_c = a.cast<cf64>();
        b.col(0) = (a * x_true).cast<cf64>();

        std::vector<double> errors(iters, kNoValue);
        current = &errors;
        backend->reseed(derive_seed(settings.seed, {2, trial}));
        backend->set_matrix(a_c, solver::matrix_structure::hermitian);
        prog_s.push_back(backend->last_programming_cost().seconds);
        prog_j.push_back(backend->last_programming_cost().joules);
        x.setZero();
        const solver::solve_status status = backend->solve(x, b);
        current = nullptr;
        if (status.fallback) {
          ++curve.fallbacks;
        } else {
          for (std::size_t k = 0; k < iters; ++k) per_k[k].push_back(errors[k]);
          solve_s.push_back(backend->last_solve_cost().seconds);
          solve_j.push_back(backend->last_solve_cost().joules);
        }

        lp_backend->reseed(derive_seed(settings.seed, {2, trial}));
        lp_backend->set_matrix(a_c, solver::matrix_structure::hermitian);
        x.setZero();
        if (lp_backend->solve(x, b).fallback) {
          ++curve.lp_fallbacks;
        } else {
          lp_errors.push_back(relative_error(x.col(0).real(), x_true));
        }
        f32->set_matrix(a_c, solver::matrix_structure::hermitian);
        x.setZero();
        f32->solve(x, b);
        f32_errors.push_back(relative_error(x.col(0).real(), x_true));
        f64->set_matrix(a_c, solver::matrix_structure::hermitian);
        x.setZero();
        f64->solve(x, b);
        f64_errors.push_back(relative_error(x.col(0).real(), x_true));
      }
      for (std::size_t k = 0; k < iters; ++k) {
        curve.median.push_back(quantile(per_k[k], 0.5));
        curve.p10.push_back(quantile(per_k[k], 0.1));
        curve.p90.push_back(quantile(per_k[k], 0.9));
        curve.counted.push_back(static_cast<int>(
            std::count_if(per_k[k].begin(), per_k[k].end(), [](double v) { return std::isfinite(v); })));
      }
      curve.lp_median = quantile(lp_errors, 0.5);
      curve.lp_p10 = quantile(lp_errors, 0.1);
      curve.lp_p90 = quantile(lp_errors, 0.9);
      curve.f32_median = quantile(f32_errors, 0.5);
      curve.f64_median = quantile(f64_errors, 0.5);
      curve.modelled_solve_seconds = quantile(solve_s, 0.5);
      curve.modelled_solve_joules = quantile(solve_j, 0.5);
      curve.modelled_programming_seconds = quantile(prog_s, 0.5);
      curve.modelled_programming_joules = quantile(prog_j, 0.5);
      derive_figures(curve, settings);
      if (progress) {
        progress(fmt::format("relative error: {} {} — median at k={} {:.3g}, {:.2f} bits/iteration",
                             curve.profile, family_name(family), settings.iterations, curve.floor_median,
                             curve.bits_per_iteration));
      }
      result.curves.push_back(std::move(curve));
    }
  }
  return result;
}

void add_relative_error_outputs(output_file_set& files, const std::filesystem::path& directory,
                                const relerr_result& result) {
  const relerr_settings& s = result.settings;
  std::string csv = "profile,kind,cond,iteration,median_rel_error,p10,p90,trials_counted\n";
  std::string summary =
      "profile,kind,cond,trials,fallbacks,lp_median_rel_error,lp_fallbacks,f32_median_rel_error,"
      "f64_median_rel_error,median_rel_error_last,first_k_paper_level,first_k_fp32_level,bits_per_iteration,"
      "fit_first,fit_last,modelled_solve_s,modelled_solve_j,modelled_programming_s,modelled_programming_j\n";
  nlohmann::ordered_json curves = nlohmann::ordered_json::array();
  for (const relerr_curve& c : result.curves) {
    for (std::size_t k = 0; k < c.median.size(); ++k) {
      csv += fmt::format("{},{},{:g},{},{},{},{},{}\n", c.profile, c.family.kind, c.family.cond, k + 1,
                         csv_number(c.median[k]), csv_number(c.p10[k]), csv_number(c.p90[k]), c.counted[k]);
    }
    summary += fmt::format("{},{},{:g},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", c.profile, c.family.kind,
                           c.family.cond, c.trials, c.fallbacks, csv_number(c.lp_median), c.lp_fallbacks,
                           csv_number(c.f32_median), csv_number(c.f64_median), csv_number(c.floor_median),
                           c.first_k_paper_level, c.first_k_fp32, csv_number(c.bits_per_iteration), c.fit_first,
                           c.fit_last, csv_number(c.modelled_solve_seconds), csv_number(c.modelled_solve_joules),
                           csv_number(c.modelled_programming_seconds), csv_number(c.modelled_programming_joules));
    nlohmann::ordered_json j;
    j["profile"] = c.profile;
    j["lp_mapping"] = analog::load_analog_profile(c.profile).circuit.lp_mapping;
    j["kind"] = c.family.kind;
    j["cond"] = c.family.cond;
    j["trials"] = c.trials;
    j["fallbacks"] = c.fallbacks;
    j["median_rel_error"] = json_array(c.median);
    j["p10"] = json_array(c.p10);
    j["p90"] = json_array(c.p90);
    j["trials_counted"] = c.counted;
    j["lp_median_rel_error"] = json_number(c.lp_median);
    j["lp_p10"] = json_number(c.lp_p10);
    j["lp_p90"] = json_number(c.lp_p90);
    j["lp_fallbacks"] = c.lp_fallbacks;
    j["f32_median_rel_error"] = json_number(c.f32_median);
    j["f64_median_rel_error"] = json_number(c.f64_median);
    j["first_k_paper_level"] = c.first_k_paper_level;
    j["first_k_fp32_level"] = c.first_k_fp32;
    j["bits_per_iteration"] = json_number(c.bits_per_iteration);
    j["fit_iterations"] = {c.fit_first, c.fit_last};
    j["modelled_solve_seconds"] = json_number(c.modelled_solve_seconds);
    j["modelled_solve_joules"] = json_number(c.modelled_solve_joules);
    j["modelled_programming_seconds"] = json_number(c.modelled_programming_seconds);
    j["modelled_programming_joules"] = json_number(c.modelled_programming_joules);
    curves.push_back(std::move(j));
  }
  nlohmann::ordered_json doc;
  doc["settings"] = {{"size", s.size},          {"iterations", s.iterations},   {"trials", s.trials},
                     {"profiles", s.profiles},  {"fp32_factor", s.fp32_factor}, {"paper_level", s.paper_level},
                     {"seed", s.seed},          {"right_hand_side", "b = A x*, x* i.i.d. N(0, 1)"}};
  doc["curves"] = std::move(curves);
  doc["units"] = {
      {"rel_error", "||x_k - x*||_2 / ||x*||_2, analog values simulated, digital computed"},
      {"first_k_paper_level", "first iteration with median rel. error <= paper_level (0: never)"},
      {"first_k_fp32_level", "first iteration with median <= fp32_factor x digital-f32 median (0: never)"},
      {"bits_per_iteration", "least-squares slope of -log2(median) over iterations fit_iterations"},
      {"modelled_solve_seconds", "s per solve (all iterations), modelled"},
      {"modelled_solve_joules", "J per solve, modelled"},
      {"modelled_programming_seconds", "s per matrix, modelled"},
      {"modelled_programming_joules", "J per matrix, modelled"}};
  files.add(directory / "relerr.csv", std::move(csv));
  files.add(directory / "relerr_summary.csv", std::move(summary));
  files.add(directory / "relerr.json", doc.dump(2) + "\n");

  for (const std::string& profile : s.profiles) {
    report::plot_spec plot;
    plot.title = fmt::format("Rel. error (simulated): {}x{} real, {} ({} mapping)", s.size, s.size, profile,
                             analog::load_analog_profile(profile).circuit.lp_mapping);
    plot.x_label = "refinement iteration k";
    plot.y_label = "||x_k - x*|| / ||x*||  (median, p10-p90)";
    plot.log_y = true;
    plot.width = 1200;
    plot.height = 760;
    double f32_level = 0.0;
    for (const relerr_curve& c : result.curves) {
      if (c.profile != profile) continue;
      report::plot_series series{family_name(c.family), {}, c.median, c.p10, c.p90};
      for (std::size_t k = 1; k <= c.median.size(); ++k) series.x.push_back(static_cast<double>(k));
      plot.series.push_back(std::move(series));
      if (std::isfinite(c.f32_median)) f32_level = std::max(f32_level, c.f32_median);
    }
    if (plot.series.empty()) continue;
    const double k_end = static_cast<double>(s.iterations);
    if (f32_level > 0.0) {
      plot.series.push_back({"digital-f32 (median, worst family)", {1.0, k_end}, {f32_level, f32_level}, {}, {}});
    }
    plot.series.push_back({"paper: ~1e-7 after 10 iterations", {1.0, k_end}, {s.paper_level, s.paper_level}, {}, {}});
    report::plot_series paper_slope{"paper: 3 bits/iteration (2^-3k)", {}, {}, {}, {}};
    for (int k = 1; k <= s.iterations && std::exp2(-3.0 * static_cast<double>(k)) >= s.paper_level; ++k) {
      paper_slope.x.push_back(static_cast<double>(k));
      paper_slope.y.push_back(std::exp2(-3.0 * static_cast<double>(k)));
    }
    plot.series.push_back(std::move(paper_slope));
    files.add(directory / fmt::format("relerr_{}.png", profile), report::encode_png(report::render_line_plot(plot)));
  }
}

}  // namespace amimo::repro
