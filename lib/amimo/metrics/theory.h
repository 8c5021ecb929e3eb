#pragma once
// Closed-form error probabilities used as references by tests and reports.

namespace amimo::metrics {

/// Q(x) = P(N(0,1) > x).
double q_function(double x) noexcept;

/// BPSK bit error probability in AWGN at Eb/N0 = gamma (linear): Q(√(2γ)).
double ber_bpsk_awgn(double gamma) noexcept;

/// BPSK bit error probability with L-branch maximal-ratio combining in i.i.d. Rayleigh
/// fading, mean SNR per branch gamma_bar (Proakis, Digital Communications, eq. 14.4-15):
///   P = ((1−μ)/2)^L Σ_{l=0}^{L−1} C(L−1+l, l) ((1+μ)/2)^l,  μ = √(γ̄/(1+γ̄)).
double ber_bpsk_rayleigh_mrc(double gamma_bar, int branches) noexcept;

/// Zero-forcing in N×K i.i.d. Rayleigh: the post-detection SNR of each stream is
/// (Es/N0)·χ²_{2(N−K+1)}/2, so the BER equals (N−K+1)-branch MRC. Gray QPSK is two
/// independent BPSK streams at half the symbol energy per bit. snr_linear = Es/N0.
double ber_zf_rayleigh_bpsk(double snr_linear, int antennas, int users) noexcept;
double ber_zf_rayleigh_qpsk(double snr_linear, int antennas, int users) noexcept;

}  // namespace amimo::metrics
