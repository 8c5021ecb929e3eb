// The uplink emulator's noise (normal_stream, one stream per frame and antenna): extracted
// exactly as the difference of two runs that differ only in SNR (same seed: the same
// signal and the same standard normals, scaled by √N0), then checked per antenna for
// variance N0, circular symmetry, whiteness (lags 1–3 and the FFT size, where a noise added
// before the cyclic prefix would correlate) and independence across antennas and frames.
// Seeded; about 6 × 2 × 7672 complex samples, so a correlation's standard deviation is
// ≈ 1/√15344 = 0.008 and the tolerances below are ≥ 5 of them.
#include <amimo/ofdm/frame.h>
#include <amimo/ofdm/uplink_emulator.h>

#include "ofdm_test_support.h"

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>

namespace amimo::ofdm {
namespace {

cf64 correlation(const std::vector<cf64>& x, const std::vector<cf64>& y, std::size_t lag) {
  cf64 c{};
  double px = 0.0, py = 0.0;
  for (std::size_t i = 0; i + lag < x.size(); ++i) {
    c += x[i + lag] * std::conj(y[i]);
    px += std::norm(x[i + lag]);
    py += std::norm(y[i]);
  }
  return c / std::sqrt(px * py);
}

TEST(UplinkEmulatorNoise, PerAntennaVarianceWhitenessAndIndependence) {
  const numerology n;
  const int antennas = 6;
  const int users = 2;
  const frame_layout layout(n, users, modem::modulation::qpsk);
  const double snr_db = 3.0;
  const double n0 = std::pow(10.0, -snr_db / 10.0);
  auto make = [&] {
    channel_models::selective_channel_config cc;
    cc.model = "tdl-c";
    cc.antennas = antennas;
    cc.users = users;
    cc.delay_spread_s = 100e-9;
    cc.sample_rate = n.sample_rate;
    cc.doppler_hz = 100.0;
    cc.frame_seconds = n.frame_seconds();
    cc.steps_per_frame = n.symbols_per_frame();
    return channel_models::create_selective_channel_model(cc);
  };
  auto ch_noisy = make();
  auto ch_clean = make();
  emulator_options options;
  options.threads = 2;
  uplink_emulator noisy(layout, *ch_noisy, snr_db, 17, {}, options);
  uplink_emulator clean(layout, *ch_clean, 400.0, 17);
  test_support::frame_buffer a_buf(antennas, n.frame_length());
  test_support::frame_buffer b_buf(antennas, n.frame_length());
  // noise[frame][antenna]: unit-variance complex noise z = (y_noisy − y_clean) / √N0.
  std::vector<std::vector<std::vector<cf64>>> noise(2);
  for (std::uint64_t f = 0; f < 2; ++f) {
    noisy.generate(a_buf.pointers(), f);
    clean.generate(b_buf.pointers(), f);
    for (int a = 0; a < antennas; ++a) {
      std::vector<cf64> z;
      for (int i = 0; i < n.frame_length(); ++i) {
        const auto idx = static_cast<std::size_t>(i);
        const auto ai = static_cast<std::size_t>(a);
        z.push_back((cf64(a_buf.rows[ai][idx]) - cf64(b_buf.rows[ai][idx])) / std::sqrt(n0));
      }
      noise[f].push_back(std::move(z));
    }
  }
  for (int a = 0; a < antennas; ++a) {
    const auto ai = static_cast<std::size_t>(a);
    std::vector<cf64> z = noise[0][ai];
    z.insert(z.end(), noise[1][ai].begin(), noise[1][ai].end());
    double power = 0.0, re = 0.0;
    cf64 pseudo{};
    for (const cf64 v : z) {
      power += std::norm(v);
      re += v.real() * v.real();
      pseudo += v * v;
    }
    const auto count = static_cast<double>(z.size());
    EXPECT_NEAR(power / count, 1.0, 0.04) << "antenna " << a;
    EXPECT_NEAR(re / count, 0.5, 0.025) << "antenna " << a;
    EXPECT_LT(std::abs(pseudo / count), 0.04) << "antenna " << a;
    for (const std::size_t lag : {std::size_t{1}, std::size_t{2}, std::size_t{3}, static_cast<std::size_t>(n.fft_size)})
      EXPECT_LT(std::abs(correlation(z, z, lag)), 0.05) << "antenna " << a << " lag " << lag;
    for (int b = a + 1; b < antennas; ++b)
      EXPECT_LT(std::abs(correlation(noise[0][ai], noise[0][static_cast<std::size_t>(b)], 0)), 0.06)
          << "antennas " << a << ", " << b;
    EXPECT_LT(std::abs(correlation(noise[0][ai], noise[1][ai], 0)), 0.06) << "antenna " << a << " frames 0, 1";
  }
}

}  // namespace
}  // namespace amimo::ofdm
