#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/modem/liquid_constellation.h>
#include <amimo/modem/mapper.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace amimo::modem {
namespace {

class MapperTest : public ::testing::TestWithParam<modulation> {};

TEST_P(MapperTest, UnitAverageEnergyAndDistinctPoints) {
  const mapper m(GetParam());
  double energy = 0.0;
  for (const cf64 p : m.constellation()) energy += std::norm(p);
  EXPECT_NEAR(energy / static_cast<double>(m.constellation().size()), 1.0, 1e-12);
  for (std::size_t i = 0; i < m.constellation().size(); ++i) {
    for (std::size_t j = i + 1; j < m.constellation().size(); ++j) {
      EXPECT_GT(std::abs(m.constellation()[i] - m.constellation()[j]), 1e-3);
    }
  }
}

TEST_P(MapperTest, GrayMappedNearestNeighboursDifferInOneBit) {
  const mapper m(GetParam());
  const auto points = m.constellation();
  double dmin = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = i + 1; j < points.size(); ++j) dmin = std::min(dmin, std::abs(points[i] - points[j]));
  }
  int neighbour_pairs = 0;
  for (unsigned i = 0; i < points.size(); ++i) {
    for (unsigned j = i + 1; j < points.size(); ++j) {
      if (std::abs(points[i] - points[j]) < dmin * 1.001) {
        ++neighbour_pairs;
        EXPECT_EQ(std::popcount(i ^ j), 1) << "labels " << i << " and " << j;
      }
    }
  }
  EXPECT_GT(neighbour_pairs, 0);
}

TEST_P(MapperTest, MapThenHardDemapReturnsTheBits) {
  const mapper m(GetParam());
  rng gen(3);
  std::vector<bit> bits(m.bits_per_symbol() * 1000), back(bits.size());
  gen.fill_bits(bits);
  std::vector<cf64> symbols(1000);
  m.map(symbols, bits);
  m.demap_hard(back, symbols);
  EXPECT_EQ(bits, back);
}

TEST_P(MapperTest, SlicerAgreesWithLiquidDemodulatorOnNoisySamples) {
  // liquid-dsp's own hard demodulator is an independent reference for the grid slicer.
  const mapper m(GetParam());
  const std::vector<cf64> raw = liquid_constellation(GetParam());
  double energy = 0.0;
  for (const cf64 p : raw) energy += std::norm(p);
  const double liquid_scale = std::sqrt(energy / static_cast<double>(raw.size()));
  rng gen(5);
  std::vector<cf64> samples(2000), scaled(2000);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = m.constellation()[gen.below(m.constellation().size())] + gen.complex_normal(0.05);
    scaled[i] = samples[i] * liquid_scale;
  }
  const std::vector<unsigned> reference = liquid_hard_decisions(GetParam(), scaled);
  for (std::size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(m.decide(samples[i]), reference[i]) << samples[i];
}

// Both near the constellation points and far off it (beyond the outer levels, across
// several decision intervals), where the per-axis minima must still find the right levels.
TEST_P(MapperTest, MaxLogLlrMatchesBruteForceDefinitionAndHardDecisionSigns) {
  const mapper m(GetParam());
  const unsigned bps = m.bits_per_symbol();
  rng gen(8);
  std::vector<cf64> samples(600);
  std::vector<double> variance(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const double spread = i < 300 ? 0.1 : 2.0;
    samples[i] = m.constellation()[gen.below(m.constellation().size())] + gen.complex_normal(spread * spread);
    variance[i] = 0.05 + gen.uniform();
  }
  std::vector<float> llr(samples.size() * bps);
  std::vector<bit> hard(samples.size() * bps);
  m.demap_soft(llr, samples, variance);
  m.demap_hard(hard, samples);
  for (std::size_t s = 0; s < samples.size(); ++s) {
    for (unsigned b = 0; b < bps; ++b) {
      double d0 = 1e300, d1 = 1e300;
      for (unsigned label = 0; label < m.constellation().size(); ++label) {
        const double d = std::norm(samples[s] - m.constellation()[label]);
        if ((label >> (bps - 1 - b)) & 1U) {
          d1 = std::min(d1, d);
        } else {
          d0 = std::min(d0, d);
        }
      }
      const double expected = (d1 - d0) / variance[s];
      EXPECT_NEAR(llr[s * bps + b], expected, 1e-4 * (1.0 + std::abs(expected)));
      if (std::abs(expected) > 1e-6) {
        EXPECT_EQ(hard[s * bps + b], expected < 0 ? 1 : 0);
      }
    }
  }
}

