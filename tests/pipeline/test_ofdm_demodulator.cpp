// The receiver's OFDM demodulator stage on its own: frames synthesised by a direct inverse
// DFT (independent of the FFT plans) with a cyclic prefix come back as the transmitted
// subcarrier values whatever the FFT back-off inside the CP, split into any number of parts,
// and N0 is the mean guard-bin energy.
#include <amimo/core/rng.h>
#include <amimo/pipeline/ofdm_demodulator.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace amimo::pipeline {
namespace {

TEST(OfdmDemodulator, RecoversSubcarriersForAnyBackoffAndPartSplitAndMeasuresGuardEnergy) {
  ofdm::numerology n;
  n.fft_size = 64;
  n.cp_length = 8;
  n.used_subcarriers = 36;
  n.sample_rate = 0.96e6;
  n.pilot_symbols = 2;
  n.data_symbols = 3;
  const int antennas = 2;
  const auto fft = static_cast<std::size_t>(n.fft_size);
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  const auto symbols = static_cast<std::size_t>(n.symbols_per_frame());
  const std::vector<int> guard{19, 20, 21, 30, 32, 33, 40};  // runs of 3, 1, 2 and 1 bins
  rng gen(3);
  // X[s][a][b]: random values; the guard bins carry |X|² = 0.25 exactly.
  std::vector<cf64> x(symbols * antennas * fft);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const int b = static_cast<int>(i % fft);
    x[i] = std::find(guard.begin(), guard.end(), b) != guard.end() ? std::polar(0.5, gen.uniform() * 6.0) : gen.complex_normal();
  }
  std::vector<std::vector<cf32>> rows(antennas, std::vector<cf32>(symbols * sym_len));
  for (std::size_t s = 0; s < symbols; ++s) {
    for (std::size_t a = 0; a < static_cast<std::size_t>(antennas); ++a) {
      for (std::size_t m = 0; m < fft; ++m) {  // unitary inverse DFT, written out
        cf64 v{};
        for (std::size_t b = 0; b < fft; ++b) {
          v += x[(s * antennas + a) * fft + b] *
               std::polar(1.0, 2.0 * std::numbers::pi * static_cast<double>(b * m) / static_cast<double>(fft));
        }
        v /= std::sqrt(static_cast<double>(fft));
        rows[a][s * sym_len + static_cast<std::size_t>(n.cp_length) + m] = cf32(v);
        const auto cp = static_cast<std::size_t>(n.cp_length);
        if (m >= fft - cp) rows[a][s * sym_len + m - (fft - cp)] = cf32(v);
      }
    }
  }
  for (const int backoff : {0, 4, 8}) {
    for (const int parts : {1, 3, 7}) {
      ofdm_demodulator d(n, antennas, backoff, guard, 2, parts);
      for (std::size_t a = 0; a < rows.size(); ++a) d.frame_rows()[a] = rows[a].data();
      for (int p = 0; p < parts; ++p) d.transform_part(p % 2, static_cast<std::size_t>(p));
      double worst = 0.0;
      ASSERT_EQ(d.row_stride(), fft + ofdm_demodulator::kRowPad);
      for (std::size_t r = 0; r < symbols * static_cast<std::size_t>(antennas); ++r) {  // row r: symbol r / antennas
        for (std::size_t b = 0; b < fft; ++b) {
          worst = std::max(worst, std::abs(cf64(d.grid()[r * d.row_stride() + b]) - x[r * fft + b]));
        }
      }
      EXPECT_LT(worst, 1e-4) << "backoff " << backoff << ", parts " << parts;
      EXPECT_NEAR(d.noise_variance(), 0.25, 1e-5);
      ASSERT_EQ(d.pilots().size(), 2U);
      EXPECT_EQ(d.pilots()[0], d.grid() + antennas * d.row_stride());  // symbol 1
      EXPECT_EQ(d.symbols().size(), symbols);
    }
  }
}

}  // namespace
}  // namespace amimo::pipeline
