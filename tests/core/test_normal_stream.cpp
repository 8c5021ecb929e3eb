#include <amimo/core/normal_stream.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <vector>

namespace amimo {
namespace {

// An independent xoshiro256** (one generator per lane) for the reference draws.
std::uint64_t xoshiro_next(std::uint64_t (&s)[4]) {
  const auto rot = [](std::uint64_t x, unsigned k) { return (x << k) | (x >> (64U - k)); };
  const std::uint64_t result = rot(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17U;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rot(s[3], 45);
  return result;
}

// The four generators' states as the stream seeds them, one independent generator per lane.
struct lanes {
  std::uint64_t s[4][4];
  std::uint64_t (&operator[](int j))[4] { return s[j]; }
};
lanes lanes_of(std::uint64_t seed) {
  std::uint64_t state[4][4];
  detail::normal_stream_seed(seed, state);
  lanes l{};
  for (int j = 0; j < 4; ++j) {
    for (int w = 0; w < 4; ++w) {
      l.s[j][w] = state[w][j];
    }
  }
  return l;
}

std::vector<double> draws(std::uint64_t seed, std::size_t n) {
  normal_stream stream(seed);
  std::vector<double> v(n);
  stream.fill(v);
  return v;
}

TEST(NormalStream, VectorisedBuildEqualsThePortableDefinitionBitForBit) {
  // Bulk fills (several blocks at a time), odd-sized fills and single draws all follow the
  // portable block definition exactly.
  std::uint64_t state[4][4];
  detail::normal_stream_seed(99, state);
  normal_stream stream(99);
  std::vector<double> got(8 * 20000);
  std::size_t at = 0;
  for (const std::size_t n : {100000UL, 3UL, 33UL, 1UL}) {
    stream.fill(std::span<double>(got.data() + at, n));
    at += n;
  }
  while (at < got.size()) {
    got[at++] = stream.next();
  }
  for (std::size_t k = 0; k < got.size() / 8; ++k) {
    double expected[normal_stream::block];
    detail::normal_block_portable(state, expected);
    for (int j = 0; j < normal_stream::block; ++j) {
      ASSERT_EQ(std::bit_cast<std::uint64_t>(got[8 * k + j]), std::bit_cast<std::uint64_t>(expected[j]))
          << "block " << k << " (vectorised build: " << normal_stream::vectorised() << ")";
    }
  }
}

TEST(NormalStream, Avx512BlocksEqualThePortableDefinitionBitForBit) {
  // Deliberately misaligned for 32-byte loads: the entry point takes any array.
  alignas(64) std::uint64_t storage[17][4];
  auto& fast_state = *reinterpret_cast<std::uint64_t(*)[4][4]>(&storage[0][1]);
  std::uint64_t state[4][4];
  detail::normal_stream_seed(7, fast_state);
  detail::normal_stream_seed(7, state);
  double got[8 * normal_stream::block];
  if (!detail::normal_blocks_avx512(fast_state, got)) {
    GTEST_SKIP() << "this CPU has no AVX-512F";
  }
  for (int run = 0; run < 5000; ++run) {
    if (run > 0) {
      ASSERT_TRUE(detail::normal_blocks_avx512(fast_state, got));
    }
    for (int k = 0; k < 8; ++k) {
      double expected[normal_stream::block];
      detail::normal_block_portable(state, expected);
      for (int j = 0; j < normal_stream::block; ++j) {
        ASSERT_EQ(std::bit_cast<std::uint64_t>(got[8 * k + j]), std::bit_cast<std::uint64_t>(expected[j]))
            << "run " << run << " block " << k << " lane " << j;
      }
    }
  }
  EXPECT_EQ(std::memcmp(fast_state, state, sizeof state), 0);
}

TEST(NormalStream, MatchesBoxMullerWithLibmOnTheSameUniforms) {
  // Draws of lane j of block k from an independent generator and libm's log, cos and sin:
  // amimo's polynomials must agree to a few ulps of the values' scale.
  lanes lane = lanes_of(2026);
  normal_stream stream(2026);
  std::vector<double> got(8 * 50000);
  stream.fill(got);
  double worst = 0.0;
  for (std::size_t k = 0; k < got.size() / 8; ++k) {
    std::uint64_t a[4];
    std::uint64_t b[4];
    for (int j = 0; j < 4; ++j) {
      a[j] = xoshiro_next(lane[j]);
    }
    for (int j = 0; j < 4; ++j) {
      b[j] = xoshiro_next(lane[j]);
    }
    for (int j = 0; j < 4; ++j) {
      // 52-bit uniforms: u1 ∈ (0, 1], u2 ∈ [0, 1).
      const double u1 = 1.0 - static_cast<double>(a[j] >> 12U) * 0x1.0p-52;
      const double u2 = static_cast<double>(b[j] >> 12U) * 0x1.0p-52;
      const double r = std::sqrt(-2.0 * std::log(u1));
      const double theta = 2.0 * std::numbers::pi * u2;
      worst = std::max(worst, std::abs(got[8 * k + j] - r * std::cos(theta)));
      worst = std::max(worst, std::abs(got[8 * k + 4 + j] - r * std::sin(theta)));
    }
  }
  EXPECT_LT(worst, 1e-14);
}

TEST(NormalStream, FillsAreContiguousAndReseedRestarts) {
  const std::vector<double> whole = draws(5, 1000);
  normal_stream stream(5);
  std::vector<double> parts(1000);
  std::size_t at = 0;
  for (const std::size_t n : {3UL, 1UL, 0UL, 8UL, 13UL, 100UL, 7UL}) {
    stream.fill(std::span<double>(parts.data() + at, n));
    at += n;
  }
  parts[at++] = stream.next();
  stream.fill(std::span<double>(parts.data() + at, parts.size() - at));
  EXPECT_EQ(parts, whole);

  stream.reseed(5);
  EXPECT_EQ(stream.next(), whole[0]);
  EXPECT_NE(draws(6, 8), std::vector<double>(whole.begin(), whole.begin() + 8));

  // Single precision: contiguous on its own, and a separate definition from the doubles.
  std::vector<float> fwhole(1000);
  normal_stream(5).fill(std::span<float>(fwhole));
  normal_stream fstream(5);
  std::vector<float> fparts(1000);
  at = 0;
  for (const std::size_t n : {5UL, 16UL, 0UL, 64UL, 1UL, 200UL, 33UL}) {
    fstream.fill(std::span<float>(fparts.data() + at, n));
    at += n;
  }
  fstream.fill(std::span<float>(fparts.data() + at, fparts.size() - at));
  EXPECT_EQ(fparts, fwhole);
  EXPECT_NE(fwhole[0], static_cast<float>(whole[0]));
}

TEST(NormalStream, SinglePrecisionEqualsItsPortableDefinitionAndLibm) {
  std::uint64_t state[4][4];
  detail::normal_stream_seed(123, state);
  lanes lane = lanes_of(123);
  normal_stream stream(123);
  std::vector<float> got(16 * 30000);
  stream.fill(std::span<float>(got.data(), 100003));
  stream.fill(std::span<float>(got.data() + 100003, got.size() - 100003));
  float worst = 0.0F;
  for (std::size_t k = 0; k < got.size() / 16; ++k) {
    float expected[normal_stream::block_f32];
    detail::normal_block_portable_f32(state, expected);
    std::uint64_t a[4];
    std::uint64_t b[4];
    for (int j = 0; j < 4; ++j) {
      a[j] = xoshiro_next(lane[j]);
    }
    for (int j = 0; j < 4; ++j) {
      b[j] = xoshiro_next(lane[j]);
    }
    for (int m = 0; m < 8; ++m) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(got[16 * k + m]), std::bit_cast<std::uint32_t>(expected[m]))
          << "block " << k;
      ASSERT_EQ(std::bit_cast<std::uint32_t>(got[16 * k + 8 + m]), std::bit_cast<std::uint32_t>(expected[8 + m]))
          << "block " << k;
      // The uniforms as the definition states them, then double-precision libm.
      const auto x = static_cast<std::uint32_t>(a[m / 2] >> (32 * (m % 2)));
      const auto y = static_cast<std::uint32_t>(b[m / 2] >> (32 * (m % 2)));
      const float u1 = (static_cast<float>(static_cast<std::int32_t>(x >> 1U)) + 0.5F) * 0x1.0p-31F;
      const float u2 = static_cast<float>(y >> 8U) * 0x1.0p-24F;
      const double r = std::sqrt(-2.0 * std::log(static_cast<double>(u1)));
      const double theta = 2.0 * std::numbers::pi * static_cast<double>(u2);
      worst = std::max(worst, static_cast<float>(std::abs(got[16 * k + m] - r * std::cos(theta))));
      worst = std::max(worst, static_cast<float>(std::abs(got[16 * k + 8 + m] - r * std::sin(theta))));
    }
  }
  EXPECT_LT(worst, 5e-6F);
}

TEST(NormalStream, SinglePrecisionMomentsTailsAndDistribution) {
  constexpr std::size_t n = 1 << 20;
  std::vector<float> f(n);
  normal_stream(2718).fill(std::span<float>(f));
  std::vector<double> v(f.begin(), f.end());
  double m2 = 0.0, m4 = 0.0, m1 = 0.0;
  std::size_t beyond3 = 0;
  for (double x : v) {
    m1 += x;
    m2 += x * x;
    m4 += x * x * x * x;
    beyond3 += std::abs(x) > 3.0 ? 1U : 0U;
  }
  const double dn = static_cast<double>(n);
  EXPECT_NEAR(m1 / dn, 0.0, 5.0 / std::sqrt(dn));
  EXPECT_NEAR(m2 / dn, 1.0, 5.0 * std::sqrt(2.0 / dn));
  EXPECT_NEAR(m4 / dn, 3.0, 5.0 * std::sqrt(96.0 / dn));
  const double p3 = 2.0 * 0.5 * std::erfc(3.0 / std::numbers::sqrt2);
  EXPECT_NEAR(static_cast<double>(beyond3), p3 * dn, 5.0 * std::sqrt(p3 * dn));
  std::sort(v.begin(), v.end());
  double d = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = 0.5 * std::erfc(-v[i] / std::numbers::sqrt2);
    d = std::max({d, c - static_cast<double>(i) / dn, static_cast<double>(i + 1) / dn - c});
  }
  EXPECT_LT(d * std::sqrt(dn), 1.95);
}

