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

namespace {

// Σ over the Cho & Yoon terms of w(i, k)·2·f((2i+1)²·3/(M−1)), f(c²) = the error probability
// of one term with amplitude factor c (AWGN: Q(c·√γ); Rayleigh ZF: its Gamma average).
template <typename Term>
double cho_yoon(int m, Term term) noexcept {
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(m))));
  int bits_per_dim = 0;
  while ((1 << bits_per_dim) < side) ++bits_per_dim;
  if (side * side != m || (1 << bits_per_dim) != side || bits_per_dim < 1 || bits_per_dim > 5) {
    return std::nan("");
  }
  double total = 0.0;
  for (int k = 1; k <= bits_per_dim; ++k) {
    const int half = 1 << (k - 1);
    const int terms = side - (side >> k);  // (1 − 2^−k)·√M
    for (int i = 0; i < terms; ++i) {
      const int q = (i * half) / side;  // ⌊i·2^{k−1}/√M⌋
      const double sign = (q % 2 == 0) ? 1.0 : -1.0;
      // ⌊i·2^{k−1}/√M + 1/2⌋ = ⌊(2·i·2^{k−1} + √M) / (2√M)⌋
      const int rounded = (2 * i * half + side) / (2 * side);
      const double weight = sign * static_cast<double>(half - rounded);
      const double c2 = static_cast<double>((2 * i + 1) * (2 * i + 1)) * 3.0 / static_cast<double>(m - 1);
      total += weight * 2.0 * term(c2);
    }
  }
  return total / (static_cast<double>(side) * static_cast<double>(bits_per_dim));
}

}  // namespace

double ber_mqam_awgn(int m, double es_n0) noexcept {
  return cho_yoon(m, [es_n0](double c2) { return q_function(std::sqrt(c2 * es_n0)); });
}

double ber_zf_rayleigh_mqam(int m, double snr_linear, int antennas, int users) noexcept {
  const int branches = antennas - users + 1;
  // E[Q(√(c²·γ))] = E[Q(√(2·γ'))], γ' = c²γ/2 ~ Gamma(L, c²·snr/2): L-branch MRC.
  return cho_yoon(m, [&](double c2) { return ber_bpsk_rayleigh_mrc(c2 * snr_linear / 2.0, branches); });
}

}  // namespace amimo::metrics
