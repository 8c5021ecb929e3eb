// amimo-solve: matrix-equation experiments with the analog HP-INV solver outside MIMO.
// Solves A x = b for random matrices of a chosen condition number (or a Matrix Market
// file) and reports the relative error after every refinement iteration, next to one-step
// analog (LP-INV only) and digital FP32/FP64 references, with the modelled time, energy
// and programming cost of the analog solve.

#include <amimo/analog/analog_profile.h>
#include <amimo/analog/cost_model.h>
#include <amimo/core/cli_decimal.h>
#include <amimo/core/error.h>
#include <amimo/core/matrix_market.h>
#include <amimo/core/rng.h>
#include <amimo/core/stop_signals.h>
#include <amimo/core/version.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>
#include <amimo/report/line_plot.h>
#include <amimo/report/text_table.h>
#include <amimo/solver/solver_factory.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace amimo;
using report::si;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxSize = 512;
constexpr int kMaxTrials = 100000;

struct options {
  int size = 16;
  double cond = 10.0;
  std::string kind = "dominant";
  std::string matrix_path;
  int iters = 10;
  double tol = 0.0;
  std::string profile = "paper-board";
  int array = 0;  // 0: the profile's array size
  bool array_given = false;
  int trials = 20;
  std::uint64_t seed = 1;
  std::string out;
};

/// Everything measured in one trial (one matrix, one right-hand side). A backend whose
/// set_matrix or solve says !ok (the matrix singular to its precision, or non-finite, or a
/// solution that overflowed) returned no x: that trial is *unusable* for it, its error is NaN
/// (not the 1.0 of the zero vector it returns), and it counts in no statistic of that backend.
struct trial_result {
  std::vector<double> iterate_error;  ///< ‖x_k − x‖/‖x‖ per iteration k (NaN: no analog estimate)
  double final_error = kNaN;          ///< of the X the analog backend returned (fallback included)
  bool unusable = false;              ///< the analog backend returned no x (fallback included)
  bool fallback = false;              ///< answered by the digital fallback (only when usable)
  std::string fallback_reason;  ///< "", "unstable circuit", "diverged", "not converged", "other"
  int iterations = 0;
  double residual = kNaN;
  double lambda_min = kNaN;
  double solve_seconds = 0.0, solve_joules = 0.0;
  double programming_seconds = 0.0, programming_joules = 0.0, endurance_fraction = 0.0;
  double lp_error = kNaN;
  bool lp_fallback = false;
  bool lp_unusable = false;
  double f32_error = kNaN, f64_error = kNaN;
  bool f32_unusable = false, f64_unusable = false;
};

/// How the unusable trials are named wherever they are counted.
constexpr const char* kUnusable = "unusable (singular / non-finite)";

/// Loads A into `backend` and solves for b; the relative error of its x, or NaN (and
/// `unusable` set) when the backend says it returned no x.
double reference_error(solver::linear_solver& backend, const cmat& a, solver::matrix_structure structure,
                       const cmat& b, cmat& x, const cvec& x_true, bool& unusable, bool* fallback = nullptr) {
  const solver::matrix_status loaded = backend.set_matrix(a, structure);
  x.setZero();
  const solver::solve_status status = backend.solve(x, b);
  unusable = !loaded.ok || !status.ok;
  if (fallback != nullptr) *fallback = !unusable && status.fallback;
  return unusable ? kNaN : (x.col(0) - x_true).norm() / x_true.norm();
}

/// Quantile q of the finite values (linear interpolation between order statistics); NaN if none.
double quantile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double median(const std::vector<double>& values) {
  return quantile(values, 0.5);
}

std::string sci(double value) {
  return std::isfinite(value) ? fmt::format("{:.3e}", value) : "n/a";
}

/// Haar-distributed random orthogonal matrix: Householder QR of a Gaussian matrix, with the
/// signs of R's diagonal moved into Q (Mezzadri 2007).
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

