// Pilot groups spread through the frame (numerology::additional_pilots) and the channel per
// data symbol the estimator gives the equaliser chains (time_interpolation hold | linear):
// positions against hand-worked layouts, exact recovery of a channel linear in time, the
// chain detecting each time segment with its own channel (against linear_detector called
// directly with the blend worked out by hand), and the transmitter and receiver agreeing
// on the positions end to end.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/channel_estimator.h>
#include <amimo/pipeline/equaliser_chain.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace amimo::pipeline {
namespace {

ofdm::numerology small_numerology(int pilot_symbols, int data_symbols, int additional) {
  ofdm::numerology n;
  n.fft_size = 64;
  n.cp_length = 8;
  n.used_subcarriers = 36;
  n.sample_rate = 0.96e6;
  n.pilot_symbols = pilot_symbols;
  n.data_symbols = data_symbols;
  n.additional_pilots = additional;
  return n;
}

// Hand-worked (numerology.h): group g before data symbol round(g·D / (G + ½)).
TEST(PilotLayout, PositionsOfTheGroupsAndDataSymbols) {
  ofdm::numerology n;  // 12 data symbols, 1 pilot symbol per group
  EXPECT_EQ(n.symbols_per_frame(), 14);
  EXPECT_EQ(n.pilot_symbol_index(0), 1);
  EXPECT_EQ(n.data_symbol_index(0), 2);
  EXPECT_EQ(n.data_symbol_index(11), 13);

  n.additional_pilots = 1;  // before data symbol 8: frame 0 P D0..D7 P D8..D11
  EXPECT_EQ(n.symbols_per_frame(), 15);
  EXPECT_EQ(n.pilot_symbol_index(1), 10);
  EXPECT_EQ(n.data_symbol_index(7), 9);
  EXPECT_EQ(n.data_symbol_index(8), 11);
  EXPECT_EQ(n.data_symbol_index(11), 14);

  n.additional_pilots = 2;  // before data symbols 5 and 10, groups of two symbols
  n.pilot_symbols = 2;
  EXPECT_EQ(n.symbols_per_frame(), 19);
  const int pilots[] = {1, 2, 8, 9, 15, 16};
  for (int p = 0; p < 6; ++p) EXPECT_EQ(n.pilot_symbol_index(p), pilots[p]) << p;
  const int data[] = {3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 17, 18};
  for (int d = 0; d < 12; ++d) EXPECT_EQ(n.data_symbol_index(d), data[d]) << d;
  EXPECT_NO_THROW(ofdm::validate(n));

  n.data_symbols = 2;  // two additional groups need at least three data symbols
  EXPECT_THROW(ofdm::validate(n), config_error);
  n.data_symbols = 12;
  n.additional_pilots = 9;
  EXPECT_THROW(ofdm::validate(n), config_error);
  n.additional_pilots = -1;
  EXPECT_THROW(ofdm::validate(n), config_error);
}

// 5 data symbols, one additional group: frame 0 P D0 D1 D2 P D3 D4, groups dated 1 and 5.
TEST(PilotLayout, TimeSegmentsHoldAndLinear) {
  const auto n = small_numerology(1, 5, 1);
  const auto linear = time_segments(n, time_interpolation::linear);
  // Linear: (t − 1)/4 of the second group between them, flat after the second.
  ASSERT_EQ(linear.size(), 4U);
  const double weights[] = {0.25, 0.5, 0.75};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(linear[static_cast<std::size_t>(i)].first_data, i);
    EXPECT_EQ(linear[static_cast<std::size_t>(i)].data_count, 1);
    EXPECT_EQ(linear[static_cast<std::size_t>(i)].group_before, 0);
    EXPECT_EQ(linear[static_cast<std::size_t>(i)].group_after, 1);
    EXPECT_DOUBLE_EQ(linear[static_cast<std::size_t>(i)].weight_after, weights[i]);
  }
  EXPECT_EQ(linear[3].first_data, 3);
  EXPECT_EQ(linear[3].data_count, 2);
  EXPECT_EQ(linear[3].group_before, 1);
  EXPECT_EQ(linear[3].weight_after, 0.0);
  // Hold: nearest group (D1 at 3 is a tie: the earlier); split at the pilot group.
  const auto hold = time_segments(n, time_interpolation::hold);
  ASSERT_EQ(hold.size(), 3U);
  const int first[] = {0, 2, 3}, count[] = {2, 1, 2}, group[] = {0, 1, 1};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(hold[i].first_data, first[i]);
    EXPECT_EQ(hold[i].data_count, count[i]);
    EXPECT_EQ(hold[i].group_before, group[i]);
    EXPECT_EQ(hold[i].weight_after, 0.0);
  }
  // Front-only layout: one segment, the front estimate, whatever the interpolation.
  for (const auto t : {time_interpolation::hold, time_interpolation::linear}) {
    const auto front = time_segments(small_numerology(2, 5, 0), t);
    ASSERT_EQ(front.size(), 1U);
    EXPECT_EQ(front[0].data_count, 5);
    EXPECT_EQ(front[0].group_before, 0);
    EXPECT_EQ(front[0].weight_after, 0.0);
  }
  EXPECT_THROW(parse_time_interpolation("cubic"), config_error);
}

