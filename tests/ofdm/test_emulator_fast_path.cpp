// The uplink emulator's fast per-subcarrier path (single-precision response products per
// block of antennas, the response cached for time-invariant channels, timing ramps folded
// into the user grid, a thread pool over antenna blocks) against the straightforward
// formula Y_a(s, f) = Σ_k (Σ_l G_l(s)[a, k] e^{−j2π f d_l / n}) Z_k(s, f), evaluated here in
// double precision from the taps a scripted channel hands out; and its output against
// itself for different thread counts.
#include <amimo/channel/selective_channel.h>
#include <amimo/core/error.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/frame.h>
#include <amimo/ofdm/uplink_emulator.h>

#include "ofdm_test_support.h"

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <numbers>
#include <string>

namespace amimo::ofdm {
namespace {

// Tap gains scripted per (frame, step): steps states per frame, drawn up front from a
// seeded generator, so the test knows the exact gains behind every OFDM symbol.
class scripted_channel final : public channel::selective_channel_model {
 public:
  scripted_channel(int antennas, int users, std::vector<double> delays, int steps, int frames, bool invariant,
                   std::uint64_t seed)
      : antennas_(antennas), users_(users), delays_(std::move(delays)), steps_(steps), invariant_(invariant) {
    rng gen(seed);
    script_.resize(static_cast<std::size_t>(frames * steps));
    for (auto& state : script_) {
      for (std::size_t l = 0; l < delays_.size(); ++l) {
        state.push_back(cmat(antennas, users));
        gen.fill_complex_normal(state.back(), 1.0 / static_cast<double>(delays_.size()));
      }
    }
    if (invariant_) {
      for (auto& state : script_) state = script_.front();
    }
  }
  std::string_view name() const noexcept override { return "scripted"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  std::span<const double> tap_delays() const noexcept override { return delays_; }
  cmat_cref tap_gain(int l) const noexcept override { return gains(frame_, step_)[static_cast<std::size_t>(l)]; }
  void next_frame(rng&) override {
    ++frame_;
    step_ = 0;
  }
  int steps_per_frame() const noexcept override { return steps_; }
  void next_step() noexcept override {
    if (step_ + 1 < steps_) ++step_;
  }
  bool time_invariant() const noexcept override { return invariant_; }
  const std::vector<cmat>& gains(int frame, int step) const {
    return script_[static_cast<std::size_t>(frame * steps_ + step)];
  }

 private:
  int antennas_;
  int users_;
  std::vector<double> delays_;
  int steps_;
  bool invariant_;
  std::vector<std::vector<cmat>> script_;
  int frame_ = -1;
  int step_ = 0;
};

// Identity channel (antennas = users, one tap at delay 0, G = I): its output is what each
// user transmits, Z_k(s, f) = ramp_k(f) X_k(s, f), whatever the frame layout puts where.
class identity_channel final : public channel::selective_channel_model {
 public:
  explicit identity_channel(int users) : gain_(cmat::Identity(users, users)) {}
  std::string_view name() const noexcept override { return "identity"; }
  int antennas() const noexcept override { return static_cast<int>(gain_.rows()); }
  int users() const noexcept override { return static_cast<int>(gain_.cols()); }
  std::span<const double> tap_delays() const noexcept override { return delays_; }
  cmat_cref tap_gain(int) const noexcept override { return gain_; }
  void next_frame(rng&) override {}

