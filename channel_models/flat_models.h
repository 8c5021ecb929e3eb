#pragma once
// Flat-fading channel models: i.i.d. Rayleigh, Kronecker-correlated Rayleigh with
// exponential correlation at both ends, and "awgn" — a fixed, orthogonal, unit-modulus
// channel (columns of the N-point DFT matrix) so the only impairment is the noise.

#include <amimo/channel/flat_channel.h>

#include <memory>
#include <string>
#include <vector>

namespace amimo::channel_models {

struct flat_channel_config {
  std::string model = "rayleigh";  ///< "rayleigh", "kronecker" or "awgn"
  int antennas = 16;
  int users = 4;
  double rho_bs = 0.0;  ///< exponential correlation coefficient between adjacent BS antennas
  double rho_ue = 0.0;  ///< between adjacent users (user-side correlation)
};

/// Names accepted in flat_channel_config::model.
std::vector<std::string> flat_channel_model_names();

/// Throws amimo::config_error for an unknown model, non-positive sizes, ρ outside [0, 1),
/// or an "awgn" channel with more users than antennas (columns could not be orthogonal).
std::unique_ptr<channel::flat_channel_model> create_flat_channel_model(const flat_channel_config& config);

/// R with R_ij = ρ^|i−j| (exponential correlation model, Loyka 2001).
rmat exponential_correlation(int size, double rho);

}  // namespace amimo::channel_models
