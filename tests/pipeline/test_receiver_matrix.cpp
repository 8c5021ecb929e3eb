// The receiver-trust test matrix (Release only, label statistical: ~7 s there, far more
// under the sanitizers): every detector, detection mode and backend scored by the one rule
// from −5 to 80 dB on the streaming receiver.
#include <amimo/metrics/error_stats.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::play;
using test_support::recording;

// The test matrix of the receiver-trust issue: {zf, mmse} × {per-block, per-vector} ×
// {digital-f64, digital-f32, analog 1…4 iterations} × Es/N0 from −5 to 80 dB.
TEST(ReceiverMatrix, EveryDetectorModeAndBackendScoresHonestlyFromMinus5To80dB) {
  const std::vector<std::string> backends = {"digital-f64", "digital-f32", "analog:1", "analog:2", "analog:3", "analog:4"};
  for (const detect::detection_mode mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    receiver_config cfg;
    cfg.antennas = 16;
    cfg.users = 4;
    cfg.modulation = modem::modulation::qam16;
    cfg.threads = 2;
    cfg.seed = 23;
    cfg.mode = mode;
    cfg.chains.clear();
    for (const auto kind : {detect::detector_kind::zf, detect::detector_kind::mmse}) {
      for (const auto& b : backends) {
        chain_spec spec{kind, {b, {}}, b};
        if (b.rfind("analog:", 0) == 0) spec.solver = {"analog", {{"profile", "feedback-board"}, {"iters", b.substr(7)}}};
        cfg.chains.push_back(spec);
      }
    }
    for (const double snr : {-5.0, 5.0, 15.0, 25.0, 40.0, 60.0, 80.0}) {
      receiver rx(cfg);
      fixed_channel ch(16, 4, {0, 3});
      rng gen(40 + static_cast<std::uint64_t>(snr + 10));
      gen.fill_complex_normal(ch.gains[0], 0.7);
      gen.fill_complex_normal(ch.gains[1], 0.3);
      const int len = rx.layout().layout().frame_length();
      ofdm::uplink_emulator em(rx.layout(), ch, snr, cfg.seed);
      auto rows = recording(em, len, 3);
      play(rx, rows, rows[0].size());
      const auto& s = rx.stats();
      const std::string where = std::string(detect::to_string(mode)) + " at " + std::to_string(snr) + " dB";
      ASSERT_EQ(s.frames, 2U) << where;
      for (std::size_t d = 0; d < 2; ++d) {
        const auto* chains = &s.chains[d * backends.size()];
        const auto& f64 = chains[0];
        const auto& f32 = chains[1];
        for (std::size_t b = 0; b < backends.size(); ++b) {
          const auto& c = chains[b];
          EXPECT_EQ(c.erased_bits, 0U) << c.label << " " << where;  // nothing here is unresolvable
          EXPECT_EQ(c.bits, 2U * 4U * rx.layout().bits_per_user()) << c.label << " " << where;
          // For Gray QAM the max-log LLR's sign is the hard decision: LLR-sign errors equal the
          // hard-decision errors. An LLR of 0 on a good stream (the old cancellation) breaks it.
          // The exception is an exact tie (a sample exactly on a decision boundary, e.g. an
          // ADC-quantised analog output of 0): its LLR is exactly 0, a sign error, while the
          // hard decision there is right half the time. Ties are rare, and bounded here.
          const auto zeros = static_cast<double>(c.llr.zero_llrs());
          EXPECT_LE(zeros, 0.02 * static_cast<double>(c.bits)) << c.label << " " << where;
          const double diff = static_cast<double>(c.llr.sign_errors()) - static_cast<double>(c.bit_errors);
          const double slack = 2.0 + 1e-3 * static_cast<double>(c.bit_errors);
          EXPECT_GE(diff, -slack) << c.label << " " << where;  // ties only ever add sign errors
          EXPECT_LE(diff, zeros + slack) << c.label << " " << where;
        }
        const auto ci = metrics::wilson_interval(static_cast<double>(f64.bit_errors), static_cast<double>(f64.bits));
        EXPECT_GE(f32.ber(), ci.low - 1e-12) << f32.label << " " << where;
        EXPECT_LE(f32.ber(), ci.high + 1e-12) << f32.label << " " << where;
        if (snr >= 25.0) {
          EXPECT_EQ(f64.bit_errors, 0U) << f64.label << " " << where;
          EXPECT_EQ(f32.bit_errors, 0U) << f32.label << " " << where;
          // LLRs of a digital chain are not wildly over-confident where errors are rare.
        }
        // Analog: BER non-increasing in the iteration count, within its interval.
        for (std::size_t it = 3; it < backends.size(); ++it) {
          const auto& fewer = chains[it - 1];
          const auto& more = chains[it];
          const auto fewer_ci = metrics::wilson_interval(static_cast<double>(fewer.bit_errors), static_cast<double>(fewer.bits));
          EXPECT_LE(more.ber(), fewer_ci.high + 1e-12) << more.label << " vs " << fewer.label << " " << where;
        }
        // Three or more iterations reach the digital result within its interval.
        const auto& four = chains[5];
        EXPECT_LE(four.ber(), std::max(ci.high, 1e-4)) << four.label << " " << where;
      }
    }
  }
}

}  // namespace
}  // namespace amimo::pipeline
