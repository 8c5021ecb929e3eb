#pragma once
// Flat-fading channel models: i.i.d. Rayleigh, Kronecker-correlated Rayleigh with
// exponential correlation at both ends, and "awgn" — a fixed, orthogonal, unit-modulus
// channel (columns of the N-point DFT matrix) so the only impairment is the noise.

#include <amimo/channel/flat_channel.h>
#include <channel_models/cdl_geometry.h>

#include <memory>
#include <string>
#include <vector>

namespace amimo::channel_models {

struct flat_channel_config {
  std::string model = "rayleigh";  ///< "rayleigh", "kronecker", "awgn" or "cdl-a" … "cdl-e"
  int antennas = 16;
  int users = 4;
  double rho_bs = 0.0;  ///< exponential correlation coefficient between adjacent BS antennas
  double rho_ue = 0.0;  ///< between adjacent users (user-side correlation)
};

/// Names accepted in flat_channel_config::model.
std::vector<std::string> flat_channel_model_names();

/// Throws amimo::config_error for an unknown model, non-positive sizes, ρ outside [0, 1),
/// or an "awgn" channel with more users than antennas (columns could not be orthogonal).
/// For "cdl-a" … "cdl-e" every draw is a fresh CDL realisation on one subcarrier, with the
/// array and angle options of cdl (cdl_models.h); rho_bs/rho_ue must then be 0.
std::unique_ptr<channel::flat_channel_model> create_flat_channel_model(const flat_channel_config& config,
                                                                       const cdl_geometry& cdl = {});

/// One line naming the model and its parameters (run headers, JSON): for a CDL model the
/// full description of channel_models::describe plus the per-draw convention.
std::string describe(const flat_channel_config& config, const cdl_geometry& cdl = {});

/// R with R_ij = ρ^|i−j| (exponential correlation model, Loyka 2001).
rmat exponential_correlation(int size, double rho);

}  // namespace amimo::channel_models
