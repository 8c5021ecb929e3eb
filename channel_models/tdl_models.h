#pragma once
// Frequency-selective MIMO channel models for OFDM behind channel::selective_channel_model:
// the 3GPP tapped-delay-line profiles TDL-A, TDL-B and TDL-C (TR 38.901 V16 §7.7.2, the
// NLOS profiles: every tap Rayleigh, no LOS tap), plus "flat" (one Rayleigh tap) and
// "awgn" (one fixed tap, orthogonal unit-modulus DFT columns, no fading).
//
// Conventions:
// - Delays. Tap n of a table sits at τ_n = normalised_delay_n · DS (TR 38.901 §7.7.3) and
//   is placed on the stream's sample grid, d_n = round(τ_n · sample_rate). Taps that land on
//   the same sample are merged by adding their powers. This sample-spaced approximation
//   keeps the power-delay profile's total power and its coarse shape but, when DS ·
//   sample_rate is small, not its exact RMS delay spread (TDL-A at DS = 100 ns and
//   7.68 MS/s becomes 6 taps on samples 0, 1, 2, 3, 4, 7). Powers are then normalised to
//   sum to 1, so E|H_ij(f)|² = 1 on every subcarrier.
// - Fading. Tap l is G_l = sqrt(p_l) · L_bs W_l L_ueᴴ with L Lᴴ = R the exponential
//   correlation matrices (Kronecker model, the same at every tap), W_l i.i.d. CN(0, 1), taps
//   independent of each other.
// - Time. Block fading: the taps are constant within a frame; between frames each W_l
//   follows the first-order Gauss–Markov process W ← ρ W + sqrt(1 − ρ²) V, V fresh
//   CN(0, 1), with ρ = J0(2π f_D T_frame) (Clarke/Jakes autocorrelation at lag one frame;
//   lag k gives ρ^k, not J0 at k frames). doppler_hz = 0 gives ρ = 1: drawn once, then
//   static. Before the first next_frame() every tap gain is zero (awgn: fixed from the start).

#include <amimo/channel/selective_channel.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::channel_models {

struct selective_channel_config {
  std::string model = "tdl-a";  ///< "tdl-a", "tdl-b", "tdl-c", "flat" or "awgn"
  int antennas = 16;
  int users = 4;
  double delay_spread_s = 100e-9;  ///< DS scaling the normalised TDL delays (38.901 §7.7.3)
  double sample_rate = 7.68e6;     ///< taps are placed on this sample grid (samples/s)
  double doppler_hz = 0.0;         ///< maximum Doppler shift; 0 = static channel
  double frame_seconds = 1e-3;     ///< time between next_frame() calls
  double rho_bs = 0.0;             ///< exponential correlation between adjacent BS antennas
  double rho_ue = 0.0;             ///< exponential correlation between adjacent users
};

/// Names accepted in selective_channel_config::model.
std::vector<std::string> selective_channel_model_names();

/// Creates a model. Throws amimo::config_error naming the bad field: unknown model,
/// non-positive antennas/users, delay_spread_s negative or not finite, sample_rate not
/// positive and finite, doppler_hz negative, frame_seconds not positive, rho_bs/rho_ue
/// outside [0, 1), a last tap beyond 1e6 samples, or an "awgn" channel with users > antennas.
std::unique_ptr<channel::selective_channel_model> create_selective_channel_model(
    const selective_channel_config& config);

/// One TR 38.901 TDL table as printed: normalised delays (multiples of DS, in table order,
/// not sorted) and tap powers in dB.
struct tdl_table {
  std::span<const double> normalised_delays;
  std::span<const double> powers_db;
};

/// The table for "tdl-a", "tdl-b" or "tdl-c" (Tables 7.7.2-1, -2, -3); throws config_error
/// for any other name.
tdl_table tdl_profile(std::string_view model);

/// The sample-spaced power-delay profile a model built from config uses: distinct delays in
/// samples, ascending, and their linear powers summing to 1. Validates config like
/// create_selective_channel_model.
struct power_delay_profile {
  std::vector<int> delays;
  std::vector<double> powers;
};
power_delay_profile quantised_power_delay_profile(const selective_channel_config& config);

}  // namespace amimo::channel_models