// A sample exactly on a decision boundary (0 on either axis — an ADC-quantised analog output
// often is — or exactly midway between two levels) is a tie: its max-log LLR is exactly 0
// for the bits that boundary separates, whatever roundings or FMA contractions happen, and
// every other bit's LLR sign agrees with the hard decision. Before the fix the tie's LLR was
// ±1e-17, a sign chosen by rounding, opposite to the hard decision about half the time.
TEST_P(MapperTest, ExactTiesGiveZeroLlrAndOtherwiseSignsMatchHardDecisions) {
  const mapper m(GetParam());
  const unsigned bps = m.bits_per_symbol();
  // Every midpoint between two adjacent levels on each axis, each paired with an ordinary
  // coordinate on the other axis.
  std::vector<double> levels;
  for (const cf64 p : m.constellation()) levels.push_back(p.real());
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end(), [](double a, double b) { return std::abs(a - b) < 1e-6; }),
               levels.end());
  std::vector<cf64> samples;
  rng gen(3);
  for (std::size_t i = 0; i + 1 < levels.size(); ++i) {
    const double mid = i + 1 == levels.size() / 2 ? 0.0 : 0.5 * (levels[i] + levels[i + 1]);
    const double other = levels[gen.below(levels.size())] + 0.01;
    samples.emplace_back(mid, other);
    if (m.bits_per_symbol() > 1) samples.emplace_back(other, mid);
  }
  std::vector<float> llr(samples.size() * bps);
  std::vector<bit> hard(samples.size() * bps);
  const std::vector<double> variance(samples.size(), 0.3);
  m.demap_soft(llr, samples, variance);
  m.demap_hard(hard, samples);
  int zeros_at_zero = 0;
  for (std::size_t s = 0; s < samples.size(); ++s) {
    for (unsigned b = 0; b < bps; ++b) {
      const float l = llr[s * bps + b];
      if (l != 0.0F) {
        EXPECT_EQ(hard[s * bps + b], l < 0.0F ? 1 : 0) << "sample " << s << " bit " << b;
      }
      if ((samples[s].real() == 0.0 || samples[s].imag() == 0.0) && l == 0.0F) ++zeros_at_zero;
    }
  }
  // The axis sign bit is undecided exactly at 0 (Gray QAM, QPSK and BPSK alike).
  EXPECT_GE(zeros_at_zero, 1);
}

// The chunked, vectorised decide() over a span against the per-sample one: every label the
// same, for counts that do not fill the last chunk and with non-finite samples mixed in.
TEST_P(MapperTest, BatchDecisionsEqualPerSampleDecisions) {
  const mapper m(GetParam());
  rng gen(11);
  for (const std::size_t count : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{130}}) {
    std::vector<cf64> samples(count);
    for (std::size_t i = 0; i < count; ++i) {
      samples[i] = m.constellation()[gen.below(m.constellation().size())] + gen.complex_normal(i % 2 ? 0.5 : 0.01);
    }
    // Exactly between two points (a tie: the lower level wins) and non-finite values.
    samples[0] = cf64(0.5 * (m.constellation()[0].real() + m.constellation()[1].real()), 0.0);
    if (count > 5) {
      samples[3] = cf64(std::nan(""), 0.2);
      samples[4] = cf64(0.1, std::numeric_limits<double>::infinity());
      samples[5] = cf64(-std::numeric_limits<double>::infinity(), 1e300);
    }
    std::vector<unsigned> labels(count, 999U);
    m.decide(labels, samples);
    for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(labels[i], m.decide(samples[i])) << count << " " << i;
  }
}

// LLRs of a long array (several chunks, a partial last one) with erased and non-finite
// samples spread through it: exactly 0 there, and each finite sample's LLRs equal those of
// demapping it alone.
TEST_P(MapperTest, ChunkedSoftDemappingIsPerSampleAndZeroesNonFiniteInputs) {
  const mapper m(GetParam());
  const unsigned bps = m.bits_per_symbol();
  rng gen(12);
  std::vector<cf64> samples(201);
  std::vector<double> variance(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = m.constellation()[gen.below(m.constellation().size())] + gen.complex_normal(0.2);
    variance[i] = 0.01 + gen.uniform();
  }
  variance[7] = std::numeric_limits<double>::infinity();
  variance[70] = std::nan("");
  samples[100] = cf64(std::nan(""), 0.0);
  samples[200] = cf64(0.0, -std::numeric_limits<double>::infinity());
  std::vector<float> llr(samples.size() * bps);
  m.demap_soft(llr, samples, variance);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::vector<float> one(bps);
    m.demap_soft(one, std::span<const cf64>(&samples[i], 1), std::span<const double>(&variance[i], 1));
    const bool zero = i == 7 || i == 70 || i == 100 || i == 200;
    for (unsigned b = 0; b < bps; ++b) {
      if (zero) {
        EXPECT_EQ(llr[i * bps + b], 0.0F) << i;
      } else {
        EXPECT_EQ(llr[i * bps + b], one[b]) << i;
        EXPECT_NE(llr[i * bps + b], 0.0F) << i;
      }
    }
  }
}