/// dominant: I + r·S/ρ(S), S a symmetric Gaussian matrix, r = (cond−1)/(cond+1), so the
/// spectrum spans [1−r, 1+r] (condition number cond) with a unit diagonal and small
/// off-diagonal entries — the well-conditioned kind on which an m-bit LP-INV gains about
/// m bits per iteration. spd: Q diag(λ) Qᵀ (dense, off-diagonals as large as the
/// diagonal: a 3-bit A0 then contracts slowly); general: U diag(σ) Vᵀ; λ, σ log-spaced
/// from 1 down to 1/cond.
cmat generate_matrix(const std::string& kind, int size, double cond, rng& gen) {
  const auto n = static_cast<Eigen::Index>(size);
  rvec spectrum(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    spectrum(i) = n == 1 ? 1.0 : std::pow(cond, -static_cast<double>(i) / static_cast<double>(n - 1));
  }
  rmat a;
  if (kind == "dominant") {
    rmat g(n, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
    }
    rmat sym = 0.5 * (g + g.transpose());
    sym.diagonal().setZero();
    const double radius = n == 1 ? 0.0 : Eigen::SelfAdjointEigenSolver<rmat>(sym).eigenvalues().cwiseAbs().maxCoeff();
    a = rmat::Identity(n, n);
    if (radius > 0.0) a += ((cond - 1.0) / (cond + 1.0) / radius) * sym;
  } else if (kind == "spd") {
    const rmat q = random_orthogonal(gen, n);
    a = q * spectrum.asDiagonal() * q.transpose();
    a = (0.5 * (a + a.transpose())).eval();  // exactly symmetric
  } else {
    const rmat u = random_orthogonal(gen, n);
    const rmat v = random_orthogonal(gen, n);
    a = u * spectrum.asDiagonal() * v.transpose();
  }
  return a.cast<cf64>();
}

double relative_error(const cvec& x, const cvec& x_true) {
  return (x - x_true).norm() / x_true.norm();
}

/// Why the analog backend answered digitally, from what the simulator counted.
std::string fallback_reason(const analog::analog_cost_model& backend) {
  const analog::hp_inv_solver& engine = backend.engine();
  if (!engine.last_programming().analog_usable) return "unstable circuit";
  if (engine.last_solve().diverged_columns > 0) return "diverged";
  if (engine.last_solve().unconverged_columns > 0) return "not converged";
  return "other";
}

void validate(const options& o) {
  if (o.size < 1 || o.size > kMaxSize) {
    throw config_error(fmt::format("--size must be in 1..{} (got {})", kMaxSize, o.size));
  }
  if (!(o.cond >= 1.0) || !std::isfinite(o.cond)) {
    throw config_error(fmt::format("--cond must be a finite number >= 1 (got {})", o.cond));
  }
  if (o.kind != "dominant" && o.kind != "spd" && o.kind != "general") {
    throw config_error("--kind must be dominant, spd or general (got '" + o.kind + "')");
  }
  if (o.iters < 1 || o.iters > 64) throw config_error(fmt::format("--iters must be in 1..64 (got {})", o.iters));
  if (!(o.tol >= 0.0 && o.tol < 1.0)) throw config_error(fmt::format("--tol must be in [0, 1) (got {})", o.tol));
  if (o.trials < 1 || o.trials > kMaxTrials) {
    throw config_error(fmt::format("--trials must be in 1..{} (got {})", kMaxTrials, o.trials));
  }
  if (o.array_given && (o.array < 2 || o.array > 256)) {
    throw config_error(fmt::format("--array must be in 2..256 (got {})", o.array));
  }
}

/// Per-iteration statistics over trials, two ways: over the analog solves (trials that did
/// not fall back to digital: the analog iterate after k iterations), and over all trials (a
/// trial that fell back counts with the error of the x it returned, the digital answer).
struct iteration_stats {
  std::vector<double> median, p10, p90;  ///< analog solves
  std::vector<int> trials;               ///< analog solves with an estimate at k
  std::vector<double> all_median, all_p10, all_p90;  ///< all trials with an answer
  std::vector<int> all_trials;
  int fallbacks = 0;
  int unusable = 0;  ///< trials the analog backend returned no x for: in no statistic
};

iteration_stats summarise_iterations(const std::vector<trial_result>& results, int iters) {
  iteration_stats s;
  for (const trial_result& r : results) {
    s.fallbacks += r.fallback ? 1 : 0;
    s.unusable += r.unusable ? 1 : 0;
  }
  for (int k = 0; k < iters; ++k) {
    std::vector<double> pool;
    std::vector<double> all;
    for (const trial_result& r : results) {
      if (r.unusable) continue;
      const double e = r.fallback ? r.final_error : r.iterate_error[static_cast<std::size_t>(k)];
      if (!std::isfinite(e)) continue;
      all.push_back(e);
      if (!r.fallback) pool.push_back(e);
    }
    s.median.push_back(median(pool));
    s.p10.push_back(quantile(pool, 0.1));
    s.p90.push_back(quantile(pool, 0.9));
    s.trials.push_back(static_cast<int>(pool.size()));
    s.all_median.push_back(median(all));
    s.all_p10.push_back(quantile(all, 0.1));
    s.all_p90.push_back(quantile(all, 0.9));
    s.all_trials.push_back(static_cast<int>(all.size()));
  }
  return s;
}

std::string csv_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.9g}", v) : "";
}

nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

/// Which trials a statistic is over.
enum class over_trials {
  all,     ///< every trial
  usable,  ///< trials the analog backend returned an x for (fallbacks included)
  analog,  ///< analog solves: usable and not answered by the fallback
};

