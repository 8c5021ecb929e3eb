#pragma once
// Frequency-selective MIMO channel models for OFDM behind channel::selective_channel_model:
// the 3GPP tapped-delay-line profiles TDL-A, TDL-B, TDL-C (NLOS, every tap Rayleigh in the
// standard; here a sum of sinusoids, see "Fading") and TDL-D, TDL-E (LOS: the first tap
// Ricean with the table's K-factor) of TR 38.901 V16 §7.7.2, plus "flat" (one fading tap)
// and "awgn" (one fixed tap, orthogonal unit-modulus DFT columns, no fading).
//
// Conventions:
// - Delays (TR 38.901 §7.7.3). Tap n of a table sits at τ_n = normalised_delay_n · DS.
//   delay_model "exact" (default) keeps every τ_n as it is (fractional sample delays; the
//   OFDM emulator applies H(f) = Σ_l G_l e^{−j2π f Δf τ_l} per subcarrier); taps with equal
//   delays (TDL-E has two at 0.5440 DS) are one tap with the summed power. "sample-spaced"
//   places each tap on the stream's sample grid, d_n = round(τ_n · sample_rate), and merges
//   taps that land on the same sample by adding their powers: the old behaviour, which at
//   small DS · sample_rate does not keep the table's RMS delay spread (TDL-A at 100 ns and
//   7.68 MS/s becomes 6 taps on samples 0, 1, 2, 3, 4, 7). Powers are normalised to sum to
//   1 (LOS path included), so E|H_ij(f)|² = 1 on every subcarrier.
// - Fading. Each fading tap is G_l = sqrt(p_l) · L_bs W_l L_ueᴴ with L Lᴴ = R the
//   exponential correlation matrices (Kronecker model, the same at every tap). Every entry
//   of W_l is its own unit-power sum-of-sinusoids (Clarke/Jakes) process, independent of
//   all others:  w(t) = M^{−1/2} Σ_m exp(j(2π f_D cos(α_m) t + φ_m)),  α_m = (2πm + θ)/M,
//   θ ~ U[−π, π), φ_m ~ U[0, 2π) (M = `sinusoids`, default 16): its autocorrelation over
//   the random θ, φ is exactly J0(2π f_D Δt) at every lag, and it is continuous in time.
//   It is a sum of M sinusoids, not a Gaussian process: E|w|⁴ = 2 − 1/M against Rayleigh's
//   2, so M is at least 8 (1.875; M = 1 would not fade at all), and describe() says "sum
//   of M sinusoids". A static channel (doppler_hz = 0) is one draw of the same sum.
//   The LOS path of TDL-D/E adds sqrt(p_LOS) · exp(j(2π f_D cos(los_angle) t + ψ)) with ψ
//   uniform and independent per antenna/user entry (the TDL model is a SISO profile; no
//   array geometry). los_angle is the LOS path's angle of arrival relative to the direction
//   of motion; its default acos(0.7) puts the LOS Doppler at f_S = 0.7 f_D, where TR 38.901
//   §7.7.2 places the peak of the LOS tap's Doppler spectrum for TDL-D/E (recent Sionna
//   versions default to the same angle; older ones used π/4, i.e. 0.7071 f_D).
// - Time. steps_per_frame states per frame, evenly spaced by frame_seconds / steps (one per
//   OFDM symbol in amimo-ue), frames contiguous: the processes advance by rotating each
//   sinusoid's phasor, so a run is one continuous realisation. doppler_hz = 0 gives a
//   static channel: drawn once at the first next_frame(). Before the first next_frame()
//   every tap gain is zero (awgn: fixed from the start).

#include <amimo/channel/selective_channel.h>
#include <channel_models/cdl_geometry.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::channel_models {

