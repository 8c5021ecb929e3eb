#pragma once
// Command-line options shared by amimo-ue and amimo-bs: each flag is a YAML key of the
// link configuration (configs/link-default.yaml) and overrides the file.

#include "cli_paths.h"

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::apps {

struct link_flags {
  std::string config_path;
  CLI::Option* config_option = nullptr;  ///< --config: given (never empty) or the embedded default
  std::map<std::string, std::string> values;  // key → YAML text
  std::vector<std::string> sets;              // --set key=value
  std::vector<std::pair<std::string, CLI::Option*>> options;
  std::vector<std::string> storage = std::vector<std::string>(64);

  void add(CLI::App& app, const std::string& flag, const std::string& key, const std::string& help) {
    auto& slot = storage.at(options.size());
    options.emplace_back(key, app.add_option(flag, slot, help));
  }

  std::map<std::string, std::string> overrides() const {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < options.size(); ++i) {
      if (*options[i].second) out[options[i].first] = storage[i];
    }
    for (const auto& s : sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) throw config_error("--set: expected key=value, got '" + s + "'");
      out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
  }
};

/// The flags both executables take.
inline void add_common_link_flags(CLI::App& app, link_flags& f) {
  f.config_option =
      app.add_option("--config", f.config_path, "YAML configuration (default: the embedded configs/link-default.yaml)")
          ->check(non_empty_value());
  f.add(app, "--preset", "preset", "MIMO shape and numerology: 16x4 | 32x8 | 64x16 | 128x8");
  f.add(app, "--antennas,-N", "antennas", "receive antennas N");
  f.add(app, "--users,-K", "users", "users K");
  f.add(app, "--modulation", "modulation", "bpsk | qpsk | qam16 | qam64 | qam256");
  f.add(app, "--seed", "seed", "PRBS / channel / noise seed (transmitter and receiver must agree)");
  f.add(app, "--frames", "frames", "frames to send / decode (0: until the stream ends)");
  f.add(app, "--channel", "channel", "tdl-a … tdl-e | cdl-a … cdl-e | flat | awgn");
  f.add(app, "--array-rows", "array_rows", "CDL: BS array rows (1 = ULA; UPA rows x antennas/rows)");
  f.add(app, "--element-spacing", "element_spacing", "CDL: BS element spacing (wavelengths)");
  f.add(app, "--delay-spread", "delay_spread",
        "TDL/CDL delay spread (s) or a TR 38.901 preset: very-short | short | nominal | long | very-long");
  f.add(app, "--delay-model", "delay_model", "exact (fractional TDL delays) | sample-spaced");
  f.add(app, "--doppler", "doppler", "maximum Doppler (Hz)");
  f.add(app, "--speed", "speed_kmh", "user speed (km/h): Doppler = v · center_frequency / c (instead of --doppler)");
  f.add(app, "--channel-filter", "channel_filter",
        "frequency (H(f) per subcarrier) | sinc (windowed-sinc FIR in time: ISI beyond the CP, slower)");
  f.add(app, "--channel-time", "channel_time", "symbol (a channel state per OFDM symbol) | symbols:N (one per N symbols) | frame (block fading)");
  f.add(app, "--snr", "snr_db", "Es/N0 (dB) per user symbol per antenna");
  f.add(app, "--sample-rate", "sample_rate", "samples/s");
  f.add(app, "--coding", "coding", "none (uncoded PRBS, default) | ldpc (5G NR LDPC transport blocks; both sides)");
  f.add(app, "--code-rate", "code_rate", "ldpc: target code rate R in (0, 1) (TBS per 38.214; default 0.5)");
  f.add(app, "--tb-bits", "tb_bits", "ldpc: transport-block size A in bits (0: from --code-rate)");
  f.add(app, "--ldpc-iterations", "ldpc_iterations", "ldpc: decoder iterations at most (default 10)");
  app.add_option("--set", f.sets, "any configuration key: --set key=value (repeatable)");
}

/// The --config file: a regular file of at most amimo::max_config_file_bytes, or an
/// amimo::io_error naming it and the problem (exit status 3).
inline std::string read_text_file(const std::string& path) {
  return read_bounded_file(path, max_config_file_bytes, "config file");
}

/// The configuration text: the --config file if given, else the embedded default.
inline std::string link_config_text(const link_flags& f, std::string_view embedded) {
  return *f.config_option ? read_text_file(f.config_path) : std::string(embedded);
}

/// Exit status for a command-line parse error: 0 for --help/--version (CLI11 prints them),
/// otherwise 2 (README "Exit statuses") with CLI11's message on stderr.
inline int parse_error_status(const CLI::App& app, const CLI::ParseError& e) {
  return app.exit(e) == 0 ? 0 : 2;
}

}  // namespace amimo::apps
