// amimo-report: analog HP-INV versus digital baselines, throughput and energy per solve
// (issue 6). Subcommands: `compare` (the default when none is given) runs the comparison
// of lib/amimo/perf/compare.h over real n×n systems and MIMO Gram solves; `paper` runs the
// paper reproduction of lib/amimo/repro/paper_repro.h. Measured figures
// (CPU wall time here) and modelled ones (analog cost model, H100 roofline, ASIC, energy
// from stated powers) are labelled as such everywhere.

#include <amimo/analog/analog_profile.h>
#include <amimo/core/cli_decimal.h>
#include <amimo/core/error.h>
#include <amimo/core/stop_signals.h>
#include <amimo/core/version.h>
#include <amimo/perf/compare.h>
#include <amimo/perf/sensitivity.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/command_line.h>
#include <amimo/repro/paper_repro.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace amimo;

/// Options of `compare` as given on the command line.
struct compare_cli {
  perf::compare_options options;
  std::vector<std::string> shapes{"16x4", "64x16", "128x8"};
  std::string out = "results/report";
  std::string progress = "auto";
  bool no_gpu = false;
};

void add_compare_options(CLI::App& cmd, compare_cli& c) {
  perf::compare_options& o = c.options;
  cmd.add_option("--sizes", o.sizes, "real n x n system sizes (2..512; default 8 16 32 64 128 256)")
      ->transform(decimal_integer<int>())
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--shapes", c.shapes, "MIMO shapes ANTENNASxUSERS (default 16x4 64x16 128x8; 'none' for none)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--profiles", o.profiles,
                 "analog cost profiles (default feedback-board feedback-projected; paper-board projected use "
                 "the paper's LP-INV mapping; built-in name or YAML)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--seconds", o.cpu_seconds, "seconds per CPU measurement (0..600; default 0.5)");
  cmd.add_option("--threads", o.threads, "CPU worker threads (0: all hardware threads; default 0)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--cpu-watts", o.cpu_watts_per_core, "power per busy CPU core for the CPU energy, W (default 10)");
  cmd.add_option("--asic-pj-per-flop", o.asic.pj_per_flop, "digital ASIC energy per FP32 FLOP, pJ (default 2.3)");
  cmd.add_option("--asic-flops", o.asic.flops_per_s, "digital ASIC sustained FLOP/s (default 1e12)");
  cmd.add_option("--gpu-efficiency", o.gpu.efficiency, "fraction of the H100 roofline reached (0..1; default 0.2)");
  cmd.add_option("--solves-per-matrix", o.solves_per_matrix,
                 "right-hand sides per matrix (coherence block) over which factorisation/programming is amortised "
                 "(default 100)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--matrices", o.matrices, "independent matrices per workload (default 8)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--analog-matrices", o.analog_matrices,
                 "matrices the analog simulator programs per workload (default 3)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--analog-rhs", o.analog.rhs, "right-hand sides simulated per analog matrix (default 2)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--analog-tol", o.analog.tolerance,
                 "analog precision target: relative residual (default 1e-7, FP32 level)");
  cmd.add_option("--analog-max-iters", o.analog.max_iterations, "analog iteration cap (1..64; default 40)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--cond", o.cond, "condition-number bound of the real systems (>= 1; default 10)");
  cmd.add_option("--seed", o.seed, "random seed (default 1)")->transform(decimal_integer<std::uint64_t>());
  cmd.add_flag("--no-gpu", c.no_gpu, "do not measure on a CUDA device even when one is present");
  cmd.add_option("--out", c.out, "output directory for report.csv, report.json, report-*.png (default results/report)");
  cmd.add_option("--progress", c.progress, "progress lines on stderr: auto | on | off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
}

/// Runs body and maps its errors to amimo's exit statuses (2 configuration, 3 files, 1 any
/// other error), naming `who`; otherwise returns what body returns.
template <typename Body>
int with_exit_status(const char* who, Body&& body) {
  try {
    return body();
  } catch (const config_error& e) {
    std::cerr << who << ": configuration error: " << e.what() << "\n";
    return 2;
  } catch (const io_error& e) {
    std::cerr << who << ": " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << who << ": error: " << e.what() << "\n";
    return 1;
  }
}

/// `compare`: header, comparison, tables, files. Returns the exit code.
int run_compare_command(compare_cli& c, const std::string& command_line) {
  perf::compare_options& o = c.options;
  const int setup = with_exit_status("amimo-report", [&] {
    o.shapes.clear();
    for (const std::string& s : c.shapes) {
      if (s != "none") o.shapes.push_back(perf::parse_mimo_shape(s));
    }
    o.try_gpu = !c.no_gpu;
    perf::validate(o);
    if (c.out.empty()) throw config_error("--out must name a directory (got an empty value)");
    report::ensure_writable_directory(c.out);
    return 0;
  });
  if (setup != 0) return setup;

  std::string h = "# ----------------------------------------------------\n";
  h += fmt::format("# amimo-report {} — analog HP-INV vs digital: throughput and energy per solve\n", version_string);
  h += "# Parameters:\n";
  h += fmt::format("#   {:<28}: {}\n", "command line", command_line);
  for (const auto& [key, value] : perf::describe(o)) h += fmt::format("#   {:<28}: {}\n", key, value);
  h += fmt::format("#   {:<28}: {}\n", "output", c.out);
  h += "# CPU throughput is measured here; every other figure (and every energy) is modelled.\n";
  h += "# ----------------------------------------------------\n";
  // Handlers in place before the header: a signal ends the run after the current step (a CPU
  // measurement ends early) and what was measured is written (status 130).
  const std::atomic<bool>& stop = install_stop_handlers();
  std::fputs(h.c_str(), stdout);
  std::fflush(stdout);

  const bool live = c.progress == "on" || (c.progress == "auto" && isatty(STDERR_FILENO) != 0);
  return with_exit_status("amimo-report", [&] {
    const perf::compare_result result = perf::run_compare(
        o,
        [live](const std::string& line) {
          if (live) std::fprintf(stderr, "\r\033[K  %s (provisional)", line.c_str());
        },
        &stop);
    if (live) std::fprintf(stderr, "\r\033[K");
    std::fputs(perf::format_tables(result).c_str(), stdout);
    perf::write_outputs(c.out, o, result, command_line);
    std::printf("# Wrote %s/report.csv, report.json, report-throughput.png, report-energy.png%s\n", c.out.c_str(),
                result.interrupted ? " (run interrupted: partial results)" : "");
    return result.interrupted ? 130 : 0;
  });
}

