// OFDM building blocks: the unitary FFT against a direct DFT, the numerology's subcarrier
// map, the frame layout (orthogonal comb pilots, the preamble's waveform) and the uplink
// emulator's noise and channel conventions.
#include <amimo/core/error.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/frame.h>
#include <amimo/ofdm/numerology.h>
#include <amimo/ofdm/uplink_emulator.h>

#include "ofdm_test_support.h"

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <set>

namespace amimo::ofdm {
namespace {

TEST(Fft, ForwardIsUnitaryDftWithNegativeExponent) {
  const int n = 12;  // not a power of two on purpose
  fft_plan plan(n, fft_plan::direction::forward);
  rng gen(3);
  std::vector<cf64> x(n);
  for (int i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i)] = gen.complex_normal();
    plan.input()[static_cast<std::size_t>(i)] = cf32(x[static_cast<std::size_t>(i)]);
  }
  plan.execute();
  for (int f = 0; f < n; ++f) {
    cf64 ref{};
    for (int t = 0; t < n; ++t)
      ref += x[static_cast<std::size_t>(t)] * std::polar(1.0, -2.0 * std::numbers::pi * f * t / n);
    ref /= std::sqrt(static_cast<double>(n));
    EXPECT_NEAR(std::abs(cf64(plan.output()[static_cast<std::size_t>(f)]) - ref), 0.0, 1e-5) << f;
  }
}

TEST(Fft, InverseUndoesForward) {
  fft_plan fwd(512, fft_plan::direction::forward);
  fft_plan inv(512, fft_plan::direction::inverse);
  rng gen(4);
  for (auto& v : fwd.input()) v = cf32(gen.complex_normal());
  fwd.execute();
  std::copy(fwd.output().begin(), fwd.output().end(), inv.input().begin());
  inv.execute();
  for (std::size_t i = 0; i < 512; ++i) EXPECT_NEAR(std::abs(inv.output()[i] - fwd.input()[i]), 0.0F, 1e-5F);
}

// execute_unscaled: the same transform without 1/√N, straight into an aligned destination
// or through the plan's buffer into a misaligned one (FFTW's new-array execute needs the
// plan's alignment); the input is left as it was.
TEST(Fft, UnscaledExecuteIntoAnyDestinationIsTheTransformTimesRootN) {
  const int n = 64;
  fft_plan plan(n, fft_plan::direction::forward);
  rng gen(6);
  for (auto& v : plan.input()) v = cf32(gen.complex_normal());
  const std::vector<cf32> input(plan.input().begin(), plan.input().end());
  plan.execute();
  const std::vector<cf32> scaled(plan.output().begin(), plan.output().end());
  std::vector<cf32> storage(2 * static_cast<std::size_t>(n) + 8);
  for (const std::size_t shift : {0UL, 1UL, 2UL, 4UL}) {
    // The destination at every 8-byte offset from a 32-byte boundary.
    auto* base = reinterpret_cast<cf32*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 31U) & ~std::uintptr_t{31});
    cf32* out = base + shift;
    plan.execute_unscaled(out);
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      EXPECT_NEAR(std::abs(out[i] / std::sqrt(static_cast<float>(n)) - scaled[i]), 0.0F, 1e-5F) << shift << " " << i;
      EXPECT_EQ(plan.input()[i], input[i]);
    }
  }
}

TEST(Numerology, DefaultIsFiveMegahertzCarrier) {
  const numerology n;
  EXPECT_EQ(n.fft_size, 512);
  EXPECT_EQ(n.used_subcarriers, 300);
  EXPECT_DOUBLE_EQ(n.sample_rate, 7.68e6);
  EXPECT_DOUBLE_EQ(n.subcarrier_spacing(), 15e3);
  EXPECT_EQ(n.frame_length(), 14 * 548);
  // Used bins: −150 … −1 and 1 … 150, DC empty, all distinct.
  std::set<int> bins;
  for (int u = 0; u < n.used_subcarriers; ++u) bins.insert(n.bin_of(u));
  EXPECT_EQ(bins.size(), 300U);
  EXPECT_EQ(*bins.begin(), -150);
  EXPECT_EQ(*bins.rbegin(), 150);
  EXPECT_EQ(bins.count(0), 0U);
  EXPECT_EQ(n.fft_index_of(0), 512 - 150);
}

