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

/// Exact bit error probability of square M-QAM with Gray mapping (each dimension a Gray
/// √M-PAM) in AWGN at Es/N0 = es_n0 (linear), Es the mean symbol energy. Cho & Yoon, "On
/// the general BER expression of one- and two-dimensional amplitude modulations", IEEE
/// Trans. Commun. 50(7), 2002, eq. (16), written with Q(x) = erfc(x/√2)/2:
///   P_b = 1/(√M·log2√M) Σ_{k=1}^{log2√M} Σ_{i=0}^{(1−2^−k)√M−1} w(i, k) · 2Q((2i+1)·√(3·Es/N0/(M−1))),
///   w(i, k) = (−1)^⌊i·2^{k−1}/√M⌋ · (2^{k−1} − ⌊i·2^{k−1}/√M + 1/2⌋).
/// M = 4, 16, 64, 256, 1024 (M = 4 gives Q(√(Es/N0)), Gray QPSK). Returns NaN for another M.
double ber_mqam_awgn(int m, double es_n0) noexcept;

/// The same averaged over the post-detection SNR of ZF in N×K i.i.d. Rayleigh with perfect
/// channel knowledge: γ = (Es/N0)·X, X ~ Gamma(N−K+1, 1) (χ²_{2(N−K+1)}/2; Winters, Salz
/// & Gitlin 1994). Each term E[Q(c·√γ)] is the closed-form (N−K+1)-branch MRC average
/// (ber_bpsk_rayleigh_mrc at mean SNR c²·Es/N0/2), so the result is exact, no quadrature.
double ber_zf_rayleigh_mqam(int m, double snr_linear, int antennas, int users) noexcept;

}  // namespace amimo::metrics
