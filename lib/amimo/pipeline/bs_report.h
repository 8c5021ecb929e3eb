#pragma once
// What amimo-bs prints and writes: the live status line, the final comparison of chains
// (BER with its 95% interval, EVM, throughput, modelled analog energy) and the report
// files bs.json / bs.csv. Every figure says whether it is measured or modelled.

#include <amimo/payload/decoder_sink.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/pipeline/receiver.h>
#include <amimo/radio/radio.h>

#include <string>

namespace amimo::pipeline {

struct run_summary {
  std::string command_line;
  std::string source;
  std::string stop_reason;          ///< "frames", "end of stream", "idle", "interrupted"
  double wall_seconds = 0.0;        ///< measured
  double source_seconds = 0.0;      ///< measured time generating samples (synthetic source)
  radio::radio_events radio;
  /// Coded link (coding: ldpc): the decoder sink's counts per chain (null: uncoded run) and
  /// the payload output's closing lines.
  const std::vector<payload::coded_chain_stats>* coded = nullptr;
  std::vector<std::string> payload_lines;
  /// Why the payload output could not be completed (its directory removed or unwritable at
  /// the end of the run); empty: it was. The report is written either way.
  std::string payload_error;
};

/// One provisional line (no newline) for stderr; every figure measured except the
/// "(modelled)" analog energy.
std::string status_line(const receiver_stats& s, const link_config& c, double wall_seconds);
/// "# Parameters" block printed first.
std::string parameter_header(const link_config& c, const std::string& command_line);
/// The final table on stdout.
std::string summary_table(const receiver_stats& s, const link_config& c, const run_summary& r);
/// Writes DIR/bs.json and DIR/bs.csv atomically.
void write_bs_report(const std::string& dir, const link_config& c, const receiver_stats& s,
                     const run_summary& r);

/// "feedback-board, LP-INV mapping feedback (diagonal in feedback)" for an analog chain (the
/// profile and LP-INV mapping its figures come from), "" for a digital one.
std::string chain_analog_profile(const link_config& c, const chain_spec& chain);

/// Per-frame solver costs of a chain, over the frames it detected (identified or not: an
/// unmatched frame's solves are in the totals too). NaN when it detected none: the figure
/// cannot be computed, and is printed "-" (text) or null (JSON), never 0.
/// Modelled analog energy (J) per frame (0 for digital chains), with programming.
double modelled_joules_per_frame(const chain_stats& chain) noexcept;
/// Modelled analog time (s) per frame (0 for digital chains), with programming.
double modelled_seconds_per_frame(const chain_stats& chain) noexcept;
/// Measured wall time inside the solver (s) per frame.
double solver_seconds_per_frame(const chain_stats& chain) noexcept;
/// Real-time factor: stream seconds processed per second of receiver processing (measured).
/// NaN when nothing was processed (no receiver time): "-" / null, never a 0 that reads as
/// measured.
double real_time_factor(const receiver_stats& s, const link_config& c) noexcept;
/// Samples per antenna received per second of wall time, in millions (measured). NaN when
/// no sample was received or no time passed.
double msamples_per_second(const receiver_stats& s, double wall_seconds) noexcept;

}  // namespace amimo::pipeline