struct sensitivity_cli {
  perf::sensitivity_options options;
  std::string out = "results/sensitivity";
};

void add_sensitivity_options(CLI::App& cmd, sensitivity_cli& c) {
  perf::sensitivity_options& o = c.options;
  cmd.add_option("--profile", o.profile, "analog profile whose assumed values are varied (default paper-board)");
  cmd.add_option("--sizes", o.sizes, "real n x n system sizes (2..256; default 16 128)")
      ->transform(decimal_integer<int>())
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--cond", o.cond, "condition number of the dominant systems (>= 1; default 4)");
  cmd.add_option("--iters", o.iterations, "refinement iterations per solve (1..64; default 3)")
      ->transform(decimal_integer<int>());
  cmd.add_option("--trials", o.trials, "systems per size (1..100; default 3)")->transform(decimal_integer<int>());
  cmd.add_option("--seed", o.seed, "random seed (default 1)")->transform(decimal_integer<std::uint64_t>());
  cmd.add_option("--out", c.out, "output directory (default results/sensitivity)");
}

/// `sensitivity`: which assumed circuit values move time and energy per solve most.
int run_sensitivity_command(const sensitivity_cli& c, const std::string& command_line) {
  // Every option is checked before the header is printed or the folder created.
  const int setup = with_exit_status("amimo-report sensitivity", [&] {
    perf::validate(c.options);
    if (c.out.empty()) throw config_error("--out must name a directory (got an empty value)");
    report::ensure_writable_directory(c.out);
    return 0;
  });
  if (setup != 0) return setup;
  std::string h = "# ----------------------------------------------------\n";
  h += fmt::format("# amimo-report sensitivity {} — assumed circuit values vs modelled time and energy per solve\n",
                   version_string);
  h += fmt::format("#   {:<14}: {}\n#   {:<14}: {}\n", "command line", command_line, "output", c.out);
  for (const perf::assumption_range& r : perf::sensitivity_ranges(c.options.profile)) {
    h += fmt::format("#   varied: {} ({}) {:g} over {:g}..{:g} — {}\n", r.what, r.key, r.baseline, r.low, r.high,
                     r.range_basis);
  }
  h += "# ----------------------------------------------------\n";
  const std::atomic<bool>& stop = install_stop_handlers();
  std::fputs(h.c_str(), stdout);
  std::fflush(stdout);
  return with_exit_status("amimo-report sensitivity", [&] {
    const perf::sensitivity_result result = perf::run_sensitivity(c.options, &stop);
    std::fputs(perf::sensitivity_table(result).c_str(), stdout);
    perf::write_sensitivity_outputs(c.out, result);
    std::printf("# Wrote %s/sensitivity.csv, sensitivity.json, tornado_<n>_{time,energy}.png%s\n", c.out.c_str(),
                result.interrupted ? " (run interrupted: partial results)" : "");
    return result.interrupted ? 130 : 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout (`| head`) fails writes quietly; the run goes on and writes its files.
  amimo::ignore_broken_pipe();
  CLI::App app{"amimo-report: analog HP-INV vs digital baselines (throughput, energy per solve)"};
  app.set_version_flag("--version", std::string(version_string));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.require_subcommand(0, 1);
  compare_cli compare;
  CLI::App* compare_cmd = app.add_subcommand("compare", "compare backends over system sizes and MIMO shapes (default)");
  add_compare_options(*compare_cmd, compare);
  repro::paper_options paper;
  CLI::App* paper_cmd = app.add_subcommand(
      "paper", "reproduce the paper's figures (error vs iteration, BER vs SNR, throughput/energy vs H100)");
  repro::add_paper_options(*paper_cmd, paper);
  sensitivity_cli sensitivity;
  CLI::App* sensitivity_cmd = app.add_subcommand(
      "sensitivity", "vary each assumed circuit value of a profile: tornado charts of time and energy per solve");
  add_sensitivity_options(*sensitivity_cmd, sensitivity);

  // `compare` is the default subcommand: options without one go to it.
  std::vector<const char*> args(argv, argv + argc);
  if (argc == 1 || (argv[1][0] == '-' && std::strcmp(argv[1], "--help") != 0 && std::strcmp(argv[1], "-h") != 0 &&
                    std::strcmp(argv[1], "--version") != 0)) {
    args.insert(args.begin() + 1, "compare");
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  const std::string command_line = report::command_line(argc, argv);
  if (app.got_subcommand(paper_cmd)) {
    paper.command_line = command_line;
    // Installed before run_paper prints its header; checked between studies and sweep rounds.
    paper.stop = &amimo::install_stop_handlers();
    return repro::run_paper(paper);
  }
  if (app.got_subcommand(sensitivity_cmd)) return run_sensitivity_command(sensitivity, command_line);
  if (app.got_subcommand(compare_cmd) || app.get_subcommands().empty())
    return run_compare_command(compare, command_line);
  return 2;
}
