#include <amimo/core/rng.h>
#include <amimo/metrics/error_stats.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace amimo::metrics {
namespace {

TEST(Wilson, MatchesPublishedValues) {
  // 10 successes in 100 trials: Wilson 95% interval [0.0552, 0.1744] (Newcombe 1998).
  const interval ci = wilson_interval(10, 100);
  EXPECT_NEAR(ci.low, 0.0552, 1e-4);
  EXPECT_NEAR(ci.high, 0.1744, 1e-4);
  const interval zero = wilson_interval(0, 100);
  EXPECT_EQ(zero.low, 0.0);
  EXPECT_NEAR(zero.high, 0.0370, 1e-4);
  const interval none = wilson_interval(0, 0);
  EXPECT_EQ(none.low, 0.0);
  EXPECT_EQ(none.high, 1.0);
}

TEST(ErrorCounter, RatesAndMerge) {
  error_counter a, b;
  a.add_frame(100, 5, 50, 3);
  a.add_frame(100, 0, 50, 0);
  b.add_frame(100, 15, 50, 9);
  a.merge(b);
  EXPECT_EQ(a.frames(), 3U);
  EXPECT_EQ(a.frame_errors(), 2U);
  EXPECT_EQ(a.bits(), 300U);
  EXPECT_DOUBLE_EQ(a.ber(), 20.0 / 300.0);
  EXPECT_DOUBLE_EQ(a.ser(), 12.0 / 150.0);
  EXPECT_DOUBLE_EQ(a.fer(), 2.0 / 3.0);
}

// A frame whose every stream was erased scores no bits: it is not a frame of the estimate.
// It used to count as an error-free frame (40 scored + 40 erased: FER 0.25 → 0.125, design
// effect 31 → 15, the interval too narrow). Frames of different sizes (partial erasures)
// get the ratio estimator's variance with each frame's own size, checked here against a
// direct computation.
TEST(ErrorCounter, ErasedFramesDoNotCountAndSizesMayDiffer) {
  rng gen(3);
  error_counter scored;
  error_counter with_erased;
  std::vector<double> e;
  std::vector<double> b;
  for (int f = 0; f < 40; ++f) {
    const std::uint64_t bits = 200 + 100 * static_cast<std::uint64_t>(f % 3);
    const std::uint64_t errors = gen.uniform() < 0.25 ? static_cast<std::uint64_t>(bits / 10) : 0U;
    scored.add_frame(bits, errors, bits / 2, errors);
    with_erased.add_frame(bits, errors, bits / 2, errors);
    with_erased.add_frame(0, 0, 0, 0);
    e.push_back(static_cast<double>(errors));
    b.push_back(static_cast<double>(bits));
  }
  EXPECT_EQ(with_erased.frames(), scored.frames());
  EXPECT_EQ(with_erased.fer(), scored.fer());
  EXPECT_EQ(with_erased.design_effect(), scored.design_effect());
  double n = 0.0;
  double errors = 0.0;
  for (std::size_t f = 0; f < e.size(); ++f) {
    n += b[f];
    errors += e[f];
  }
  const double p = errors / n;
  const double frames = static_cast<double>(e.size());
  const double mean_bits = n / frames;
  double spread = 0.0;
  for (std::size_t f = 0; f < e.size(); ++f) spread += (e[f] - p * b[f]) * (e[f] - p * b[f]);
  const double between = spread / (frames * (frames - 1.0) * mean_bits * mean_bits);
  const double want = std::max(1.0, between / (p * (1.0 - p) / n));
  EXPECT_NEAR(scored.design_effect(), want, 1e-9 * want);
  EXPECT_GT(want, 5.0);
}

TEST(ErrorCounter, IndependentErrorsHaveDesignEffectNearOne) {
  rng gen(1);
  error_counter c;
  for (int f = 0; f < 2000; ++f) {
    std::uint64_t errors = 0;
    for (int i = 0; i < 100; ++i) errors += gen.uniform() < 0.05 ? 1U : 0U;
    c.add_frame(100, errors, 100, errors);
  }
  EXPECT_NEAR(c.design_effect(), 1.0, 0.1);
}

TEST(ErrorCounter, ClusteredErrorsWidenTheInterval) {
  // Whole frames fail together: the effective sample size is the frame count.
  rng gen(2);
  error_counter c;
  for (int f = 0; f < 2000; ++f) {
    const bool bad = gen.uniform() < 0.05;
    c.add_frame(100, bad ? 100 : 0, 100, bad ? 100 : 0);
  }
  EXPECT_NEAR(c.design_effect(), 100.0, 10.0);
  const interval ci = c.ber_interval();
  const interval naive = wilson_interval(static_cast<double>(c.bit_errors()), static_cast<double>(c.bits()));
  EXPECT_GT(ci.high - ci.low, 5.0 * (naive.high - naive.low));
  EXPECT_LT(ci.low, c.ber());
  EXPECT_GT(ci.high, c.ber());
}

TEST(ErrorCounter, IntervalCoversTheTruthAboutNinetyFivePercentOfTheTime) {
  rng gen(3);
  int covered = 0;
  const int experiments = 400;
  for (int e = 0; e < experiments; ++e) {
    error_counter c;
    for (int f = 0; f < 50; ++f) {
      std::uint64_t errors = 0;
      for (int i = 0; i < 200; ++i) errors += gen.uniform() < 0.01 ? 1U : 0U;
      c.add_frame(200, errors, 200, errors);
    }
    const interval ci = c.ber_interval();
    if (ci.low <= 0.01 && 0.01 <= ci.high) ++covered;
  }
  EXPECT_GT(covered, experiments * 0.91);
  EXPECT_LT(covered, experiments * 0.99);
}

}  // namespace
}  // namespace amimo::metrics
