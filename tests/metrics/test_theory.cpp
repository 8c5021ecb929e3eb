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

}  // namespace
}  // namespace amimo::metrics
