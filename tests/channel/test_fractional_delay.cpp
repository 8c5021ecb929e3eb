// Windowed-sinc fractional delays (lib/amimo/channel/fractional_delay.h): integer delays are
// exact single taps, and the combined FIR of a TDL/CDL model with exact fractional delays
// has, inside the band, the frequency response H(f) = Σ_l G_l e^{−j2π f d_l / n} that the
// OFDM emulator applies per subcarrier, within a stated error.

#include <amimo/channel/fractional_delay.h>

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
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
