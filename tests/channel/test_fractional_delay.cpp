// Windowed-sinc fractional delays (lib/amimo/channel/fractional_delay.h): integer delays are
// exact single taps, and the combined FIR of a TDL/CDL model with exact fractional delays
// has, inside the band, the frequency response H(f) = Σ_l G_l e^{−j2π f d_l / n} that the
// OFDM emulator applies per subcarrier, within a stated error.

#include <amimo/channel/fractional_delay.h>
#include <amimo/core/error.h>

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace amimo::channel {
namespace {

cf64 fir_response(std::span<const double> c, int first, double f_over_n) {
  cf64 sum = 0.0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    sum += c[i] * std::polar(1.0, -2.0 * std::numbers::pi * f_over_n * (first + static_cast<double>(i)));
  }
  return sum;
}

TEST(FractionalDelay, IntegerDelayIsOneExactCoefficient) {
  const fractional_delay_options o;
  EXPECT_EQ(fractional_delay_length(7.0, o), 1);
  EXPECT_EQ(fractional_delay_first(7.0, o), 7);
  std::vector<double> c(1);
  fractional_delay_coefficients(7.0, o, c);
  EXPECT_EQ(c[0], 1.0);
}

TEST(FractionalDelay, SingleTapMatchesTheDelayPhasorInBand) {
  // W = 16, Kaiser β = 8: |FIR(f) − e^{−j2π f d}| ≤ 2e-3 for |f| ≤ 0.4 (normalised to the
  // sample rate; the OFDM numerologies here use ≤ 0.3 of it), for delays with every fraction.
  const fractional_delay_options o;
  std::vector<double> c(32);
  for (const double d : {0.1, 0.37, 0.5, 2.37, 5.91}) {
    fractional_delay_coefficients(d, o, c);
    const int first = fractional_delay_first(d, o);
    double worst = 0.0;
    for (double f = -0.4; f <= 0.4; f += 0.005) {
      const cf64 ideal = std::polar(1.0, -2.0 * std::numbers::pi * f * d);
      worst = std::max(worst, std::abs(fir_response(c, first, f) - ideal));
    }
    EXPECT_LT(worst, 2e-3) << "delay " << d;
  }
}

// The worst single-tap error max_d |FIR_d(f) − e^{−j2π f d}| over |f| ≤ band, by brute force
// on a grid independent of the library's (fractions 0.02 … 0.98, 2000 frequencies from 0 to
// the band edge included).
double brute_force_worst_error(int half_width, double band) {
  fractional_delay_options o;
  o.half_width = half_width;
  std::vector<double> c(static_cast<std::size_t>(2 * half_width));
  double worst = 0.0;
  for (int k = 1; k < 50; ++k) {
    const double d = 3.0 + k / 50.0;
    fractional_delay_coefficients(d, o, c);
    const int first = fractional_delay_first(d, o);
    for (int i = 0; i <= 2000; ++i) {
      const double f = band * i / 2000.0;
      worst = std::max(worst, std::abs(fir_response(c, first, f) - std::polar(1.0, -2.0 * std::numbers::pi * f * d)));
    }
  }
  return worst;
}

// validate_fractional_delay() accepts a half-width for a band exactly when the FIR's worst
// error there is within 1e-3 (cases chosen away from the limit: a factor 2 either side),
// and never a half-width below 8 (W = 7 misses by more than 1e-3 at a third of fs).
TEST(FractionalDelay, ValidationAcceptsExactlyTheBandsTheFirMeets) {
  struct band_case {
    int half_width;
    double band;
  };
  const std::vector<band_case> cases{{8, 150.0 / 512}, {12, 150.0 / 512}, {16, 150.0 / 512},
                                     {16, 0.40},       {32, 0.45},        {8, 0.40},
                                     {12, 0.42},       {16, 0.45},        {16, 255.0 / 512}};
  for (const auto& [w, band] : cases) {
    SCOPED_TRACE("W " + std::to_string(w) + " band " + std::to_string(band));
    const double truth = brute_force_worst_error(w, band);
    ASSERT_TRUE(truth < 0.5e-3 || truth > 2e-3) << truth << " is too close to the limit for this check";
    fractional_delay_options o;
    o.half_width = w;
    EXPECT_NEAR(fractional_delay_worst_error(o, band), truth, 0.1 * truth);
    if (truth <= fractional_delay_tolerance) {
      EXPECT_NO_THROW(validate_fractional_delay(o, band));
    } else {
      EXPECT_THROW(validate_fractional_delay(o, band), config_error);
    }
  }
  EXPECT_GT(brute_force_worst_error(7, 1.0 / 3.0), fractional_delay_tolerance);
  for (const int w : {0, 1, 4, 7, 257}) {
    fractional_delay_options o;
    o.half_width = w;
    try {
      validate_fractional_delay(o, 0.05);
      ADD_FAILURE() << "accepted half-width " << w;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("half-width"), std::string::npos) << e.what();
    }
  }
}

TEST(FractionalDelay, ChannelFirMatchesThePerSubcarrierResponse) {
  // TDL-C at 300 ns, 30.72 MS/s (24 taps, fractional), 4 × 2: on every used subcarrier of a
  // 512-point FFT with 300 used (|f| ≤ 0.29), ‖FIR(f) − H(f)‖_F ≤ 2e-3 · ‖H(f)‖_F on average.
  channel_models::selective_channel_config cc;
  cc.model = "tdl-c";
  cc.antennas = 4;
  cc.users = 2;
  cc.delay_spread_s = 300e-9;
  cc.sample_rate = 30.72e6;
  auto model = channel_models::create_selective_channel_model(cc);
  rng gen(3);
  model->next_frame(gen);
  const fractional_delay_options o;
  const fir_span span = channel_fir_span(model->tap_delays(), o);
  cmat fir(8, span.length);
  std::vector<double> scratch(32);
  channel_fir(*model, o, fir, scratch);
  cmat h(4, 2);
  double err = 0.0, ref = 0.0;
  for (int f = -150; f <= 150; ++f) {
    if (f == 0) continue;
    model->frequency_response(h, f, 512);
    cvec sum = cvec::Zero(8);
    for (Eigen::Index j = 0; j < fir.cols(); ++j) {
      sum += fir.col(j) * std::polar(1.0, -2.0 * std::numbers::pi * f * static_cast<double>(span.first + j) / 512.0);
    }
    err += (sum - Eigen::Map<const cvec>(h.data(), 8)).squaredNorm();
    ref += h.squaredNorm();
  }
  EXPECT_LT(std::sqrt(err / ref), 2e-3);
}

}  // namespace
}  // namespace amimo::channel
