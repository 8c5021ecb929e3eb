// The streaming receiver end to end in process: uplink emulator → samples → receiver,
// against known bits (the PRBS), the true channel (genie) and closed-form estimator noise.
#include <amimo/core/error.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/channel_estimator.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::frame_buffer;
using test_support::randomise;

// The FFT of the frame's first pilot symbol (the symbol after the preamble, CP removed) on
// every antenna, rows of fft_size bins: channel_estimator::estimate()'s input.
std::vector<cf32> pilot_symbol_fft(const frame_buffer& buf, const ofdm::numerology& n, int antennas) {
  ofdm::fft_plan fft(n.fft_size, ofdm::fft_plan::direction::forward);
  std::vector<cf32> pilot(static_cast<std::size_t>(antennas * n.fft_size));
  for (int a = 0; a < antennas; ++a) {
    const cf32* src = buf.rows[static_cast<std::size_t>(a)].data() + n.symbol_length() + n.cp_length;
    std::copy(src, src + n.fft_size, fft.input().begin());
    fft.execute();
    std::copy(fft.output().begin(), fft.output().end(), pilot.begin() + a * n.fft_size);
  }
  return pilot;
}

receiver_config small_config(int antennas, int users, modem::modulation m) {
  return test_support::two_chain_config(antennas, users, m, 11);
}

/// Streams `frames` emulated frames into the receiver in chunks of `chunk` samples.
void stream(ofdm::uplink_emulator& em, receiver& rx, int frames, std::size_t chunk = 3000,
            std::uint64_t first_index = 0) {
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(em.antennas(), len);
  for (int f = 0; f < frames; ++f) {
    em.generate(buf.pointers(), first_index + static_cast<std::uint64_t>(f));
    for (std::size_t at = 0; at < static_cast<std::size_t>(len); at += chunk) {
      const std::size_t n = std::min(chunk, static_cast<std::size_t>(len) - at);
      std::vector<const cf32*> p;
      for (auto& r : buf.rows) p.push_back(r.data() + at);
      rx.push(p, n);
    }
  }
}

TEST(Receiver, FlatChannelHighSnrDecodesEveryFrameWithoutErrors) {
  auto cfg = small_config(8, 2, modem::modulation::qam16);
  receiver rx(cfg);
  fixed_channel ch(8, 2, {0});
  randomise(ch, 1, {1.0});
  ofdm::uplink_emulator em(rx.layout(), ch, 40.0, cfg.seed);
  stream(em, rx, 5);
  const auto& s = rx.stats();
  EXPECT_EQ(s.acquisitions, 1U);
  // The last frame waits for 2 samples of the next one (tracking window) before it is done.
  EXPECT_EQ(s.frames, 4U);
  EXPECT_EQ(s.last_frame_index, 3U);
  for (const auto& c : s.chains) {
    EXPECT_EQ(c.bit_errors, 0U) << c.label;
    EXPECT_EQ(c.bits, 4U * 2U * rx.layout().bits_per_user());
    EXPECT_LT(c.user_evm(0), 0.05) << c.label;
  }
  // Noise estimate from the guard bins: N0 = 1e-4 (measured within a few per cent).
  EXPECT_NEAR(s.noise_variance, 1e-4, 1e-5);
}

TEST(Receiver, MultipathWithinCpAndTimingOffsetsDecodeWithoutErrors) {
  auto cfg = small_config(8, 4, modem::modulation::qpsk);
  cfg.estimation_smoothing = 0;
  receiver rx(cfg);
  fixed_channel ch(8, 4, {0, 2, 5});
  randomise(ch, 2, {0.6, 0.3, 0.1});
  ofdm::uplink_emulator em(rx.layout(), ch, 35.0, cfg.seed, {{}, {0.0, 1.5, 3.0, 0.25}});
  stream(em, rx, 4);
  EXPECT_EQ(rx.stats().frames, 3U);
  for (const auto& c : rx.stats().chains) EXPECT_EQ(c.bit_errors, 0U) << c.label;
}

