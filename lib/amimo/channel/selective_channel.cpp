#include <amimo/channel/selective_channel.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace amimo::channel {

cf64 delay_phasor(int f, double delay_samples, int fft_size) noexcept {
  const long long n = fft_size;
  double cycles = 0.0;  // f·d/n reduced to [0, 1) or thereabouts
  if (delay_samples == std::floor(delay_samples) && std::abs(delay_samples) < 1e15) {
    const long long m = (static_cast<long long>(f) * static_cast<long long>(delay_samples)) % n;
    cycles = static_cast<double>(m) / static_cast<double>(n);
  } else {
    const double x = static_cast<double>(f) * delay_samples / static_cast<double>(n);
    cycles = x - std::floor(x);
  }
  return std::polar(1.0, -2.0 * std::numbers::pi * cycles);
}

void selective_channel_model::frequency_response(cmat_ref h, int f, int fft_size) const {
  if (fft_size <= 0) {
    throw std::invalid_argument("frequency_response: fft_size must be positive (got " + std::to_string(fft_size) + ")");
  }
  if (h.rows() != antennas() || h.cols() != users()) {
    throw std::invalid_argument("frequency_response: output must be antennas x users");
  }
  h.setZero();
  const auto delays = tap_delays();
  for (std::size_t l = 0; l < delays.size(); ++l) h += delay_phasor(f, delays[l], fft_size) * tap_gain(static_cast<int>(l));
}

}  // namespace amimo::channel