struct selective_channel_config {
  std::string model = "tdl-a";  ///< "tdl-a" … "tdl-e", "cdl-a" … "cdl-e", "flat" or "awgn"
  int antennas = 16;
  int users = 4;
  double delay_spread_s = 100e-9;  ///< DS scaling the normalised TDL delays (38.901 §7.7.3)
  double sample_rate = 7.68e6;     ///< the stream's sample rate (samples/s)
  double doppler_hz = 0.0;         ///< maximum Doppler shift f_D; 0 = static channel
  double frame_seconds = 1e-3;     ///< time between next_frame() calls
  double rho_bs = 0.0;             ///< exponential correlation between adjacent BS antennas
  double rho_ue = 0.0;             ///< exponential correlation between adjacent users
  std::string delay_model = "exact";  ///< "exact" or "sample-spaced"
  int steps_per_frame = 1;            ///< channel states per frame (1 = block fading)
  int sinusoids = 16;                 ///< sinusoids per fading process (Clarke), 8 … 1024
  double los_angle_rad = std::acos(0.7);          ///< LOS angle vs motion (TDL-D/E): f_S = 0.7 f_D
  cdl_geometry cdl;                               ///< CDL array and angles
};

/// Names accepted in selective_channel_config::model.
std::vector<std::string> selective_channel_model_names();

/// Creates a model. Throws amimo::config_error naming the bad field: unknown model or
/// delay_model, non-positive antennas/users, delay_spread_s negative or not finite,
/// sample_rate not positive and finite, doppler_hz negative, frame_seconds not positive,
/// steps_per_frame outside [1, 4096], sinusoids outside [8, 1024], rho_bs/rho_ue outside
/// [0, 1), a last tap beyond 1e6 samples, or an "awgn" channel with users > antennas; for
/// CDL, bad geometry or a desired angle spread the §7.7.5.1 scaling misses by more than 1°
/// (cdl_models.h); or a state table above 2^26 complex entries (1 GiB), checked before any
/// is allocated: sinusoids × taps × antennas × users (TDL/flat: phasors and rotations),
/// antennas × users × rays (CDL steering), antennas² / users² (a rho_bs / rho_ue > 0 factor).
std::unique_ptr<channel::selective_channel_model> create_selective_channel_model(
    const selective_channel_config& config);

/// One TR 38.901 TDL table as printed: normalised delays (multiples of DS, in table order,
/// not sorted) and tap powers in dB. For the LOS profiles (TDL-D, TDL-E) row 0 is the
/// specular LOS path and row 1 the Rayleigh part of the same first tap (delay 0), and
/// k_factor_db is the table's K1 = power of row 0 − power of row 1.
struct tdl_table {
  std::span<const double> normalised_delays;
  std::span<const double> powers_db;
  bool los = false;
  double k_factor_db = 0.0;
};

/// The table for "tdl-a" … "tdl-e" (Tables 7.7.2-1 … -5); throws config_error for any
/// other name.
tdl_table tdl_profile(std::string_view model);

/// The desired delay spreads of TR 38.901 Table 7.7.3-1 by name: "very-short" 10 ns,
/// "short" 30 ns, "nominal" 100 ns, "long" 300 ns, "very-long" 1000 ns. Throws config_error
/// listing the names for any other.
double delay_spread_preset(std::string_view name);
std::vector<std::string> delay_spread_preset_names();

/// The power-delay profile a model built from config uses: distinct delays in samples
/// (fractional for "exact"), ascending, the Rayleigh power of each, and the LOS power (on
/// the delay-0 tap; 0 for NLOS models). Powers and the LOS power sum to 1. Validates config
/// like create_selective_channel_model.
struct power_delay_profile {
  std::vector<double> delays;
  std::vector<double> powers;
  double los_power = 0.0;
};
power_delay_profile model_power_delay_profile(const selective_channel_config& config);

/// Power-weighted RMS delay spread of a profile, in samples (LOS power included at delay 0).
double rms_delay_spread(const power_delay_profile& pdp);

/// One line describing the model built from config (run headers and JSON outputs).
std::string describe(const selective_channel_config& config);

/// Maximum Doppler shift (Hz) of a user moving at speed_mps on carrier_hz: v · fc / c.
double doppler_from_speed(double speed_mps, double carrier_hz);

}  // namespace amimo::channel_models
