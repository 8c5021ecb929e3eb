#include <amimo/core/rng.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace amimo {
namespace {

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream) {
  rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(Rng, MatchesAnIndependentXoshiroImplementation) {
  // Expected values computed by a separate Python implementation of SplitMix64 seeding
  // (state word i = mix64(seed + (i+1)·0x9e3779b97f4a7c15)) and xoshiro256**.
  rng gen(12345);
  EXPECT_EQ(gen.next_u64(), 0x90b6115441078f2cULL);
  EXPECT_EQ(gen.next_u64(), 0x68b3f159529919abULL);
  EXPECT_EQ(gen.next_u64(), 0xbdc514bab540895bULL);
}

TEST(Rng, NormalHasUnitVarianceAndZeroMean) {
  rng gen(7);
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double v = gen.normal();
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum_sq / n - mean * mean, 1.0, 0.02);
}

TEST(Rng, FillNormalIsExactlyRepeatedNormal) {
  // Bulk draws must be the same values as one-at-a-time draws and leave the generator in
  // the same state (including a pending spare), for odd and even lengths, across runs
  // longer than the internal batch and mixed with other draws.
  rng one(5), bulk(5);
  std::vector<double> buffer;
  for (const std::size_t length : {std::size_t{1}, std::size_t{7}, std::size_t{0}, std::size_t{64},
                                   std::size_t{65}, std::size_t{3}, std::size_t{200}, std::size_t{2}}) {
    buffer.assign(length, 0.0);
    bulk.fill_normal(buffer);
    for (std::size_t i = 0; i < length; ++i) {
      const double want = one.normal();
      ASSERT_EQ(buffer[i], want) << "length " << length << " index " << i;
    }
    ASSERT_EQ(bulk.uniform(), one.uniform()) << "state after length " << length;
    ASSERT_EQ(bulk.normal(), one.normal()) << "spare after length " << length;
  }
}

TEST(Rng, ComplexNormalVarianceSplitsEquallyBetweenParts) {
  rng gen(9);
  const int n = 200000;
  double re = 0.0, im = 0.0, cross = 0.0;
  for (int i = 0; i < n; ++i) {
    const cf64 z = gen.complex_normal(2.0);
    re += z.real() * z.real();
    im += z.imag() * z.imag();
    cross += z.real() * z.imag();
  }
  EXPECT_NEAR(re / n, 1.0, 0.02);
  EXPECT_NEAR(im / n, 1.0, 0.02);
  EXPECT_NEAR(cross / n, 0.0, 0.02);
}

TEST(Rng, BitsAreBalancedAndBelowIsInRange) {
  rng gen(11);
  std::vector<bit> bits(100000);
  gen.fill_bits(bits);
  long ones = 0;
  for (const bit b : bits) {
    ASSERT_LE(b, 1);
    ones += b;
  }
  EXPECT_NEAR(static_cast<double>(ones) / 100000.0, 0.5, 0.01);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const std::uint64_t v = gen.below(7);
    ASSERT_LT(v, 7U);
    ++counts[v];
  }
  for (const int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(Rng, FillBitsIsTheWordsBitsLeastSignificantFirst) {
  // Against an independent expansion of next_u64(): bit b of word w is out[64·w + b], and a
  // tail shorter than a word takes the low bits of one more word.
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64},
                              std::size_t{200}, std::size_t{4096 + 17}}) {
    rng a(99);
    rng b(99);
    std::vector<bit> bits(n, 7);
    a.fill_bits(bits);
    for (std::size_t w = 0; 64 * w < n; ++w) {
      const std::uint64_t word = b.next_u64();
      for (std::size_t i = 64 * w; i < std::min(n, 64 * w + 64); ++i)
        ASSERT_EQ(bits[i], static_cast<bit>((word >> (i - 64 * w)) & 1U)) << "n " << n << " bit " << i;
    }
    EXPECT_EQ(a.next_u64(), b.next_u64()) << "n " << n << ": generator state after the fill";
  }
}

TEST(Rng, DerivedSeedsDependOnEveryPathElement) {
  EXPECT_EQ(derive_seed(1, {2, 3}), derive_seed(1, {2, 3}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(2, {2, 3}));
  EXPECT_NE(derive_seed(1, {0}), derive_seed(1, {0, 0}));
}

}  // namespace
}  // namespace amimo
