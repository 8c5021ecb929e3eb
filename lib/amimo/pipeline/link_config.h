#pragma once
// The configuration shared by amimo-ue and amimo-bs (both read the same YAML, so a
// transmitter and a receiver started from one file agree on numerology, users, PRBS seed):
// numerology, MIMO shape, modulation, channel and impairments (transmitter / synthetic
// source), detection chains (receiver), stream endpoints and stop rules.
// configs/link-default.yaml is the embedded default; YAML keys are listed in README.

#include <amimo/payload/framing.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include <channel_models/tdl_models.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::pipeline {

struct link_config {
  receiver_config rx;  ///< numerology, shape, modulation, chains, seed, threads, receiver knobs
  std::vector<detect::detector_kind> detectors{detect::detector_kind::mmse};
  std::vector<solver::solver_spec> solvers{{"digital-f32", {}}};
  std::map<std::string, std::string> analog_options;
  std::map<std::string, std::string> remote_options;
  channel_models::selective_channel_config channel;  ///< sizes/rate/steps filled from rx
  double speed_kmh = 0.0;             ///< user speed; with center_frequency sets the Doppler
  std::string channel_time = "symbol";  ///< "symbol": a channel state per OFDM symbol; "frame": block fading
  /// "frequency": H(f) per subcarrier (fast; circular, no ISI) | "sinc": the windowed-sinc FIR
  /// in time (ISI of taps beyond the CP; costly). See ofdm/uplink_emulator.h.
  std::string channel_filter = "frequency";
  int sinc_half_width = 16;  ///< "sinc": FIR coefficients on each side of a fractional delay
  /// Threads of the channel emulator (amimo-ue, amimo-bs's synthetic source); 0: one per
  /// core. The emulated samples do not depend on it.
  int emulator_threads = 1;
  /// The emulator options channel_filter, sinc_half_width and emulator_threads give.
  ofdm::emulator_options emulator_options() const {
    return {channel_filter == "sinc", {sinc_half_width, 8.0}, emulator_threads};
  }
  double snr_db = 20.0;
  std::vector<double> cfo_hz;
  std::vector<double> timing_offsets;  ///< samples
  /// amimo-ue: whole samples by which each antenna's stream starts late (channels out of
  /// step, as sockets started at different times deliver them); each in [0, frame length].
  std::vector<std::size_t> antenna_delays;
  double center_frequency = 3.5e9;     ///< Hz, recorded in SigMF metadata / UHD tuning
  std::string source = "synthetic";    ///< amimo-bs input (see radio_factory.h)
  std::string sink;                    ///< amimo-ue output
  bool realtime = false;               ///< amimo-ue: pace to the sample rate
  std::uint64_t frames = 200;          ///< frames to send / decode (0: until the stream ends)
  double idle_timeout = 5.0;           ///< amimo-bs: stop after this long without samples (s)
  std::string out = "results/bs";
  payload::coding_config coding;       ///< coded link (both sides): coding, code rate, payloads
};

/// The largest estimated frame buffers (bytes) a configuration may need: every antenna's
/// samples of one frame, the emulator's channel state for one frame (one response, every
/// symbol's taps), the users' symbol grids and one IFFT worker's inputs. Beyond it
/// parse_link_config refuses the shape (a config_error stating both figures) instead of
/// amimo-ue or amimo-bs failing an allocation after start-up.
inline constexpr double max_frame_buffer_bytes = 2.0 * 1073741824.0;  // 2 GiB

/// The embedded default (configs/link-default.yaml).
std::string_view embedded_link_config() noexcept;

/// Parses YAML (one document, no key twice), then applies overrides (key → value text, the
/// same keys as the file, e.g. {"snr_db", "12"}, {"solver", "digital-f32,analog"}): the value
/// of a text key (names, spec strings, paths: sink, source, payload, out, …) is taken as it
/// stands, any other is read as YAML (numbers, lists, the analog/remote maps); a `preset` (in the file or an
/// override) is applied before every other key. Builds rx.chains (detectors × solvers, with
/// analog/remote options merged) and validates everything. Throws config_error naming the
/// key for an unknown key or a bad value.
link_config parse_link_config(std::string_view yaml,
                              const std::map<std::string, std::string>& overrides = {});

/// A warning (empty when none) when the channel's last tap plus the largest timing offset
/// reaches beyond the cyclic prefix: with channel_filter "frequency" the emulator applies the
/// channel per subcarrier (circularly), so the inter-symbol interference such a channel
/// causes is not modelled; with "sinc" it is, and the receiver will see it.
std::string cyclic_prefix_warning(const link_config& config);

/// Whether a chain's backend reports modelled analog cost.
bool chain_is_analog(const link_config& config, const chain_spec& chain) noexcept;

}  // namespace amimo::pipeline