TEST(Numerology, BadValuesNameTheField) {
  numerology n;
  n.used_subcarriers = 511;
  EXPECT_THROW(validate(n), config_error);
  n = numerology{};
  n.cp_length = 600;
  try {
    validate(n);
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("cp_length"), std::string::npos);
  }
  n = numerology{};
  n.sample_rate = std::nan("");
  EXPECT_THROW(validate(n), config_error);
  EXPECT_THROW((void)find_preset("3x3"), config_error);
  EXPECT_EQ(find_preset("64x16").users, 16);
}

TEST(Frame, PilotCombIsOrthogonalAndCoversEveryUser) {
  numerology n;
  n.pilot_symbols = 4;
  const frame_layout layout(n, 4, modem::modulation::qam16);
  for (int u = 0; u < n.used_subcarriers; ++u) {
    std::set<int> users;
    for (int p = 0; p < 4; ++p) users.insert(layout.pilot_user(p, u));
    EXPECT_EQ(users.size(), 4U);  // over K pilot symbols each subcarrier serves every user
    EXPECT_NEAR(std::abs(layout.pilot(u)), 2.0, 1e-12);  // √K
    EXPECT_NEAR(std::abs(layout.preamble(u)), 1.0, 1e-12);
  }
  EXPECT_EQ(layout.bits_per_user(), 12U * 300U * 4U);
}

TEST(Frame, PreambleWaveformHasUnitEnergyPerUsedSubcarrierAndBandLimitedAutocorrelation) {
  const numerology n;
  const frame_layout layout(n, 4, modem::modulation::qpsk);
  const auto w = layout.preamble_waveform();
  double energy = 0.0;
  for (auto v : w) energy += std::norm(cf64(v));
  EXPECT_NEAR(energy, 300.0, 1e-2);
  // Unit-modulus values on the used bins: the cyclic autocorrelation is the Dirichlet kernel
  // of the used band, Σ_u exp(j2π·bin(u)·s/N), whatever the sequence's phases.
  for (int shift : {1, 2, 5, 37, 200}) {
    cf64 acc{};
    for (std::size_t i = 0; i < w.size(); ++i)
      acc += std::conj(cf64(w[i])) * cf64(w[(i + static_cast<std::size_t>(shift)) % w.size()]);
    cf64 kernel{};
    for (int u = 0; u < n.used_subcarriers; ++u)
      kernel += std::polar(1.0, 2.0 * std::numbers::pi * n.bin_of(u) * shift / n.fft_size);
    EXPECT_NEAR(std::abs(acc), std::abs(kernel), 1e-2) << shift;
  }
}

