#include <amimo/channel/selective_channel.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace amimo::channel {

void selective_channel_model::frequency_response(cmat_ref h, int f, int fft_size) const {
  if (fft_size <= 0) {
    throw std::invalid_argument("frequency_response: fft_size must be positive (got " + std::to_string(fft_size) + ")");
  }
  if (h.rows() != antennas() || h.cols() != users()) {
    throw std::invalid_argument("frequency_response: output must be antennas x users");
  }
  h.setZero();
  const auto delays = tap_delays();
  const long long n = fft_size;
  for (std::size_t l = 0; l < delays.size(); ++l) {
    // The phase f·d/n is reduced modulo n in integers first, so it stays exact for any f.
    const long long m = (static_cast<long long>(f) * delays[l]) % n;
    const double angle = -2.0 * std::numbers::pi * static_cast<double>(m) / static_cast<double>(n);
    h += std::polar(1.0, angle) * tap_gain(static_cast<int>(l));
  }
}

}  // namespace amimo::channel