// Samples far off the constellation (an equaliser's output for a nearly singular channel),
// with a variance that keeps the LLR moderate or one that makes it huge: the max-log LLR
// exactly (squared distances lost it to rounding from |y| ≈ 1e15, off by ~10%, and gave NaN
// from |y| ≈ 1.3e154), a huge one clamped to ±FLT_MAX with its sign. The reference, in long
// double: the nearest points of each bit value (the largest Re(conj(y)·p) − |p|²/2, which is
// |y − p|² less the common |y|²), and the difference of their squared distances expanded so
// that |y|² cancels.
TEST_P(MapperTest, SamplesFarFromTheConstellationKeepTheirExactLlrs) {
  const mapper m(GetParam());
  const unsigned bps = m.bits_per_symbol();
  const auto points = m.constellation();
  rng gen(31);
  std::vector<cf64> samples;
  std::vector<double> variance;
  for (const double big : {2e6, 1e9, 1e15, 3e17, 1e154, 1e200, 1e300}) {
    for (int k = 0; k < 12; ++k) {
      const double angle = 2.0 * 3.141592653589793 * gen.uniform();
      samples.push_back(big * cf64(std::cos(angle), std::sin(angle)) + points[gen.below(points.size())]);
      variance.push_back(k % 3 == 2 ? 1.0 : big);  // LLR about 1, or about big
    }
  }
  std::vector<float> llr(samples.size() * bps);
  m.demap_soft(llr, samples, variance);
  constexpr long double top = std::numeric_limits<float>::max();
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const long double yr = samples[s].real();
    const long double yi = samples[s].imag();
    for (unsigned b = 0; b < bps; ++b) {
      long double best[2] = {-1e4000L, -1e4000L};
      std::size_t at[2] = {0, 0};
      for (std::size_t label = 0; label < points.size(); ++label) {
        const unsigned one = (label >> (bps - 1 - b)) & 1U;
        const long double pr = points[label].real();
        const long double pi = points[label].imag();
        const long double d = yr * pr + yi * pi - 0.5L * (pr * pr + pi * pi);
        if (d > best[one]) {
          best[one] = d;
          at[one] = label;
        }
      }
      const cf64 p0 = points[at[0]];
      const cf64 p1 = points[at[1]];
      const long double diff = static_cast<long double>(std::norm(p1)) - static_cast<long double>(std::norm(p0)) -
                               2.0L * (yr * (p1.real() - p0.real()) + yi * (p1.imag() - p0.imag()));
      const long double expected = std::clamp(diff / variance[s], -top, top);
      const float got = llr[s * bps + b];
      ASSERT_TRUE(std::isfinite(got)) << samples[s] << " bit " << b;
      EXPECT_NEAR(got, static_cast<double>(expected), 1e-5 * (1.0 + std::abs(static_cast<double>(expected))))
          << samples[s] << " σ² " << variance[s] << " bit " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, MapperTest,
                         ::testing::Values(modulation::bpsk, modulation::qpsk, modulation::qam16,
                                           modulation::qam64, modulation::qam256),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST(Mapper, BpskLlrIsFourYOverSigmaSquared) {
  const mapper m(modulation::bpsk);
  const double sign = m.constellation()[0].real() > 0 ? 1.0 : -1.0;  // label 0 at +1 or −1
  std::vector<cf64> y{{0.3, 0.2}, {-1.4, 0.0}};
  std::vector<double> var{0.5, 2.0};
  std::vector<float> llr(2);
  m.demap_soft(llr, y, var);
  EXPECT_NEAR(llr[0], sign * 4 * 0.3 / 0.5, 1e-6);
  EXPECT_NEAR(llr[1], sign * 4 * -1.4 / 2.0, 1e-6);
}

TEST(Mapper, UnresolvedStreamsAndNonFiniteSamplesGiveZeroLlr) {
  const mapper m(modulation::qam16);
  std::vector<cf64> y{{0.3, 0.2}, {std::nan(""), 0.0}};
  std::vector<double> var{std::numeric_limits<double>::infinity(), 1.0};
  std::vector<float> llr(8, 1.0F);
  m.demap_soft(llr, y, var);
  for (const float v : llr) EXPECT_EQ(v, 0.0F);
}

TEST(Modulation, NamesRoundTripAndUnknownNamesAreRejected) {
  for (const modulation mod : {modulation::bpsk, modulation::qpsk, modulation::qam16, modulation::qam64,
                               modulation::qam256}) {
    EXPECT_EQ(parse_modulation(to_string(mod)), mod);
  }
  EXPECT_EQ(bits_per_symbol(modulation::qam256), 8U);
  EXPECT_THROW(parse_modulation("qam1024"), config_error);
}

}  // namespace
}  // namespace amimo::modem