TEST(Frame, DataBitsAreSeededAndDifferPerUserAndFrame) {
  const frame_layout layout(numerology{}, 2, modem::modulation::qpsk);
  std::vector<bit> a(layout.bits_per_user()), b(layout.bits_per_user()), c(layout.bits_per_user());
  layout.data_bits(a, 7, 0, 3);
  layout.data_bits(b, 7, 0, 3);
  layout.data_bits(c, 7, 1, 3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  layout.data_bits(c, 7, 0, 4);
  EXPECT_NE(a, c);
}

TEST(UplinkEmulator, NoiseOnlyPowerIsN0AndSignalPowerIsKUsedOverN) {
  const numerology n;
  const frame_layout layout(n, 2, modem::modulation::qpsk);
  test_support::fixed_channel silent(4, 2, {0});  // zero gains: noise only
  uplink_emulator noise_only(layout, silent, 10.0, 5);
  test_support::frame_buffer buf(4, n.frame_length());
  double p = 0.0;
  for (int f = 0; f < 4; ++f) {
    noise_only.generate(buf.pointers(), static_cast<std::uint64_t>(f));
    p += buf.mean_power();
  }
  EXPECT_NEAR(p / 4, 0.1, 0.1 * 0.03);

  test_support::fixed_channel unit(4, 2, {0});
  unit.gains[0].setOnes();
  uplink_emulator clean(layout, unit, 200.0, 5);
  clean.generate(buf.pointers(), 0);
  // Two users through all-ones gains add coherently on the preamble; over the data
  // symbols (independent QAM) the power is K·used/N per antenna.
  double data_power = 0.0;
  const int first = (1 + n.pilot_symbols) * n.symbol_length();
  for (int i = first; i < n.frame_length(); ++i) data_power += std::norm(cf64(buf.rows[0][static_cast<std::size_t>(i)]));
  data_power /= n.frame_length() - first;
  EXPECT_NEAR(data_power, 2.0 * 300.0 / 512.0, 0.05);
}

TEST(UplinkEmulator, TimeVaryingChannelIsAppliedPerSymbolAtExactDelays) {
  // TDL-C with exact (fractional) delays inside the CP and 500 Hz Doppler, a state per
  // OFDM symbol, no noise: the FFT of each received symbol must be Σ_k H_k(s, f) X_k(s, f)
  // with the response recorded for that very symbol, and the response must move.
  const numerology n;
  const frame_layout layout(n, 2, modem::modulation::qpsk);
  channel_models::selective_channel_config cc;
  cc.model = "tdl-c";
  cc.antennas = 3;
  cc.users = 2;
  cc.delay_spread_s = 300e-9;  // last tap 2.6 µs = 19.9 samples < CP 36
  cc.sample_rate = n.sample_rate;
  cc.doppler_hz = 500.0;
  cc.frame_seconds = n.frame_seconds();
  cc.steps_per_frame = n.symbols_per_frame();
  auto channel = channel_models::create_selective_channel_model(cc);
  uplink_emulator em(layout, *channel, 300.0, 7);
  em.record_symbol_responses(true);
  test_support::frame_buffer buf(3, n.frame_length());
  fft_plan fft(n.fft_size, fft_plan::direction::forward);
  for (std::uint64_t frame = 0; frame < 2; ++frame) {
    em.generate(buf.pointers(), frame);
    for (int s = 0; s < 2; ++s) {  // preamble (every user) and the first comb-pilot symbol
      for (int a = 0; a < 3; ++a) {
        const cf32* body = buf.rows[static_cast<std::size_t>(a)].data() + s * n.symbol_length() + n.cp_length;
        std::copy(body, body + n.fft_size, fft.input().begin());
        fft.execute();
        double err = 0.0, ref = 0.0;
        for (int u = 0; u < n.used_subcarriers; ++u) {
          const auto h = em.symbol_response(s, u);
          cf64 expected{};
          for (int k = 0; k < 2; ++k) {
            const cf64 x = s == 0 ? layout.preamble(u) : (layout.pilot_user(0, u) == k ? layout.pilot(u) : cf64{});
            expected += h(a, k) * x;
          }
          err += std::norm(cf64(fft.output()[static_cast<std::size_t>(n.fft_index_of(u))]) - expected);
          ref += std::norm(expected);
        }
        EXPECT_LT(err / ref, 1e-9) << "frame " << frame << " symbol " << s << " antenna " << a;
      }
    }
    // 500 Hz over 13 symbols (0.93 ms) moves the channel by a sizeable fraction.
    double moved = 0.0, power = 0.0;
    for (int u = 0; u < n.used_subcarriers; u += 7) {
      moved += (em.symbol_response(13, u) - em.symbol_response(0, u)).squaredNorm();
      power += em.symbol_response(0, u).squaredNorm();
    }
    EXPECT_GT(moved / power, 0.1);
    EXPECT_LT((em.last_response(5) - em.symbol_response(13, 5)).norm(), 1e-15);
  }
  EXPECT_EQ(em.symbol_response(99, 0).size(), 0);
}

TEST(UplinkEmulator, ImpairmentListsAreChecked) {
  const frame_layout layout(numerology{}, 2, modem::modulation::qpsk);
  test_support::fixed_channel ch(4, 2, {0});
  EXPECT_THROW(uplink_emulator(layout, ch, 10.0, 1, {{1.0}, {}}), config_error);
  EXPECT_THROW(uplink_emulator(layout, ch, 10.0, 1, {{}, {0.0, 99.0}}), config_error);
  test_support::fixed_channel wrong(4, 3, {0});
  EXPECT_THROW(uplink_emulator(layout, wrong, 10.0, 1), config_error);
}

}  // namespace
}  // namespace amimo::ofdm
