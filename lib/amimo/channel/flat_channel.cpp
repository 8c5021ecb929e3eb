#include <amimo/channel/flat_channel.h>

#include <cmath>

namespace amimo::channel {

double noise_variance_from_snr_db(double snr_db) noexcept { return std::pow(10.0, -snr_db / 10.0); }

double ebn0_db_from_snr_db(double snr_db, unsigned bits_per_symbol) noexcept {
  return snr_db - 10.0 * std::log10(static_cast<double>(bits_per_symbol));
}

}  // namespace amimo::channel