TEST(Receiver, AcquiresMidStreamAndFindsTheFrameIndex) {
  auto cfg = small_config(4, 2, modem::modulation::qpsk);
  receiver rx(cfg);
  fixed_channel ch(4, 2, {0});
  randomise(ch, 3, {1.0});
  ofdm::uplink_emulator em(rx.layout(), ch, 30.0, cfg.seed);
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(4, len);
  // Start in the middle of frame 5 (frames 0–4 never reach the receiver).
  for (std::uint64_t f = 0; f < 5; ++f) em.generate(buf.pointers(), f);
  em.generate(buf.pointers(), 5);
  std::vector<const cf32*> p;
  for (auto& r : buf.rows) p.push_back(r.data() + 1234);
  rx.push(p, static_cast<std::size_t>(len - 1234));
  stream(em, rx, 4, 4096, 6);
  const auto& s = rx.stats();
  EXPECT_EQ(s.acquisitions, 1U);
  EXPECT_EQ(s.frames, 3U);
  EXPECT_EQ(s.last_frame_index, 8U);
  EXPECT_EQ(s.chains[0].bit_errors, 0U);
  EXPECT_GT(s.discarded_samples, 0U);
}

TEST(Receiver, NanSamplesDropTheirFrameOnlyAndAreCounted) {
  auto cfg = small_config(4, 2, modem::modulation::qpsk);
  receiver rx(cfg);
  fixed_channel ch(4, 2, {0});
  randomise(ch, 4, {1.0});
  ofdm::uplink_emulator em(rx.layout(), ch, 30.0, cfg.seed);
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(4, len);
  for (std::uint64_t f = 0; f < 6; ++f) {
    em.generate(buf.pointers(), f);
    if (f == 2) {
      buf.rows[1][3000] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
      buf.rows[3][3001] = cf32(0.0F, std::numeric_limits<float>::infinity());
    }
    std::vector<const cf32*> p;
    for (auto& r : buf.rows) p.push_back(r.data());
    rx.push(p, static_cast<std::size_t>(len));
  }
  const auto& s = rx.stats();
  EXPECT_EQ(s.nonfinite_samples, 2U);
  EXPECT_EQ(s.nonfinite_frames, 1U);
  EXPECT_EQ(s.frames, 4U);  // frames 0, 1, 3, 4 (5 waits for the tracking window)
  EXPECT_EQ(s.missed_frames, 0U);
  EXPECT_EQ(s.chains[0].bit_errors, 0U);
}

TEST(Receiver, LostSamplesLoseLockThenReacquireAndCountMissedFrames) {
  auto cfg = small_config(4, 2, modem::modulation::qpsk);
  receiver rx(cfg);
  fixed_channel ch(4, 2, {0});
  randomise(ch, 5, {1.0});
  ofdm::uplink_emulator em(rx.layout(), ch, 30.0, cfg.seed);
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(4, len);
  for (std::uint64_t f = 0; f < 8; ++f) {
    em.generate(buf.pointers(), f);
    std::size_t from = 0;
    std::size_t count = static_cast<std::size_t>(len);
    if (f == 3) count = 2000;  // most of frame 3 lost in transport
    if (f == 4) continue;      // frame 4 lost entirely
    std::vector<const cf32*> p;
    for (auto& r : buf.rows) p.push_back(r.data() + from);
    rx.push(p, count);
  }
  const auto& s = rx.stats();
  EXPECT_GE(s.sync_losses, 1U);
  EXPECT_EQ(s.acquisitions, 2U);
  EXPECT_EQ(s.last_frame_index, 6U);
  EXPECT_EQ(s.missed_frames, 2U);  // 3 and 4
  EXPECT_EQ(s.chains[0].bit_errors, 0U);
}