// A noise-free channel flat in frequency and linear in time, H(t) = H0 + t·H1 (t in
// symbols), seen on the pilots of three groups (frame symbols 1, 7, 13 of 16; data on 2–6,
// 8–12, 14–15): linear interpolation recovers H(t) at every data symbol between groups to
// rounding and holds H(13) after the last; hold gives H at the nearest group.
TEST(ChannelEstimatorTime, LinearInTimeChannelRecoveredBetweenGroups) {
  const auto n = small_numerology(1, 12, 2);
  const int antennas = 3;
  const int users = 2;
  const ofdm::frame_layout layout(n, users, modem::modulation::qpsk);
  rng gen(21);
  cmat h0(antennas, users), h1(antennas, users);
  for (auto* m : {&h0, &h1})
    for (Eigen::Index i = 0; i < m->size(); ++i) m->data()[i] = gen.complex_normal();
  const auto truth = [&](int t) -> cmat { return h0 + static_cast<double>(t) * h1; };
  const int group_at[] = {1, 7, 13};
  const int data_at[] = {2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15};

  const auto fft = static_cast<std::size_t>(n.fft_size);
  std::vector<std::vector<cf32>> pilots(3, std::vector<cf32>(antennas * fft));
  std::vector<const cf32*> ptrs;
  for (int g = 0; g < 3; ++g) {
    const cmat h = truth(group_at[g]);
    for (int u = 0; u < n.used_subcarriers; ++u) {
      const int k = layout.pilot_user(0, u);
      for (int a = 0; a < antennas; ++a)
        pilots[static_cast<std::size_t>(g)][static_cast<std::size_t>(a) * fft + static_cast<std::size_t>(n.fft_index_of(u))] =
            cf32(h(a, k) * layout.pilot(u));
    }
    ptrs.push_back(pilots[static_cast<std::size_t>(g)].data());
  }

  for (const auto t : {time_interpolation::linear, time_interpolation::hold}) {
    channel_estimator est(layout, antennas, 0, t);
    est.estimate(ptrs);
    int checked = 0;
    for (const auto& seg : est.segments()) {
      for (int d = seg.first_data; d < seg.first_data + seg.data_count; ++d) {
        const int at = data_at[d];
        int expected_time = at;  // linear, between groups: the channel itself
        if (t == time_interpolation::linear && at > 13) expected_time = 13;
        if (t == time_interpolation::hold) {
          expected_time = group_at[0];
          for (const int g : group_at)
            if (std::abs(at - g) < std::abs(at - expected_time)) expected_time = g;
        }
        const cmat expected = truth(expected_time);
        for (int u = 0; u < n.used_subcarriers; ++u) {
          const cmat got = (1.0 - seg.weight_after) * est.response(u, seg.group_before).cast<cf64>() +
                           seg.weight_after * est.response(u, seg.group_after).cast<cf64>();
          ASSERT_LT((got - expected).norm(), 1e-5 * expected.norm())
              << to_string(t) << ", data symbol " << d << ", subcarrier " << u;
        }
        // The step error hold makes (and linear after the last group) is really there.
        if (expected_time != at) {
          EXPECT_GT((expected - truth(at)).norm(), 0.5 * h1.norm());
        }
        ++checked;
      }
    }
    EXPECT_EQ(checked, n.data_symbols) << to_string(t);
  }
}

