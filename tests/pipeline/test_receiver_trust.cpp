// The streaming receiver is never silently wrong: channels out of step are realigned and
// counted, the Es/N0 estimate holds behind a gain, and the scoring rule (hard decisions,
// erasures never scored, LLR quality separately) holds across detectors, modes, backends
// and Es/N0 from −5 to 80 dB.
#include <amimo/metrics/error_stats.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::play;
using test_support::randomise;
using test_support::recording;

receiver_config config_for(int antennas, int users, modem::modulation m) {
  return test_support::two_chain_config(antennas, users, m, 23);
}

TEST(ReceiverAlignment, ChannelSkewedByWholeMessagesIsRealignedAndCounted) {
  // Whole messages, and skews the CP does not absorb (the FFT window starts fft_backoff = 4
  // samples inside the 36-sample CP: 34 late or 12 early would take another symbol's samples).
  for (const int skew : {1024, -1024, 3000, 34, -12}) {
    auto cfg = config_for(8, 2, modem::modulation::qam16);
    receiver reference(cfg);
    receiver rx(cfg);
    fixed_channel ch(8, 2, {0, 2});
    randomise(ch, 3, {0.8, 0.2});
    const int len = rx.layout().layout().frame_length();
    ofdm::uplink_emulator em(rx.layout(), ch, 30.0, cfg.seed);
    auto rows = recording(em, len, 8);
    play(reference, rows, rows[0].size());
    // Antenna 5 is late by `skew` samples (early when negative): as a PUB/SUB channel that
    // joined late, or a sender whose sockets started at different times.
    auto skewed = rows;
    auto& r5 = skewed[5];
    if (skew > 0) r5.insert(r5.begin(), static_cast<std::size_t>(skew), cf32{});
    else r5.erase(r5.begin(), r5.begin() + (-skew));
    const std::size_t common = rows[0].size() - static_cast<std::size_t>(std::abs(skew));
    play(rx, skewed, common);
    const auto& s = rx.stats();
    EXPECT_EQ(s.misaligned_channels, 1U) << skew << ": unaligned " << s.unaligned_frames << ", sync losses "
                                         << s.sync_losses << ", frames " << s.frames << ", discarded "
                                         << s.discarded_samples;
    EXPECT_EQ(s.acquisitions, 1U) << skew << ": unaligned " << s.unaligned_frames << ", sync losses " << s.sync_losses << ", frames " << s.frames;
    EXPECT_GE(s.frames + 1, reference.stats().frames - 1) << skew;  // at most the cut-off tail lost
    EXPECT_GE(s.frames, 5U) << skew;
    for (std::size_t i = 0; i < s.chains.size(); ++i) {
      const auto& c = s.chains[i];
      EXPECT_EQ(c.bit_errors, 0U) << c.label << " skew " << skew;
      EXPECT_EQ(c.erased_bits, 0U);
      // Aligned, the samples are the reference's: as clean (no other symbol's samples).
      EXPECT_LT(c.evm(), 1.1 * reference.stats().chains[i].evm()) << c.label << " skew " << skew;
    }
    EXPECT_EQ(reference.stats().misaligned_channels, 0U);
  }
}

TEST(ReceiverAlignment, SkewAppearingMidStreamDropsThatFrameOnlyAndRealigns) {
  auto cfg = config_for(8, 2, modem::modulation::qpsk);
  receiver rx(cfg);
  fixed_channel ch(8, 2, {0});
  randomise(ch, 4, {1.0});
  const int len = rx.layout().layout().frame_length();
  ofdm::uplink_emulator em(rx.layout(), ch, 25.0, cfg.seed);
  auto rows = recording(em, len, 9);
  // 1500 samples of antenna 2 lost in the middle of frame 3 (a channel's message dropped).
  auto& r2 = rows[2];
  const auto cut = static_cast<std::ptrdiff_t>(3 * len + len / 2);
  r2.erase(r2.begin() + cut, r2.begin() + cut + 1500);
  play(rx, rows, r2.size());
  const auto& s = rx.stats();
  EXPECT_EQ(s.misaligned_channels, 1U);
  EXPECT_EQ(s.unaligned_frames, 1U);  // frame 3 is never decoded
  EXPECT_EQ(s.frames, 7U);            // 0, 1, 2, 4, 5, 6, 7 (8 waits for the next preamble)
  EXPECT_EQ(s.last_frame_index, 7U);
  EXPECT_EQ(s.chains[0].bit_errors, 0U);
  EXPECT_EQ(s.chains[1].bit_errors, 0U);
}

TEST(ReceiverAlignment, FadedAntennasAndMultipathInsideTheCpAreNotMisalignment) {
  auto cfg = config_for(16, 4, modem::modulation::qpsk);
  receiver rx(cfg);
  fixed_channel ch(16, 4, {0, 1, 2, 4, 7});
  randomise(ch, 9, {0.1, 0.4, 0.2, 0.2, 0.1});
  const int len = rx.layout().layout().frame_length();
  for (const double snr : {-5.0, 20.0}) {
    ofdm::uplink_emulator em(rx.layout(), ch, snr, cfg.seed);
    auto rows = recording(em, len, 4);
    play(rx, rows, rows[0].size());
  }
  EXPECT_EQ(rx.stats().misaligned_channels, 0U);
  EXPECT_EQ(rx.stats().unaligned_frames, 0U);
}

TEST(ReceiverNoise, EsN0EstimateHoldsBehindAReceiveGain) {
  for (const float gain : {1.0F, 1000.0F, 1e-3F}) {
    auto cfg = config_for(8, 2, modem::modulation::qpsk);
    receiver rx(cfg);
    fixed_channel ch(8, 2, {0});
    rng gen(5);
    gen.fill_complex_normal(ch.gains[0], 1.0);
    const int len = rx.layout().layout().frame_length();
    ofdm::uplink_emulator em(rx.layout(), ch, 15.0, cfg.seed);
    auto rows = recording(em, len, 4, gain);
    play(rx, rows, rows[0].size());
    // The true Es/N0 with this particular channel: mean |H|² over N0.
    const double truth_db = 15.0 + 10.0 * std::log10(ch.gains[0].squaredNorm() / 16.0);
    EXPECT_NEAR(10.0 * std::log10(rx.stats().snr_estimate), truth_db, 0.5) << gain;
    EXPECT_NEAR(rx.stats().noise_variance, std::pow(10.0, -1.5) * gain * gain, 0.1 * std::pow(10.0, -1.5) * gain * gain);
  }
}

}  // namespace
}  // namespace amimo::pipeline