template <typename F>
std::vector<double> collect(const std::vector<trial_result>& results, F field, over_trials which = over_trials::all) {
  std::vector<double> out;
  for (const trial_result& r : results) {
    if (which != over_trials::all && r.unusable) continue;
    if (which == over_trials::analog && r.fallback) continue;
    out.push_back(field(r));
  }
  return out;
}

/// "3.1e-07" or, when some trials were unusable for the backend, "3.1e-07 (over 3 trials;
/// 2 unusable (singular / non-finite))".
std::string reference_text(double median_error, int trials, int unusable) {
  if (unusable == 0) return sci(median_error);
  return fmt::format("{} (over {} of {} trials; {} {})", sci(median_error), trials - unusable, trials, unusable,
                     kUnusable);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace amimo;
  ignore_broken_pipe();
  CLI::App app{"amimo-solve: relative error per refinement iteration of the analog HP-INV solver on A x = b"};
  app.set_version_flag("--version", std::string(version_string));
  // A repeated option takes its last value, so a flag appended to a command overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  options o;
  app.add_option("--size,-n", o.size, "matrix size n (1..512; default 16)")->transform(decimal_integer<int>());
  app.add_option("--cond", o.cond, "condition number of the generated matrices (>= 1; default 10)");
  app.add_option("--kind", o.kind,
                 "dominant (default): I + off-diagonal part, unit diagonal | spd: Q diag(l) Q^T | general: U diag(s) V^T (the INV circuit settles only when every "
                 "eigenvalue has a positive real part; others fall back to digital)");
  auto* o_matrix = app.add_option("--matrix", o.matrix_path,
                                  "Matrix Market file (overrides --size, --cond, --kind; refused when the digital "
                                  "f64 reference finds it singular)");
  app.add_option("--iters", o.iters, "refinement iterations (1..64; the maximum when --tol > 0; default 10)")
      ->transform(decimal_integer<int>());
  app.add_option("--tol", o.tol, "stop when the chip-measured relative residual <= tol (default 0: fixed iterations)");
  app.add_option("--profile", o.profile,
                 "analog profile: paper-board (default; the paper's LP-INV mapping A0 = D0/L) | projected | "
                 "feedback-board | feedback-projected (amimo's feedback mapping) | ideal, or a YAML path");
  auto* o_array =
      app.add_option("--array", o.array, "physical array size override (2..256)")->transform(decimal_integer<int>());
  app.add_option("--trials", o.trials, "independent trials (matrix, right-hand side, chip programming; default 20)")
      ->transform(decimal_integer<int>());
  app.add_option("--seed", o.seed, "random seed (decimal, 0..2^64-1; default 1)")
      ->transform(decimal_integer<std::uint64_t>());
  auto* o_out = app.add_option("--out", o.out, "output directory for solve.csv, solve.json, solve.png");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help / version, or the error to stderr
    return rc == 0 ? 0 : 2;
  }
  o.array_given = static_cast<bool>(*o_array);
  // Given but empty is refused: --matrix "" would silently use generated matrices and
  // --out "" silently write nothing.
  if (*o_matrix && o.matrix_path.empty()) {
    std::cerr << "amimo-solve: configuration error: --matrix must name a Matrix Market file (got an empty value)\n";
    return 2;
  }
  if (*o_out && o.out.empty()) {
    std::cerr << "amimo-solve: configuration error: --out must name a directory (got an empty value)\n";
    return 2;
  }

  const std::string command_line = report::command_line(argc, argv);

  // --- configuration: everything is checked before anything is written ---------------------
  analog::analog_profile profile;
  cmat file_matrix;
  bool from_file = !o.matrix_path.empty();
  int n = o.size;
  solver::matrix_structure structure =
      o.kind != "general" ? solver::matrix_structure::hermitian : solver::matrix_structure::general;
  try {
    validate(o);
    profile = analog::load_analog_profile(o.profile);
    std::map<std::string, std::string> analog_options{{"iters", std::to_string(o.iters)},
                                                      {"tol", fmt::format("{}", o.tol)}};
    if (o.array_given) analog_options["array"] = std::to_string(o.array);
    analog::apply_analog_options(profile, analog_options);
    if (from_file) {
      // The cap is checked on the file's size line, before the matrix is allocated.
      file_matrix = read_matrix_market(o.matrix_path, kMaxSize);
      n = static_cast<int>(file_matrix.rows());
      structure = file_matrix == file_matrix.adjoint() ? solver::matrix_structure::hermitian
                                                       : solver::matrix_structure::general;
      // The same matrix every trial: one the digital f64 reference cannot solve would give
      // trials that are all unusable, so it is refused here, before anything is written.
      if (!solver::create_linear_solver({"digital-f64", {}}, n, 0)->set_matrix(file_matrix, structure).ok) {
        throw config_error(fmt::format("matrix '{}' ({} x {}) is singular to working precision: the digital f64 "
                                       "reference cannot solve it, so there is no A x = b to refine",
                                       o.matrix_path, n, n));
      }
    }
    if (!o.out.empty()) report::ensure_writable_directory(o.out);
  } catch (const config_error& e) {
    std::cerr << "amimo-solve: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << "amimo-solve: " << e.what() << "\n";
    return 3;
  }
  const bool complex_matrix = from_file && file_matrix.imag().cwiseAbs().maxCoeff() > 0.0;
  const char* structure_name = structure == solver::matrix_structure::hermitian ? "hermitian" : "general";
  const std::vector<std::pair<std::string, std::string>> profile_description = analog::describe(profile);

  // From the header on, SIGINT/SIGTERM end the run after the current trial: what was measured
  // is printed and written (status 130). A closed stdout (`| head`) does not stop the run:
  // writes to it fail quietly and the files are still written.
  const std::atomic<bool>& stop = install_stop_handlers();

  // --- header: parameters, seed and version first ---------------------------------------------
  {
    std::string h = "# ----------------------------------------------------\n";
    h += fmt::format("# amimo-solve {} — analog HP-INV refinement on A x = b\n", version_string);
    h += "# Parameters:\n";
    const auto line = [&h](std::string_view key, const std::string& value) {
      h += fmt::format("#   {:<22}: {}\n", key, value);
    };
    line("command line", command_line);
    line("seed", std::to_string(o.seed));
    if (from_file) {
      line("matrix", fmt::format("{} ({} x {}, {}, {}; same matrix every trial)", o.matrix_path, n, n,
                                 complex_matrix ? "complex" : "real", structure_name));
    } else {
      line("matrix",
           fmt::format("generated {} {} x {}, condition number {} (new matrix every trial)", o.kind, n, n, o.cond));
    }
    line("structure passed", structure_name);
    line("right-hand side", "b = A x, x with i.i.d. standard normal entries");
    line("iterations",
         o.tol > 0.0 ? fmt::format("up to {} (tol {})", o.iters, o.tol) : fmt::format("{} (fixed)", o.iters));
    line("profile", profile.name + (profile.description.empty() ? "" : " — " + profile.description));
    line("LP-INV mapping", profile.circuit.lp_mapping + ": " + std::string(analog::lp_mapping_summary(profile.circuit.lp_mapping)));
    line("array size", std::to_string(profile.circuit.array_size) + (o.array_given ? " (--array)" : " (profile)"));
    line("trials", std::to_string(o.trials));
    line("output", o.out.empty() ? "(none: no --out)" : o.out);
    h += "# Analog profile:\n";
    for (const auto& [key, value] : profile_description) line(key, value);
    h += "# Errors of the analog backends are simulation results of the model; times and energies\n";
    h += "# of the analog backend are modelled, not measured. Digital references are computed here.\n";
    h += "# ----------------------------------------------------\n";
    std::fputs(h.c_str(), stdout);
    std::fflush(stdout);
  }

  // --- trials ---------------------------------------------------------------------------------
  std::vector<trial_result> results;
  bool interrupted = false;
  try {
    auto backend = analog::create_analog_backend(profile, analog::analog_mode::refine, n, derive_seed(o.seed, {1000}));
    auto lp_backend =
        analog::create_analog_backend(profile, analog::analog_mode::lp_only, n, derive_seed(o.seed, {1000}));
    auto f32 = solver::create_linear_solver({"digital-f32", {}}, n, 0);
    auto f64 = solver::create_linear_solver({"digital-f64", {}}, n, 0);

    const auto dim = static_cast<Eigen::Index>(n);
    cvec x_true(dim);
    trial_result* current = nullptr;
    backend->engine().set_iterate_observer([&](int column, int iteration, std::span<const double> x) {
      if (current == nullptr || column != 0 || iteration < 1 || iteration > o.iters) return;
      cvec estimate(dim);
      if (static_cast<Eigen::Index>(x.size()) == 2 * dim) {  // real embedding [Re x; Im x]
        for (Eigen::Index i = 0; i < dim; ++i)
          estimate(i) = cf64(x[static_cast<std::size_t>(i)], x[static_cast<std::size_t>(i + dim)]);
      } else if (static_cast<Eigen::Index>(x.size()) == dim) {
        for (Eigen::Index i = 0; i < dim; ++i) estimate(i) = cf64(x[static_cast<std::size_t>(i)], 0.0);
      } else {
        return;
      }
      current->iterate_error[static_cast<std::size_t>(iteration - 1)] = relative_error(estimate, x_true);
    });

    const bool live = isatty(STDERR_FILENO) != 0;
    cmat x(dim, 1), b(dim, 1);
    for (int t = 0; t < o.trials; ++t) {
      if (stop.load()) {  // SIGINT/SIGTERM: the trials done so far are the result
        interrupted = true;
        break;
      }
      const auto trial = static_cast<std::uint64_t>(t);
      rng gen(derive_seed(o.seed, {trial}));
      const cmat a = from_file ? file_matrix : generate_matrix(o.kind, n, o.cond, gen);
      for (Eigen::Index i = 0; i < dim; ++i) {
        const double re = gen.normal();
        x_true(i) = cf64(re, complex_matrix ? gen.normal() : 0.0);
      }
      b.col(0) = a * x_true;

      trial_result r;
      r.iterate_error.assign(static_cast<std::size_t>(o.iters), kNaN);
      current = &r;
      backend->reseed(derive_seed(o.seed, {2, trial}));
      const bool loaded = backend->set_matrix(a, structure).ok;
      r.programming_seconds = backend->last_programming_cost().seconds;
      r.programming_joules = backend->last_programming_cost().joules;
      r.endurance_fraction = backend->last_programming_cost().endurance_fraction;
      r.lambda_min = backend->engine().last_lambda_min();
      x.setZero();
      const solver::solve_status status = backend->solve(x, b);
      current = nullptr;
      // No x (singular / non-finite, also through the fallback): no error, no iterates, no
      // cost — and not an analog solve.
      r.unusable = !loaded || !status.ok;
      r.final_error = r.unusable ? kNaN : relative_error(x.col(0), x_true);
      r.fallback = !r.unusable && status.fallback;
      r.fallback_reason = r.fallback ? fallback_reason(*backend) : "";
      r.iterations = r.unusable ? 0 : status.iterations;
      r.residual = r.unusable ? kNaN : status.residual;
      r.solve_seconds = r.unusable ? kNaN : backend->last_solve_cost().seconds;
      r.solve_joules = r.unusable ? kNaN : backend->last_solve_cost().joules;
      if (r.unusable) {
        std::fill(r.iterate_error.begin(), r.iterate_error.end(), kNaN);
      } else if (!r.fallback) {
        // Converged early (--tol): the estimate stays what it was at the last iteration.
        for (std::size_t k = 1; k < r.iterate_error.size(); ++k) {
          if (!std::isfinite(r.iterate_error[k])) r.iterate_error[k] = r.iterate_error[k - 1];
        }
      }

      lp_backend->reseed(derive_seed(o.seed, {2, trial}));
      r.lp_error = reference_error(*lp_backend, a, structure, b, x, x_true, r.lp_unusable, &r.lp_fallback);
      r.f32_error = reference_error(*f32, a, structure, b, x, x_true, r.f32_unusable);
      r.f64_error = reference_error(*f64, a, structure, b, x, x_true, r.f64_unusable);

      results.push_back(std::move(r));
      if (live) {
        std::fprintf(stderr, "\r\033[K  trial %d/%d (provisional)", t + 1, o.trials);
        std::fflush(stderr);
      }
    }
    if (live) std::fprintf(stderr, "\r\033[K");
  } catch (const config_error& e) {
    std::cerr << "amimo-solve: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << "amimo-solve: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "amimo-solve: error: " << e.what() << "\n";
    return 1;
  }

  // --- table and summary ----------------------------------------------------------------------
  const iteration_stats stats = summarise_iterations(results, o.iters);
  const int done = static_cast<int>(results.size());  // o.trials unless interrupted
  const report::text_table table({
      {"Iteration", {{"k", 9}}},
      {"rel. error (simulated), analog solves", {{"median", 10}, {"p10", 10}, {"p90", 10}, {"trials", 6}}},
      {"all trials (fallback: returned x)", {{"median", 10}, {"p10", 10}, {"p90", 10}, {"trials", 6}}},
      {"Fallbacks", {{"digital", 7}}},
      {"Unusable", {{"no x", 8}}},
  });
  std::string text = table.header();
  for (int k = 0; k < o.iters; ++k) {
    const auto i = static_cast<std::size_t>(k);
    text += table.row({std::to_string(k + 1), sci(stats.median[i]), sci(stats.p10[i]), sci(stats.p90[i]),
                       std::to_string(stats.trials[i]), sci(stats.all_median[i]), sci(stats.all_p10[i]),
                       sci(stats.all_p90[i]), std::to_string(stats.all_trials[i]), std::to_string(stats.fallbacks),
                       std::to_string(stats.unusable)});
  }
  text += "# rel. error = ||x_k - x||_2 / ||x||_2 after k iterations. \"analog solves\": the analog estimate over the\n";
  text += "# trials that did not fall back to digital (a solve stopped by --tol keeps its last estimate);\n";
  text += "# \"all trials\": every trial with an answer, one that fell back counted with the error of the x it\n";
  text += fmt::format("# returned (the digital {} answer). Fallbacks: trials answered digitally (same at every k).\n",
                      profile.refinement.fallback);
  text += "# Unusable: trials the analog backend returned no x for, singular or non-finite (its digital fallback\n";
  text += "# could not solve A either); they are in no statistic and no average.\n";
  text += fmt::format("# Profile: {}.\n", analog::profile_label(profile));

  const int fallbacks = stats.fallbacks;
  const int unusable = stats.unusable;
  std::map<std::string, int> reasons;
  for (const trial_result& r : results) {
    if (r.fallback) ++reasons[r.fallback_reason];
  }
  std::string reason_text;
  for (const auto& [reason, count] : reasons)
    reason_text += fmt::format("{}{}: {}", reason_text.empty() ? "" : ", ", reason, count);
  const auto count = [&results](bool trial_result::*flag) {
    return static_cast<int>(
        std::count_if(results.begin(), results.end(), [flag](const trial_result& r) { return r.*flag; }));
  };
  const int lp_fallbacks = count(&trial_result::lp_fallback);
  const int lp_unusable = count(&trial_result::lp_unusable);
  const int f32_unusable = count(&trial_result::f32_unusable);
  const int f64_unusable = count(&trial_result::f64_unusable);
  const int analog_solves = done - fallbacks - unusable;

  const auto final_errors = collect(results, [](const trial_result& r) { return r.final_error; }, over_trials::usable);
  const double final_median = median(final_errors);
  // One analog step as a reference: over the trials the LP-INV circuit answered itself.
  std::vector<double> lp_errors;
  for (const trial_result& r : results) {
    if (!r.lp_fallback && !r.lp_unusable) lp_errors.push_back(r.lp_error);
  }
  const double lp_median = median(lp_errors);
  const double f32_median = median(collect(results, [](const trial_result& r) { return r.f32_error; }));
  const double f64_median = median(collect(results, [](const trial_result& r) { return r.f64_error; }));
  const auto usable = over_trials::usable;
  const auto lambdas = collect(results, [](const trial_result& r) { return r.lambda_min; }, usable);
  const double solve_s = median(collect(
      results, [](const trial_result& r) { return r.solve_seconds; }, over_trials::analog));
  const double solve_j = median(collect(
      results, [](const trial_result& r) { return r.solve_joules; }, over_trials::analog));
  const double prog_s = median(collect(results, [](const trial_result& r) { return r.programming_seconds; }, usable));
  const double prog_j = median(collect(results, [](const trial_result& r) { return r.programming_joules; }, usable));
  const double endurance =
      median(collect(results, [](const trial_result& r) { return r.endurance_fraction; }, usable));
  const double iterations_median = median(collect(
      results, [](const trial_result& r) { return static_cast<double>(r.iterations); }, over_trials::analog));

  const auto summary = [&text](std::string_view key, const std::string& value) {
    text += fmt::format("#   {:<44}: {}\n", key, value);
  };
  if (interrupted) {
    text += fmt::format("# Interrupted (signal) after {} of {} trials: the statistics are over those.\n", done,
                        o.trials);
  }
  text += fmt::format("# Summary over {} trials (medians):\n", done);
  summary(kUnusable, fmt::format("{}/{}{}", unusable, done,
                                 unusable ? " (the analog backend returned no x: in no statistic below)" : ""));
  summary("analog fallbacks to " + profile.refinement.fallback,
          fmt::format("{}/{}{}", fallbacks, done, fallbacks ? " (" + reason_text + ")" : ""));
  summary("analog rel. error of returned x (simulated)",
          fmt::format("{} (p10 {}, p90 {}; fallbacks included)", sci(final_median), sci(quantile(final_errors, 0.1)),
                      sci(quantile(final_errors, 0.9))));
  summary("analog iterations taken", std::isfinite(iterations_median) ? fmt::format("{:g}", iterations_median) : "n/a");
  std::string lp_note;
  if (lp_fallbacks > 0 || lp_unusable > 0) {
    lp_note = fmt::format(" (over {} analog-lp solves; {} fell back to digital", done - lp_fallbacks - lp_unusable,
                          lp_fallbacks);
    lp_note += lp_unusable > 0 ? fmt::format(", {} {})", lp_unusable, kUnusable) : ")";
  }
  summary("analog-lp rel. error (simulated, 1 step)", sci(lp_median) + lp_note);
  summary("digital-f32 rel. error (computed)", reference_text(f32_median, done, f32_unusable));
  summary("digital-f64 rel. error (computed)", reference_text(f64_median, done, f64_unusable));
  summary("lambda_min of the INV circuit (loaded)",
          fmt::format("{} (smallest {})", sci(median(lambdas)), sci(quantile(lambdas, 0.0))));
  const std::string over = fmt::format(" (over {} analog solves)", analog_solves);
  summary("time per solve (modelled)", si(solve_s, "s") + over);
  summary("energy per solve (modelled)", si(solve_j, "J") + over);
  summary("programming time per matrix (modelled)", si(prog_s, "s"));
  summary("programming energy per matrix (modelled)", si(prog_j, "J"));
  summary("endurance used per matrix (modelled)",
          std::isfinite(endurance) ? fmt::format("{:.3g} of the busiest device's cycles", endurance) : "n/a");
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);

  const int status = interrupted ? 130 : 0;
  if (o.out.empty()) return status;

  // --- output files ---------------------------------------------------------------------------
  try {
    const std::filesystem::path dir(o.out);
    std::string csv =
        "iteration,median_rel_error,p10,p90,trials,all_median_rel_error,all_p10,all_p90,all_trials,fallbacks,unusable\n";
    for (int k = 0; k < o.iters; ++k) {
      const auto i = static_cast<std::size_t>(k);
      csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", k + 1, csv_number(stats.median[i]),
                         csv_number(stats.p10[i]), csv_number(stats.p90[i]), stats.trials[i],
                         csv_number(stats.all_median[i]), csv_number(stats.all_p10[i]), csv_number(stats.all_p90[i]),
                         stats.all_trials[i], stats.fallbacks, stats.unusable);
    }

    nlohmann::ordered_json params;
    params["version"] = version_string;
    params["command_line"] = command_line;
    params["seed"] = o.seed;
    params["size"] = n;
    params["matrix"] = from_file ? nlohmann::ordered_json(o.matrix_path) : nlohmann::ordered_json();
    params["kind"] = from_file ? nlohmann::ordered_json() : nlohmann::ordered_json(o.kind);
    params["cond"] = from_file ? nlohmann::ordered_json() : nlohmann::ordered_json(o.cond);
    params["complex"] = complex_matrix;
    params["structure"] = structure_name;
    params["iters"] = o.iters;
    params["tol"] = o.tol;
    params["profile"] = o.profile;
    params["profile_label"] = analog::profile_label(profile);
    params["lp_mapping"] = profile.circuit.lp_mapping;
    params["array"] = profile.circuit.array_size;
    params["trials"] = o.trials;
    nlohmann::ordered_json profile_json;
    for (const auto& [key, value] : profile_description) profile_json[key] = value;

    nlohmann::ordered_json per_iteration;
    std::vector<int> ks;
    for (int k = 1; k <= o.iters; ++k) ks.push_back(k);
    per_iteration["iteration"] = ks;
    const auto array_of = [](const std::vector<double>& v) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (const double d : v) a.push_back(json_number(d));
      return a;
    };
    per_iteration["median_rel_error"] = array_of(stats.median);
    per_iteration["p10"] = array_of(stats.p10);
    per_iteration["p90"] = array_of(stats.p90);
    per_iteration["trials"] = stats.trials;
    per_iteration["all_median_rel_error"] = array_of(stats.all_median);
    per_iteration["all_p10"] = array_of(stats.all_p10);
    per_iteration["all_p90"] = array_of(stats.all_p90);
    per_iteration["all_trials"] = stats.all_trials;
    per_iteration["fallbacks"] = stats.fallbacks;
    per_iteration["unusable"] = stats.unusable;
    per_iteration["note"] = "median/p10/p90/trials: analog solves (no fallback); all_*: every trial with an answer, a "
                            "fallback counted with the error of the x it returned; unusable: trials with no x "
                            "(singular / non-finite), in no statistic";

    nlohmann::ordered_json trials = nlohmann::ordered_json::array();
    for (std::size_t t = 0; t < results.size(); ++t) {
      const trial_result& r = results[t];
      nlohmann::ordered_json j;
      j["trial"] = t;
      j["final_rel_error"] = json_number(r.final_error);
      j["unusable"] = r.unusable;
      j["fallback"] = r.fallback;
      j["fallback_reason"] = r.fallback_reason;
      j["iterations"] = r.iterations;
      j["residual"] = json_number(r.residual);
      j["lambda_min"] = json_number(r.lambda_min);
      j["rel_error_per_iteration"] = array_of(r.iterate_error);
      j["modelled_solve_seconds"] = json_number(r.solve_seconds);
      j["modelled_solve_joules"] = json_number(r.solve_joules);
      j["modelled_programming_seconds"] = r.programming_seconds;
      j["modelled_programming_joules"] = r.programming_joules;
      j["endurance_fraction"] = r.endurance_fraction;
      j["analog_lp_rel_error"] = json_number(r.lp_error);
      j["analog_lp_fallback"] = r.lp_fallback;
      j["analog_lp_unusable"] = r.lp_unusable;
      j["digital_f32_rel_error"] = json_number(r.f32_error);
      j["digital_f32_unusable"] = r.f32_unusable;
      j["digital_f64_rel_error"] = json_number(r.f64_error);
      j["digital_f64_unusable"] = r.f64_unusable;
      trials.push_back(j);
    }

    nlohmann::ordered_json references;
    references["analog_lp_median_rel_error"] = json_number(lp_median);  // trials without fallback
    references["analog_lp_fallbacks"] = lp_fallbacks;
    references["analog_lp_unusable"] = lp_unusable;
    references["digital_f32_median_rel_error"] = json_number(f32_median);
    references["digital_f32_unusable"] = f32_unusable;
    references["digital_f64_median_rel_error"] = json_number(f64_median);
    references["digital_f64_unusable"] = f64_unusable;

    nlohmann::ordered_json summary_json;
    summary_json["trials_done"] = done;
    summary_json["unusable"] = unusable;
    summary_json["analog_solves"] = analog_solves;
    summary_json["fallbacks"] = fallbacks;
    summary_json["fallback_reasons"] = reasons;
    summary_json["final_median_rel_error"] = json_number(final_median);
    summary_json["median_lambda_min"] = json_number(median(lambdas));
    summary_json["median_modelled_solve_seconds"] = json_number(solve_s);
    summary_json["median_modelled_solve_joules"] = json_number(solve_j);
    summary_json["median_modelled_programming_seconds"] = json_number(prog_s);
    summary_json["median_modelled_programming_joules"] = json_number(prog_j);
    summary_json["median_endurance_fraction"] = json_number(endurance);

    nlohmann::ordered_json doc;
    doc["interrupted"] = interrupted;
    doc["params"] = params;
    doc["profile"] = profile_json;
    doc["per_iteration"] = per_iteration;
    doc["references"] = references;
    doc["summary"] = summary_json;
    doc["trials"] = trials;
    doc["units"] = {{"rel_error", "||x - x_true||_2 / ||x_true||_2; analog values simulated"},
                    {"modelled_solve_seconds", "s, modelled"},
                    {"modelled_solve_joules", "J, modelled"},
                    {"modelled_programming_seconds", "s, modelled, per matrix"},
                    {"modelled_programming_joules", "J, modelled, per matrix"},
                    {"endurance_fraction", "share of the busiest device's endurance, per matrix"}};

    report::plot_spec plot;
    const std::string problem =
        from_file ? fmt::format("{} {}x{}", std::filesystem::path(o.matrix_path).filename().string(), n, n)
                  : fmt::format("{} {}x{} cond {:g}", o.kind, n, n, o.cond);
    plot.title = fmt::format("Rel. error (simulated): {}, {} ({} mapping)", problem, profile.name,
                             profile.circuit.lp_mapping);
    plot.x_label = "refinement iteration k";
    plot.y_label = "rel. error ||x_k - x|| / ||x||";
    plot.log_y = true;
    plot.width = 1200;  // room for the title at the plot font scale
    report::plot_series analog_series{
        fmt::format("analog HP-INV, {} analog solves (median, p10-p90)", analog_solves), {}, stats.median, stats.p10,
        stats.p90};
    for (int k = 1; k <= o.iters; ++k) analog_series.x.push_back(k);
    plot.series.push_back(std::move(analog_series));
    if (stats.fallbacks > 0) {
      report::plot_series all_series{fmt::format("all {} answered trials, {} fell back to digital (median)",
                                                 done - stats.unusable, stats.fallbacks),
                                     {}, stats.all_median, {}, {}};
      for (int k = 1; k <= o.iters; ++k) all_series.x.push_back(k);
      plot.series.push_back(std::move(all_series));
    }
    const double x_end = static_cast<double>(o.iters);
    plot.series.push_back({"digital-f32 (median)", {1.0, x_end}, {f32_median, f32_median}, {}, {}});
    plot.series.push_back({"analog-lp, 1 step (median)", {1.0, x_end}, {lp_median, lp_median}, {}, {}});

    // One set: the PNG is encoded first, and nothing is renamed into place unless all three
    // files can be (a directory in the way of solve.png left solve.csv and solve.json behind).
    output_file_set files;
    files.add(dir / "solve.csv", std::move(csv));
    files.add(dir / "solve.json", doc.dump(2) + "\n");
    files.add(dir / "solve.png", report::encode_png(report::render_line_plot(plot)));
    files.commit();
    std::printf("# Wrote %s/solve.csv, solve.json, solve.png%s\n", o.out.c_str(),
                interrupted ? " (run interrupted: partial results)" : "");
  } catch (const io_error& e) {
    std::cerr << "amimo-solve: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "amimo-solve: error: " << e.what() << "\n";
    return 1;
  }
  return status;
}