// The chain detects each time segment with its segment's channel: against linear_detector
// called directly, segment by segment, with the blend (1 − w)·Ĥ0 + w·Ĥ1 worked out by hand
// (weights 0.25, 0.5, 0.75, then group 1 held; data on frame symbols 2, 3, 4, 6, 7).
TEST(EqualiserChainTime, EachSegmentDetectedWithItsOwnChannel) {
  const auto n = small_numerology(1, 5, 1);
  const int antennas = 4;
  const int users = 2;
  const auto fft = static_cast<std::size_t>(n.fft_size);
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const std::size_t per_user = 5 * used;
  const auto block = static_cast<std::size_t>(antennas * users);
  const double n0 = 0.05;
  rng gen(12);
  std::vector<cf32> grid(static_cast<std::size_t>(n.symbols_per_frame()) * antennas * fft);
  for (auto& v : grid) v = cf32(gen.complex_normal());
  std::vector<cf32> estimates(2 * used * block);
  for (auto& v : estimates) v = cf32(gen.complex_normal());
  const std::vector<cf64> estimates_f64(estimates.begin(), estimates.end());
  const auto segments = time_segments(n, time_interpolation::linear);
  struct hand_segment {
    int first, count;
    double w0, w1;
  };
  const hand_segment hand[] = {{0, 1, 0.75, 0.25}, {1, 1, 0.5, 0.5}, {2, 1, 0.25, 0.75}, {3, 2, 0.0, 1.0}};
  const int data_at[] = {2, 3, 4, 6, 7};
  const std::size_t ranges[][2] = {{0, 10}, {10, 36}};
  const std::uint64_t seeds[] = {derive_seed(6, {1}), derive_seed(6, {2})};

  for (const auto mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    for (const char* backend : {"digital-f64", "analog"}) {
      chain_spec spec;
      spec.solver.name = backend;
      const std::uint64_t build_seed = derive_seed(6, {0});
      equaliser_chain chain(spec, n, antennas, users, mode, 2, 26, build_seed);
      std::vector<cf64> eq(users * per_user);
      std::vector<double> var(users * per_user);
      const equaliser_input in{grid.data(), estimates, n0, segments};
      std::uint64_t matrices = 0;
      for (int r = 0; r < 2; ++r) {
        matrices += chain.run(r, in, ranges[r][0], ranges[r][1], seeds[r], {eq, var}).accounting.matrices;
      }

      auto solver = solver::create_linear_solver(spec.solver, users, build_seed);
      detect::linear_detector det(spec.detector, mode, *solver, antennas, users, 5);
      std::vector<cf64> ref(users * per_user);
      std::vector<double> ref_var(users * per_user);
      for (int r = 0; r < 2; ++r) {
        solver->reseed(seeds[r]);
        for (const auto& seg : hand) {
          cmat y(antennas, seg.count);
          cmat s(users, seg.count);
          for (std::size_t u = ranges[r][0]; u < ranges[r][1]; ++u) {
            const auto bin = static_cast<std::size_t>(n.fft_index_of(static_cast<int>(u)));
            for (int d = 0; d < seg.count; ++d)
              for (int a = 0; a < antennas; ++a)
                y(a, d) = cf64(grid[(static_cast<std::size_t>(data_at[seg.first + d] * antennas + a)) * fft + bin]);
            // The blend as the chain stores it (cf32; blend_channels is checked against
            // the formula in double below), widened for the detector.
            std::vector<cf32> blended(block);
            blend_channels(estimates.data() + u * block, estimates.data() + (used + u) * block, seg.w1, block,
                           blended.data());
            const Eigen::Map<const cmat> g0(estimates_f64.data() + u * block, antennas, users);
            const Eigen::Map<const cmat> g1(estimates_f64.data() + (used + u) * block, antennas, users);
            const cmat exact = seg.w0 * g0 + seg.w1 * g1;
            const cmat h = Eigen::Map<const Eigen::MatrixXcf>(blended.data(), antennas, users).cast<cf64>();
            ASSERT_LE((h - exact).cwiseAbs().maxCoeff(), 1e-7 * exact.cwiseAbs().maxCoeff());
            det.set_channel(h, n0);
            ASSERT_TRUE(det.detect(s, y));
            for (std::size_t k = 0; k < static_cast<std::size_t>(users); ++k) {
              for (int d = 0; d < seg.count; ++d) {
                const std::size_t at = k * per_user + static_cast<std::size_t>(seg.first + d) * used + u;
                ref[at] = s(static_cast<Eigen::Index>(k), d);
                ref_var[at] = det.noise_variance()[k];
              }
            }
          }
        }
      }
      const std::string what = std::string(backend) + ", " + std::string(detect::to_string(mode));
      for (std::size_t i = 0; i < eq.size(); ++i) {
        if (chain.batched()) {
          ASSERT_NEAR(std::abs(eq[i] - ref[i]), 0.0, 1e-9 * (1.0 + std::abs(ref[i]))) << what << " at " << i;
          ASSERT_NEAR(var[i], ref_var[i], 1e-9 * ref_var[i]) << what << " at " << i;
        } else {
          ASSERT_EQ(eq[i], ref[i]) << what << " at " << i;
          ASSERT_EQ(var[i], ref_var[i]) << what << " at " << i;
        }
      }
      // Per-block mode: one filter per segment per subcarrier (4 segments here).
      if (mode == detect::detection_mode::per_block) {
        EXPECT_EQ(matrices, 4U * used) << what;
      }
    }
  }
}