// Thread counts 1, 2, 3 and 5 (with frames overlapped from 2 up: receiver.h); the same
// against the unpipelined path in test_receiver_pipeline.cpp, LLRs included.
TEST(Receiver, ResultsDoNotDependOnThreadCount) {
  constexpr int kRuns = 4;
  std::uint64_t errors[kRuns] = {};
  double evm[kRuns] = {};
  solver::solver_stats accounting[kRuns];
  const int thread_counts[kRuns] = {1, 2, 3, 5};
  for (int t = 0; t < kRuns; ++t) {
    auto cfg = small_config(8, 4, modem::modulation::qam16);
    cfg.threads = thread_counts[t];
    cfg.chains = {{detect::detector_kind::zf, {"analog", {{"profile", "paper-board"}, {"iters", "2"}}}, {}}};
    receiver rx(cfg);
    fixed_channel ch(8, 4, {0, 3});
    randomise(ch, 6, {0.8, 0.2});
    ofdm::uplink_emulator em(rx.layout(), ch, 14.0, cfg.seed);
    stream(em, rx, 4);
    errors[t] = rx.stats().chains[0].bit_errors;
    evm[t] = rx.stats().chains[0].user_evm(1);
    accounting[t] = rx.stats().chains[0].solver;
  }
  EXPECT_GT(errors[0], 0U);
  EXPECT_GT(accounting[0].solves, 0U);
  for (int t = 1; t < kRuns; ++t) {
    SCOPED_TRACE(thread_counts[t]);
    EXPECT_EQ(errors[0], errors[t]);
    EXPECT_EQ(evm[0], evm[t]);
    // Floating-point accounting is added per frame in block order, not per worker: equal
    // to the last bit whatever thread ran which block.
    EXPECT_EQ(accounting[0].solves, accounting[t].solves);
    EXPECT_EQ(accounting[0].iterations, accounting[t].iterations);
    EXPECT_EQ(accounting[0].modelled_matrix_joules, accounting[t].modelled_matrix_joules);
    EXPECT_EQ(accounting[0].modelled_solve_joules, accounting[t].modelled_solve_joules);
    EXPECT_EQ(accounting[0].modelled_solve_seconds, accounting[t].modelled_solve_seconds);
    EXPECT_EQ(accounting[0].residual_sum, accounting[t].residual_sum);
  }
}

// A digital chain's blocks (bounds rounded to 16 subcarriers for full SIMD groups, empty
// blocks when there are more blocks than groups) must cover every subcarrier exactly once:
// the split changes which subcarriers share a group, never a result.
TEST(Receiver, DigitalChainResultsDoNotDependOnTheSubcarrierSplit) {
  const int splits[] = {1, 7, 12, 40, 300};
  double energy[std::size(splits)] = {};
  std::uint64_t bits[std::size(splits)] = {};
  for (std::size_t i = 0; i < std::size(splits); ++i) {
    auto cfg = small_config(8, 4, modem::modulation::qam16);
    cfg.threads = 2;
    cfg.subcarrier_blocks = splits[i];
    cfg.chains = {{detect::detector_kind::mmse, {"digital-f32", {}}, {}}};
    receiver rx(cfg);
    fixed_channel ch(8, 4, {0, 3});
    randomise(ch, 6, {0.8, 0.2});
    ofdm::uplink_emulator em(rx.layout(), ch, 14.0, cfg.seed);
    stream(em, rx, 4);
    const auto& chain = rx.stats().chains[0];
    for (int k = 0; k < 4; ++k) energy[i] += chain.user_error_energy[static_cast<std::size_t>(k)];
    bits[i] = chain.bits;
    EXPECT_EQ(chain.erased_bits, 0U) << splits[i];
  }
  EXPECT_GT(bits[0], 0U);
  EXPECT_GT(energy[0], 0.0);
  for (std::size_t i = 1; i < std::size(splits); ++i) {
    EXPECT_EQ(bits[i], bits[0]) << splits[i];
    EXPECT_EQ(energy[i], energy[0]) << splits[i];
  }
}

