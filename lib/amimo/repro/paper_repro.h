#pragma once
// The paper reproduction (`amimo-report paper`): runs the three studies of paper_studies.h
// — relative error per refinement iteration (16×16), BER vs SNR of ZF 256-QAM (16×4 and
// 128×8) and throughput/energy at 32×32 and 128×128 against an H100 — and writes their
// CSV/JSON/PNG files plus paper_reproduction.md, a report with one table per figure
// ("quantity | paper reports | amimo | agrees? | why it differs") into one folder.
//
// Output: the run's parameters, seed and version first on stdout, one progress line per
// finished piece on stderr, the summary on stdout at the end. Every figure is labelled
// simulated/measured (errors, BER, CPU wall time) or modelled (analog and GPU time and
// energy). The same seed gives the same files (CPU timings aside).

#include <atomic>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace amimo::repro {

/// How much work: quick (the test; well under a minute on 2 cores) or full (a few minutes).
enum class paper_effort { quick, full };

struct paper_options {
  std::string out = "results/paper";  ///< output folder (created when missing)
  std::uint64_t seed = 1;
  int threads = 0;  ///< sweep and CPU-measurement workers; 0: one per core
  paper_effort effort = paper_effort::full;
  /// The command line as the user typed it, for the parameter header (the caller fills it,
  /// e.g. with amimo::report::command_line(argc, argv)); empty: not shown.
  std::string command_line;
  /// A signal handler's flag (amimo/core/stop_signals.h), or null: checked between studies
  /// and, in the BER study, between sweep rounds. Once set, run_paper writes the studies that
  /// ran (an interrupted BER study with its partial points; no paper_reproduction.md, which
  /// needs all three; the earlier run's files of the studies not written are removed with the
  /// set) and returns 130. A signal during the throughput study (which is not cut short)
  /// leaves every study complete: the report is written and the status is 0.
  const std::atomic<bool>* stop = nullptr;
};

/// Adds --out, --seed, --threads, --effort quick|full and --quick to a (sub)command, bound
/// to `options` (which must outlive the parse).
void add_paper_options(CLI::App& subcommand, paper_options& options);

/// Runs the reproduction. Returns the exit status: 0 done, 2 bad options (nothing written),
/// 3 output folder not writable or a file could not be written (then none is: every file of
/// the run is written as one set, after the studies), 130 interrupted (options.stop), 1 any
/// other failure; the message goes to stderr.
int run_paper(const paper_options& options);

}  // namespace amimo::repro