 private:
  std::array<double, 1> delays_{0.0};
  cmat gain_;
};

// FFT of every received symbol body: [antenna][symbol][used subcarrier].
using grid = std::vector<std::vector<std::vector<cf64>>>;
grid received(const numerology& n, const test_support::frame_buffer& buf) {
  fft_plan fft(n.fft_size, fft_plan::direction::forward);
  grid g(buf.rows.size(), std::vector<std::vector<cf64>>(static_cast<std::size_t>(n.symbols_per_frame())));
  for (std::size_t a = 0; a < buf.rows.size(); ++a) {
    for (int s = 0; s < n.symbols_per_frame(); ++s) {
      const cf32* body = buf.rows[a].data() + s * n.symbol_length() + n.cp_length;
      std::copy(body, body + n.fft_size, fft.input().begin());
      fft.execute();
      for (int u = 0; u < n.used_subcarriers; ++u)
        g[a][static_cast<std::size_t>(s)].push_back(cf64(fft.output()[static_cast<std::size_t>(n.fft_index_of(u))]));
    }
  }
  return g;
}

void expect_direct_formula(int steps, bool invariant, int threads) {
  const numerology n;
  const int antennas = 6;  // blocks of 4 antennas: one full block and a partial one
  const int users = 3;
  const frame_layout layout(n, users, modem::modulation::qam16);
  const std::vector<double> delays{0.0, 1.37, 4.5, 9.02, 17.8};  // fractional, inside the CP
  const user_impairments imp{{}, {0.0, 2.5, 7.25}};
  const int frames = 2;
  scripted_channel channel(antennas, users, delays, steps, frames, invariant, 11);
  emulator_options options;
  options.threads = threads;
  uplink_emulator em(layout, channel, 300.0, 5, imp, options);
  identity_channel identity(users);
  uplink_emulator sent(layout, identity, 300.0, 5, imp);
  test_support::frame_buffer buf(antennas, n.frame_length());
  test_support::frame_buffer tx(users, n.frame_length());
  for (int frame = 0; frame < frames; ++frame) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(frame));
    sent.generate(tx.pointers(), static_cast<std::uint64_t>(frame));
    const grid y = received(n, buf);
    const grid z = received(n, tx);
    for (int s = 0; s < n.symbols_per_frame(); ++s) {
      const int state = s * steps / n.symbols_per_frame();
      const auto& g = channel.gains(frame, state);
      for (int a = 0; a < antennas; ++a) {
        double err = 0.0, ref = 0.0;
        for (int u = 0; u < n.used_subcarriers; ++u) {
          cf64 expected{};
          for (int k = 0; k < users; ++k) {
            cf64 h{};
            for (std::size_t l = 0; l < delays.size(); ++l)
              h += g[l](a, k) * std::polar(1.0, -2.0 * std::numbers::pi * n.bin_of(u) * delays[l] / n.fft_size);
            expected += h * z[static_cast<std::size_t>(k)][static_cast<std::size_t>(s)][static_cast<std::size_t>(u)];
          }
          err += std::norm(y[static_cast<std::size_t>(a)][static_cast<std::size_t>(s)][static_cast<std::size_t>(u)] -
                           expected);
          ref += std::norm(expected);
        }
        // Single-precision products and transforms: relative error ~1e-6 in amplitude.
        EXPECT_LT(err / ref, 1e-10) << "frame " << frame << " symbol " << s << " antenna " << a;
      }
    }
  }
}

TEST(UplinkEmulatorFastPath, MatchesDirectFormulaWithAStatePerSymbol) { expect_direct_formula(14, false, 1); }

TEST(UplinkEmulatorFastPath, MatchesDirectFormulaWithAStatePerTwoSymbols) { expect_direct_formula(7, false, 2); }

TEST(UplinkEmulatorFastPath, MatchesDirectFormulaForATimeInvariantChannel) {
  // The response is computed once and reused in the second frame.
  expect_direct_formula(1, true, 3);
}

TEST(UplinkEmulatorFastPath, OutputIsBitIdenticalForAnyThreadCount) {
  const numerology n;
  const int antennas = 9;  // three blocks, the last partial
  const int users = 3;
  const frame_layout layout(n, users, modem::modulation::qpsk);
  const user_impairments imp{{0.0, 150.0, 0.0}, {0.0, 1.5, 3.0}};  // a CFO group and ramps
  for (const double doppler : {0.0, 300.0}) {
    std::vector<test_support::frame_buffer> outputs;
    for (const int threads : {1, 2, 3, 0}) {
      channel_models::selective_channel_config cc;
      cc.model = "tdl-c";
      cc.antennas = antennas;
      cc.users = users;
      cc.delay_spread_s = 100e-9;
      cc.sample_rate = n.sample_rate;
      cc.doppler_hz = doppler;
      cc.frame_seconds = n.frame_seconds();
      cc.steps_per_frame = n.symbols_per_frame();
      auto channel = channel_models::create_selective_channel_model(cc);
      emulator_options options;
      options.threads = threads;
      uplink_emulator em(layout, *channel, 10.0, 21, imp, options);
      // Several frames: a block item racing the noise item of its antennas (an ordering bug
      // this test once caught by chance) shows in some frame.
      constexpr std::uint64_t frames = 8;
      test_support::frame_buffer buf(antennas, static_cast<int>(frames) * n.frame_length());
      for (std::uint64_t frame = 0; frame < frames; ++frame) {
        std::vector<cf32*> ptrs;
        for (auto& row : buf.rows) ptrs.push_back(row.data() + frame * static_cast<std::size_t>(n.frame_length()));
        em.generate(ptrs, frame);
      }
      outputs.push_back(std::move(buf));
    }
    for (std::size_t t = 1; t < outputs.size(); ++t) {
      for (int a = 0; a < antennas; ++a) {
        EXPECT_TRUE(outputs[t].rows[static_cast<std::size_t>(a)] == outputs[0].rows[static_cast<std::size_t>(a)])
            << "doppler " << doppler << " thread setting " << t << " antenna " << a;
      }
    }
  }
}

TEST(UplinkEmulatorFastPath, BadThreadCountIsAConfigError) {
  const frame_layout layout(numerology{}, 2, modem::modulation::qpsk);
  test_support::fixed_channel ch(2, 2, {0});
  emulator_options options;
  options.threads = -1;
  EXPECT_THROW(uplink_emulator(layout, ch, 10.0, 1, {}, options), config_error);
  options.threads = max_worker_threads + 1;
  EXPECT_THROW(uplink_emulator(layout, ch, 10.0, 1, {}, options), config_error);
}

}  // namespace
}  // namespace amimo::ofdm