TEST(ChannelEstimator, WholeBandAveragingNoiseMatchesClosedForm) {
  // Flat channel, LS per pilot has error variance N0/|p|² = N0/K; averaging all P pilots of
  // a user divides it by P.
  ofdm::numerology n;
  const int users = 4;
  const ofdm::frame_layout layout(n, users, modem::modulation::qpsk);
  fixed_channel ch(6, users, {0});
  randomise(ch, 7, {1.0});
  const double snr_db = 0.0;
  ofdm::uplink_emulator em(layout, ch, snr_db, 3);
  channel_estimator est(layout, 6, -1);
  frame_buffer buf(6, n.frame_length());
  double mse = 0.0;
  const int trials = 40;
  for (int t = 0; t < trials; ++t) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(t));
    const std::vector<cf32> pilot = pilot_symbol_fft(buf, n, 6);
    const cf32* ptrs[] = {pilot.data()};
    est.estimate(ptrs);
    mse += (est.response(10).cast<cf64>() - ch.gains[0]).squaredNorm() / (6.0 * users);
  }
  mse /= trials;
  const double expected = 1.0 / users / (n.used_subcarriers / users);
  EXPECT_NEAR(mse, expected, 0.25 * expected);
}

TEST(ChannelEstimator, AutoSmoothingFollowsThePilotSpacing) {
  const auto spacing_of = [](const char* name) {
    const auto& p = ofdm::find_preset(name);
    return auto_smoothing(p.layout, p.users);
  };
  EXPECT_EQ(spacing_of("16x4"), 2);   // pilots 4 subcarriers (60 kHz) apart
  EXPECT_EQ(spacing_of("32x8"), 1);   // 120 kHz
  EXPECT_EQ(spacing_of("64x16"), 0);  // 240 kHz
  ofdm::numerology four_pilots;
  four_pilots.pilot_symbols = 4;      // 16 users on 4 pilot symbols: 4 subcarriers apart
  EXPECT_EQ(auto_smoothing(four_pilots, 16), 2);
  receiver_config c;
  EXPECT_EQ(c.estimation_smoothing, receiver_config::kAutoSmoothing);
  c.users = 16;
  EXPECT_EQ(resolved_smoothing(c), 0);
  c.estimation_smoothing = 3;
  EXPECT_EQ(resolved_smoothing(c), 3);
}

// A delay is a phase slope across the band. Where the band clips a pilot's smoothing window
// the one-sided mean used to turn it into a bias, and the subcarriers beyond the outermost
// pilots were held flat: noise-free, one path 4 samples late, |Ĥ/H − 1| reached 0.34 at the
// last subcarrier with ±2-pilot smoothing and 0.15 with none (interior: 0.04 and 0.005). Now
// the clipped windows take a least-squares line and the ends are extrapolated.
TEST(ChannelEstimator, BandEdgesFollowADelaysPhaseSlope) {
  ofdm::numerology n;
  const int users = 4;
  const int antennas = 4;
  const ofdm::frame_layout layout(n, users, modem::modulation::qam16);
  fixed_channel ch(antennas, users, {4.0});
  randomise(ch, 5, {1.0});
  ofdm::uplink_emulator em(layout, ch, 300.0, 1);
  frame_buffer buf(antennas, n.frame_length());
  em.generate(buf.pointers(), 0);
  const std::vector<cf32> pilot = pilot_symbol_fft(buf, n, antennas);
  const cf32* ptrs[] = {pilot.data()};
  for (const auto& [smoothing, bound] : {std::pair{0, 0.03}, std::pair{2, 0.06}}) {
    channel_estimator est(layout, antennas, smoothing);
    est.estimate(ptrs);
    double worst = 0.0;
    int worst_u = -1;
    for (int u = 0; u < n.used_subcarriers; ++u) {
      const auto h = est.response(u).cast<cf64>();
      const cmat truth = em.last_response(u);
      for (int k = 0; k < users; ++k) {
        for (int a = 0; a < antennas; ++a) {
          const double e = std::abs(h(a, k) / truth(a, k) - 1.0);
          if (e > worst) {
            worst = e;
            worst_u = u;
          }
        }
      }
    }
    EXPECT_LT(worst, bound) << "smoothing " << smoothing << ": worst at subcarrier " << worst_u;
  }
}