TEST(NormalStream, ComplexFillsScaleTheSameDraws) {
  const std::vector<double> d = draws(11, 202);
  std::vector<cf64> c(101);
  normal_stream(11).fill_complex(c, 0.5);
  std::vector<cf64> added(101, cf64(1.0, -2.0));
  normal_stream(11).add_complex(added, 0.5);
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_DOUBLE_EQ(c[i].real(), 0.5 * d[2 * i]);
    EXPECT_DOUBLE_EQ(c[i].imag(), 0.5 * d[2 * i + 1]);
    EXPECT_DOUBLE_EQ(added[i].real(), 1.0 + 0.5 * d[2 * i]);
    EXPECT_DOUBLE_EQ(added[i].imag(), -2.0 + 0.5 * d[2 * i + 1]);
  }
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

TEST(NormalStream, MomentsTailsAndDistributionAreStandardNormal) {
  constexpr std::size_t n = 1 << 20;
  std::vector<double> v = draws(314, n);
  double m1 = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0;
  std::size_t beyond3 = 0;
  std::size_t beyond4 = 0;
  for (double x : v) {
    m1 += x;
    m2 += x * x;
    m3 += x * x * x;
    m4 += x * x * x * x;
    beyond3 += std::abs(x) > 3.0 ? 1U : 0U;
    beyond4 += std::abs(x) > 4.0 ? 1U : 0U;
  }
  const double dn = static_cast<double>(n);
  // Standard errors: 1/√n, √(2/n), √(15/n), √(96/n); 5σ bounds.
  EXPECT_NEAR(m1 / dn, 0.0, 5.0 / std::sqrt(dn));
  EXPECT_NEAR(m2 / dn, 1.0, 5.0 * std::sqrt(2.0 / dn));
  EXPECT_NEAR(m3 / dn, 0.0, 5.0 * std::sqrt(15.0 / dn));
  EXPECT_NEAR(m4 / dn, 3.0, 5.0 * std::sqrt(96.0 / dn));
  const double p3 = 2.0 * normal_cdf(-3.0);  // 2.70e-3
  const double p4 = 2.0 * normal_cdf(-4.0);  // 6.33e-5
  EXPECT_NEAR(static_cast<double>(beyond3), p3 * dn, 5.0 * std::sqrt(p3 * dn));
  EXPECT_NEAR(static_cast<double>(beyond4), p4 * dn, 5.0 * std::sqrt(p4 * dn));

  // Kolmogorov–Smirnov against Φ: D·√n above 1.95 has probability below 0.1%.
  std::sort(v.begin(), v.end());
  double d = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double f = normal_cdf(v[i]);
    d = std::max({d, f - static_cast<double>(i) / dn, static_cast<double>(i + 1) / dn - f});
  }
  EXPECT_LT(d * std::sqrt(dn), 1.95);
}

TEST(NormalStream, DrawsAreUncorrelatedAcrossPositionsAndLanes) {
  // Lag 1 (neighbouring lanes), lag 4 (r cos θ against r sin θ of one pair: uncorrelated
  // and, for Box–Muller, independent, so their squares are uncorrelated too) and lag 8.
  constexpr std::size_t n = 1 << 19;
  const std::vector<double> v = draws(77, n);
  for (const std::size_t lag : {1UL, 4UL, 8UL}) {
    double c = 0.0;
    double c2 = 0.0;
    for (std::size_t i = 0; i + lag < n; ++i) {
      c += v[i] * v[i + lag];
      c2 += (v[i] * v[i] - 1.0) * (v[i + lag] * v[i + lag] - 1.0);
    }
    const double m = static_cast<double>(n - lag);
    EXPECT_NEAR(c / m, 0.0, 5.0 / std::sqrt(m)) << "lag " << lag;
    EXPECT_NEAR(c2 / m, 0.0, 5.0 * 2.0 / std::sqrt(m)) << "lag " << lag;
  }
}

}  // namespace
}  // namespace amimo
