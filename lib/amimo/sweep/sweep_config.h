#pragma once
// Parameters of a BER-vs-SNR sweep, read from YAML and overridden from the command line.

#include <amimo/detect/linear_detector.h>
#include <amimo/fec/transport_block.h>
#include <amimo/modem/modulation.h>
#include <amimo/solver/solver_factory.h>
#include <channel_models/cdl_geometry.h>

#include <cstdint>
#include <string>
#include <map>
#include <string_view>
#include <vector>

namespace amimo::sweep {

/// The Es/N0 range a sweep point (and the link's snr_db) may take, dB: wide enough for any
/// waterfall, narrow enough that N0 = 10^(−SNR/10) stays a normal double.
inline constexpr double min_snr_db = -50.0;
inline constexpr double max_snr_db = 100.0;

struct sweep_config {
  int antennas = 16;
  int users = 4;
  modem::modulation modulation = modem::modulation::qpsk;
  std::vector<detect::detector_kind> detectors{detect::detector_kind::zf};
  detect::detection_mode mode = detect::detection_mode::per_vector;
  std::vector<solver::solver_spec> solvers{{"digital-f64", {}}};
  /// Options for every analog backend in `solvers` ("profile", "iters", "tol", "array", …;
  /// see amimo/analog/analog_profile.h). YAML key `analog:`, flags --analog-*.
  std::map<std::string, std::string> analog_options;
  /// Options for every `remote:ENDPOINT` solver ("backend", "timeout-ms", "retries",
  /// "element", "curve-server-key"). YAML key `remote:`, flags --remote-*. With an analog
  /// backend the analog options travel along.
  std::map<std::string, std::string> remote_options;
  std::string channel = "rayleigh";  ///< rayleigh | kronecker | awgn | cdl-a … cdl-e
  double rho_bs = 0.0;
  double rho_ue = 0.0;
  channel_models::cdl_geometry cdl;  ///< CDL: BS array and angle spreads (per-subcarrier draws)
  std::vector<double> snr_db{0.0, 5.0, 10.0};
  /// Received vectors per channel realisation (one frame = one coherence block).
  int vectors_per_channel = 16;
  std::uint64_t min_errors = 1000;
  /// ... and at least this many frames holding them: errors come in clumps (a deep fade fills
  /// a frame), and stopping on the count alone ends a point right after a bad frame — BER
  /// biased high (+39% in 200 seeds at 1×1 Rayleigh, 1000 vectors per channel, 100 errors).
  std::uint64_t min_error_frames = 30;
  std::uint64_t max_bits = 10'000'000;
  double max_seconds = 60.0;  ///< per SNR point (wall time; the only non-deterministic stop)
  /// Channel coding (YAML `coding:`, flags --coding …): "none" scores uncoded bits only;
  /// "ldpc" sends one 5G NR LDPC transport block per user per frame (G = vectors_per_channel
  /// × bits per symbol coded bits; amimo/fec/link_coding.h) and adds blocks, block errors and
  /// BLER; the uncoded BER is still reported beside them.
  std::string coding = "none";
  double code_rate = 0.5;             ///< target R for the 38.214 TBS and base-graph choice
  int tb_bits = 0;                    ///< 0: the 38.214 TBS for G and R; else A itself
  int ldpc_iterations = 10;           ///< layered min-sum iterations (early termination on parity)
  double ldpc_alpha = 0.75;           ///< min-sum normalisation α in (0, 1]
  std::uint64_t min_block_errors = 100;  ///< coding ldpc: stop a point at this many block errors (every curve) ...
  std::uint64_t max_blocks = 100000;     ///< ... or this many blocks per curve
  std::uint64_t seed = 1;
  int threads = 0;  ///< 0: one per core
  std::string out = "results/sweep";
};

/// Whether the sweep decodes an LDPC transport block per user and frame.
inline bool is_coded(const sweep_config& config) noexcept { return config.coding == "ldpc"; }

/// The transport block each user sends per frame with coding ldpc (G = vectors_per_channel ×
/// bits per symbol). Throws config_error, with the fec message, when that G cannot carry it.
fec::transport_block_config user_transport_block(const sweep_config& config);

/// Information bits one user symbol carries: Q_m uncoded; with coding ldpc Q_m·A/G, A the
/// payload bits of the user's transport block in its G coded bits (the CRC and parity bits
/// carry none, as goodput counts payload bits).
double information_bits_per_symbol(const sweep_config& config);

/// Eb/N0 (dB) per information bit at Es/N0 = snr_db: snr_db − 10·log10(information bits per
/// symbol). Uncoded that is per coded bit as well; coded it includes the code rate.
double ebn0_db_per_information_bit(const sweep_config& config, double snr_db);

/// Whether a solver name is an analog backend (takes analog_options).
bool is_analog_solver(std::string_view name) noexcept;

/// The spec the sweep really creates for solvers[index]: analog options merged in.
solver::solver_spec effective_solver_spec(const sweep_config& config, std::size_t index);

/// The curve label of solvers[index]: the name, plus ":key=value" for each per-entry option
/// (other than a remote endpoint), e.g. "analog:iters=2". Unique within a config (validate).
std::string solver_label(const sweep_config& config, std::size_t index);

/// The backend name of a curve label ("analog" for "analog:iters=2").
std::string_view solver_name_of_label(std::string_view label) noexcept;

/// Whether a curve's figures include modelled (analog) cost: an analog backend, or a
/// remote one whose service runs an analog backend.
bool reports_modelled_cost(const sweep_config& config, std::string_view solver_name) noexcept;

/// "paper-board, LP-INV mapping paper (A0 = D0/L)" for solvers[index] when its figures come
/// from an analog backend (directly or behind a remote service), "" otherwise: the profile of
/// the spec the sweep really creates (effective_solver_spec), so two analog entries with
/// different profiles each name their own. Throws config_error for an invalid analog
/// configuration.
std::string analog_label(const sweep_config& config, std::size_t index);

/// Whether any configured solver is an analog backend.
bool has_analog_solver(const sweep_config& config) noexcept;

/// The default configuration compiled into the program (configs/sweep-default.yaml).
std::string_view embedded_default_config() noexcept;

/// Parses a YAML document on top of `base`. Throws config_error naming the key for an
/// unknown key, a wrong type or an invalid value.
sweep_config parse_sweep_yaml(std::string_view yaml_text, const sweep_config& base = {});

/// "a:step:b" (inclusive range) or "a,b,c" → SNR list in dB.
std::vector<double> parse_snr_list(std::string_view text);
/// "zf,mmse" → detectors; "digital-f64,digital-f32" → solver specs.
std::vector<detect::detector_kind> parse_detector_list(std::string_view text);
std::vector<solver::solver_spec> parse_solver_list(std::string_view text);

/// Checks everything that does not need the file system: sizes, ZF with K > N, stop
/// rules, solver names. Throws config_error naming the problem.
void validate(const sweep_config& config);

}  // namespace amimo::sweep
