#pragma once
// How a sweep talks to a person and to files: the parameter header, the aff3ct-style
// table, and ber.csv / ber.json / ber.png. Measured figures (errors, BER, wall time) and
// modelled ones (analog energy and latency) are labelled as such.

#include <amimo/sweep/sweep_runner.h>

#include <filesystem>
#include <string>

namespace amimo::sweep {

/// "# Parameters" block: version, command line, seed and every configuration value.
std::string parameter_header(const sweep_config& config, const std::string& command_line);

/// Legend lines of the result table and one final line per curve of a point.
/// The result table; with an analog backend configured it gains modelled columns
/// (final residual, energy and latency per solve).
std::string table_header(const sweep_config& config);
std::string table_rows(const point_result& point, const sweep_config& config);
/// The provisional line for a point in progress (no trailing newline).
std::string progress_line(const point_result& partial);

/// ber.csv; its last column, analog_profile, names an analog curve's profile and LP-INV mapping.
std::string to_csv(const sweep_config& config, const sweep_result& result);
std::string to_json(const sweep_config& config, const std::string& command_line, const sweep_result& result);

/// Closed-form BER of ZF in N×K i.i.d. Rayleigh with perfect CSI at Es/N0 = snr_db (Gray
/// BPSK/QPSK/M-QAM, metrics/theory.h): the reference curve ber.png draws for a ZF sweep on
/// the rayleigh channel (the sweep's detector is given the true channel).
double zf_rayleigh_theory_ber(const sweep_config& config, double snr_db) noexcept;

/// Writes ber.csv, ber.json and ber.png into directory, each atomically.
void write_outputs(const std::filesystem::path& directory, const sweep_config& config,
                   const std::string& command_line, const sweep_result& result);

}  // namespace amimo::sweep