TEST(ChannelEstimator, AutoSmoothingKeepsTheFrequencyBiasSmallAtSixteenUsers) {
  // Noise-free two-path channel (0 and 2 samples = 260 ns), 16 users: pilots of a user are
  // 16 subcarriers apart. The estimate is compared with the true H(f) = Σ G_l e^{−j2π b d_l/N}
  // on every used subcarrier. Averaging ±2 pilots (±480 kHz, the old fixed default) turns
  // the 2-sample path's phase by ±0.79 rad inside the window (0.39 rad per pilot): a bias
  // (measured −15.7 dB) far above the interpolation error the automatic choice (no
  // averaging) leaves (−29.7 dB).
  ofdm::numerology n;
  const int users = 16;
  const int antennas = 2;
  const ofdm::frame_layout layout(n, users, modem::modulation::qpsk);
  fixed_channel ch(antennas, users, {0.0, 2.0});
  randomise(ch, 8, {0.5, 0.5});
  ofdm::uplink_emulator em(layout, ch, 300.0, 5);
  frame_buffer buf(antennas, n.frame_length());
  em.generate(buf.pointers(), 0);
  const std::vector<cf32> pilot = pilot_symbol_fft(buf, n, antennas);
  const cf32* ptrs[] = {pilot.data()};
  const auto relative_error = [&](int smoothing) {
    channel_estimator est(layout, antennas, smoothing);
    est.estimate(ptrs);
    double err = 0.0;
    double power = 0.0;
    for (int u = 0; u < n.used_subcarriers; ++u) {
      cmat truth = cmat::Zero(antennas, users);
      for (std::size_t l = 0; l < ch.gains.size(); ++l) {
        const double phase = -2.0 * std::numbers::pi * n.bin_of(u) * ch.tap_delays()[l] / n.fft_size;
        truth += ch.gains[l] * std::polar(1.0, phase);
      }
      err += (est.response(u).cast<cf64>() - truth).squaredNorm();
      power += truth.squaredNorm();
    }
    // The Es/N0 numerator the estimator sums while writing: the mean |Ĥ|² per entry over
    // subcarriers 0, 4, 8, … of the estimate as stored.
    double sampled = 0.0;
    std::size_t entries = 0;
    for (int u = 0; u < n.used_subcarriers; u += 4) {
      sampled += est.response(u).cast<cf64>().squaredNorm();
      entries += static_cast<std::size_t>(antennas * users);
    }
    sampled /= static_cast<double>(entries);
    EXPECT_NEAR(est.channel_power(), sampled, 1e-12 * sampled);
    // Unbiased estimates (no averaging across the turning phase): close to the true power.
    if (smoothing == 0) {
      EXPECT_NEAR(est.channel_power(), power / (antennas * users * n.used_subcarriers), 0.05 * sampled);
    }
    return err / power;
  };
  const double automatic = relative_error(auto_smoothing(n, users));
  const double fixed_two = relative_error(2);
  EXPECT_LT(automatic, 3e-3) << fixed_two;  // linear interpolation over 240 kHz: below −25 dB
  EXPECT_GT(fixed_two, 1e-2) << automatic;  // the old default's bias: above −20 dB
  EXPECT_GT(fixed_two, 10.0 * automatic);
}

TEST(Receiver, BadConfigurationIsRefused) {
  auto cfg = small_config(2, 4, modem::modulation::qpsk);  // ZF with K > N
  EXPECT_THROW(receiver{cfg}, config_error);
  cfg = small_config(4, 2, modem::modulation::qpsk);
  cfg.chains[0].solver.name = "no-such-backend";
  EXPECT_THROW(receiver{cfg}, config_error);
  cfg = small_config(4, 2, modem::modulation::qpsk);
  cfg.fft_backoff = 99;
  EXPECT_THROW(receiver{cfg}, config_error);
  for (const int blocks : {-1, cfg.layout.used_subcarriers + 1}) {
    cfg = small_config(4, 2, modem::modulation::qpsk);
    cfg.remote_subcarrier_blocks = blocks;
    EXPECT_THROW(receiver{cfg}, config_error) << blocks;
  }
}

}  // namespace
}  // namespace amimo::pipeline
