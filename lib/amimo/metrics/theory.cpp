#include <amimo/metrics/theory.h>

#include <cmath>

namespace amimo::metrics {

double q_function(double x) noexcept { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

double ber_bpsk_awgn(double gamma) noexcept { return q_function(std::sqrt(2.0 * gamma)); }

double ber_bpsk_rayleigh_mrc(double gamma_bar, int branches) noexcept {
  const double mu = std::sqrt(gamma_bar / (1.0 + gamma_bar));
  const double low = (1.0 - mu) / 2.0;
  const double high = (1.0 + mu) / 2.0;
  double sum = 0.0;
  double binomial = 1.0;  // C(L−1+l, l), updated incrementally
  double power = 1.0;     // high^l
  for (int l = 0; l < branches; ++l) {
    sum += binomial * power;
    binomial *= static_cast<double>(branches + l) / static_cast<double>(l + 1);
    power *= high;
  }
  return std::pow(low, branches) * sum;
}

double ber_zf_rayleigh_bpsk(double snr_linear, int antennas, int users) noexcept {
  return ber_bpsk_rayleigh_mrc(snr_linear, antennas - users + 1);
}

double ber_zf_rayleigh_qpsk(double snr_linear, int antennas, int users) noexcept {
  return ber_bpsk_rayleigh_mrc(snr_linear / 2.0, antennas - users + 1);
}

}  // namespace amimo::metrics