// Transmitter and receiver agree on the spread layout: a static multipath channel at high
// SNR decodes without error, with groups of one and of two pilot symbols, hold and linear.
TEST(PilotLayout, SpreadLayoutEndToEndWithoutErrors) {
  for (const int pilot_symbols : {1, 2}) {
    for (const auto t : {time_interpolation::linear, time_interpolation::hold}) {
      auto cfg = test_support::two_chain_config(8, 4, modem::modulation::qam16, 13);
      cfg.layout.pilot_symbols = pilot_symbols;
      cfg.layout.additional_pilots = 2;
      cfg.interpolation = t;
      receiver rx(cfg);
      test_support::fixed_channel ch(8, 4, {0, 3});
      test_support::randomise(ch, 4, {0.7, 0.3});
      ofdm::uplink_emulator em(rx.layout(), ch, 40.0, cfg.seed);
      const int len = cfg.layout.frame_length();
      const auto rows = test_support::recording(em, len, 4);
      test_support::play(rx, rows, rows[0].size());
      const auto& s = rx.stats();
      EXPECT_EQ(s.frames, 3U);
      for (const auto& c : s.chains) {
        EXPECT_EQ(c.bits, 3U * 4U * rx.layout().bits_per_user()) << c.label;
        EXPECT_EQ(c.bit_errors, 0U) << c.label << ", " << pilot_symbols << " pilot symbols, " << to_string(t);
        EXPECT_LT(c.user_evm(0), 0.05) << c.label;
      }
    }
  }
}

}  // namespace
}  // namespace amimo::pipeline
