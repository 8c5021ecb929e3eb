#include <amimo/metrics/theory.h>

#include <gtest/gtest.h>

#include <cmath>

namespace amimo::metrics {
namespace {

TEST(Theory, QFunctionKnownValues) {
  EXPECT_NEAR(q_function(0.0), 0.5, 1e-15);
  EXPECT_NEAR(q_function(1.959963984540054), 0.025, 1e-12);
  EXPECT_NEAR(ber_bpsk_awgn(std::pow(10.0, 0.95879)), 1e-5, 1e-8);  // 9.59 dB → 1e-5
}

TEST(Theory, SingleBranchRayleighHasTheTextbookForm) {
  for (const double g : {0.1, 1.0, 10.0, 100.0}) {
    EXPECT_NEAR(ber_bpsk_rayleigh_mrc(g, 1), 0.5 * (1.0 - std::sqrt(g / (1.0 + g))), 1e-15);
  }
}

TEST(Theory, MrcFormulaMatchesNumericalAverageOverGammaDistribution) {
  // Independent computation: ∫ Q(√(2γ)) f(γ) dγ, γ ~ Gamma(L, γ̄) (sum of L exponentials).
  for (const int L : {2, 3, 5}) {
    for (const double gbar : {0.5, 3.0, 20.0}) {
      double integral = 0.0;
      const double step = gbar * 1e-4;
      for (double g = step / 2; g < gbar * 60; g += step) {
        const double pdf = std::pow(g, L - 1) * std::exp(-g / gbar) / (std::tgamma(L) * std::pow(gbar, L));
        integral += ber_bpsk_awgn(g) * pdf * step;
      }
      EXPECT_NEAR(ber_bpsk_rayleigh_mrc(gbar, L), integral, 1e-4 * integral + 1e-12) << L << " " << gbar;
    }
  }
}

TEST(Theory, ZeroForcingDiversityIsNMinusKPlusOne) {
  EXPECT_DOUBLE_EQ(ber_zf_rayleigh_bpsk(10.0, 8, 3), ber_bpsk_rayleigh_mrc(10.0, 6));
  EXPECT_DOUBLE_EQ(ber_zf_rayleigh_qpsk(10.0, 8, 3), ber_bpsk_rayleigh_mrc(5.0, 6));
  // Slope: ~L decades per 10 dB at high SNR.
  const double slope = std::log10(ber_zf_rayleigh_bpsk(1e3, 4, 2) / ber_zf_rayleigh_bpsk(1e4, 4, 2));
  EXPECT_NEAR(slope, 3.0, 0.05);
}

TEST(Theory, GrayQamAwgnMatchesKnownForms) {
  for (const double g : {0.5, 3.0, 30.0, 300.0}) {
    // M = 4: Gray QPSK, Q(√(Es/N0)).
    EXPECT_NEAR(ber_mqam_awgn(4, g), q_function(std::sqrt(g)), 1e-15 + 1e-12 * q_function(std::sqrt(g)));
    // M = 16: Gray 4-PAM per dimension, (3Q(d) + 2Q(3d) − Q(5d))/4 with d = √(Es/(5N0)).
    const double d = std::sqrt(g / 5.0);
    const double p16 = (3.0 * q_function(d) + 2.0 * q_function(3.0 * d) - q_function(5.0 * d)) / 4.0;
    EXPECT_NEAR(ber_mqam_awgn(16, g), p16, 1e-14 + 1e-12 * p16) << g;
  }
  EXPECT_TRUE(std::isnan(ber_mqam_awgn(8, 10.0)));
  EXPECT_TRUE(std::isnan(ber_mqam_awgn(32, 10.0)));
  // Larger constellations: worse at equal Es/N0, and → 1/2 at zero SNR.
  EXPECT_LT(ber_mqam_awgn(16, 100.0), ber_mqam_awgn(64, 100.0));
  EXPECT_LT(ber_mqam_awgn(64, 100.0), ber_mqam_awgn(256, 100.0));
  EXPECT_NEAR(ber_mqam_awgn(256, 0.0), 0.5, 1e-12);
}

TEST(Theory, GrayQamAwgnMatchesAGrayPamCountOfTheDecisionRegions) {
  // Independent computation: per dimension a Gray √M-PAM with levels ±1, ±3, …; the exact
  // BER is Σ over sent and decided levels of P(decide j | i) · Hamming(gray(i), gray(j)).
  for (const int m : {16, 64, 256}) {
    const int side = static_cast<int>(std::lround(std::sqrt(m)));
    const int bits = static_cast<int>(std::lround(std::log2(side)));
    for (const double g : {1.0, 20.0, 400.0}) {
      const double es = 2.0 * (m - 1) / 3.0;  // mean symbol energy of the ±1, ±3, … grid
      const double sigma = std::sqrt(es / g / 2.0);
      double errors = 0.0;
      for (int i = 0; i < side; ++i) {
        for (int j = 0; j < side; ++j) {
          const double lo = j == 0 ? -INFINITY : (2.0 * j - side) - (2.0 * i - side + 1);
          const double hi = j == side - 1 ? INFINITY : (2.0 * j - side + 2) - (2.0 * i - side + 1);
          const double p = (std::isinf(lo) ? 1.0 : q_function(lo / sigma)) - (std::isinf(hi) ? 0.0 : q_function(hi / sigma));
          const int diff = (i ^ (i >> 1)) ^ (j ^ (j >> 1));
          errors += p * __builtin_popcount(static_cast<unsigned>(diff));
        }
      }
      const double pam = errors / (side * bits);
      EXPECT_NEAR(ber_mqam_awgn(m, g), pam, 1e-12 + 1e-9 * pam) << m << " " << g;
    }
  }
}

TEST(Theory, ZfGrayQamIsTheGammaAverageOfTheAwgnBer) {
  // Independent computation: ∫ P_b,AWGN(snr·x) x^{L−1} e^{−x}/Γ(L) dx by the midpoint rule.
  for (const int m : {16, 256}) {
    for (const auto& [n, k] : {std::pair{4, 2}, std::pair{16, 4}}) {
      for (const double snr_db : {10.0, 25.0}) {
        const double snr = std::pow(10.0, snr_db / 10.0);
        const int l = n - k + 1;
        double integral = 0.0;
        const double step = 1e-3;
        for (double x = step / 2; x < 60.0; x += step) {
          integral += ber_mqam_awgn(m, snr * x) * std::pow(x, l - 1) * std::exp(-x) / std::tgamma(l) * step;
        }
        const double closed = ber_zf_rayleigh_mqam(m, snr, n, k);
        EXPECT_NEAR(closed, integral, 1e-4 * integral + 1e-13) << m << " " << n << "x" << k << " " << snr_db;
      }
    }
  }
  EXPECT_NEAR(ber_zf_rayleigh_mqam(4, 10.0, 8, 3), ber_zf_rayleigh_qpsk(10.0, 8, 3), 1e-15);
}

}  // namespace
}  // namespace amimo::metrics
