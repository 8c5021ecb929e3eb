#include <amimo/core/rng.h>
#include <amimo/metrics/llr_quality.h>
#include <amimo/metrics/stream_score.h>
#include <amimo/modem/mapper.h>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

namespace amimo::metrics {
namespace {

// Independent scalar model of llr_quality::add, bit by bit in double.
struct reference_quality {
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(llr_quality::kBins, 0);
  std::vector<std::uint64_t> errors = std::vector<std::uint64_t>(llr_quality::kBins, 0);
  std::uint64_t wrong = 0;
  double abs_sum = 0.0;
  void add(float l, bit ref) {
    const double a = std::abs(static_cast<double>(l));
    const bool w = std::isnan(l) || l == 0.0F || ((l < 0.0F) != (ref != 0));
    const double scaled = a / llr_quality::kBinWidth;
    const auto bin = std::isnan(l) || scaled >= llr_quality::kBins - 1 ? llr_quality::kBins - 1
                                                                       : static_cast<int>(std::floor(scaled));
    ++counts[static_cast<std::size_t>(bin)];
    errors[static_cast<std::size_t>(bin)] += w ? 1 : 0;
    wrong += w ? 1 : 0;
    abs_sum += a;
  }
};

TEST(LlrQuality, BinnedCountsMatchAScalarModelAcrossChunksAndEdgeValues) {
  rng gen(21);
  // Mixed magnitudes; (high SNR) nearly all in the top bin, wrong or right, with an
  // occasional small one: runs of eight top-bin bits counted at once and runs broken by one;
  // and every bit in the top bin (wrong ones and a NaN among them) but one small LLR in the
  // third 256-bit chunk: whole chunks counted at once, and a chunk that is not.
  enum class mix { mixed, high_snr, all_top };
  for (const mix kind : {mix::mixed, mix::high_snr, mix::all_top}) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{256}, std::size_t{1001}}) {
      std::vector<float> llr(n);
      std::vector<bit> ref(n);
      for (std::size_t i = 0; i < n; ++i) {
        const double sign = gen.below(2) == 0 ? 1.0 : -1.0;
        if (kind == mix::high_snr) {
          llr[i] = static_cast<float>(gen.below(29) == 0 ? gen.normal() : sign * (16.0 + 40.0 * gen.uniform()));
        } else if (kind == mix::all_top) {
          llr[i] = static_cast<float>(sign * (16.0 + 40.0 * gen.uniform()));
        } else {
          llr[i] = static_cast<float>(gen.normal() * (i % 3 == 0 ? 30.0 : 3.0));
        }
        ref[i] = static_cast<bit>(gen.below(2));
      }
      if (kind == mix::all_top) {
        if (n > 3) llr[3] = std::nanf("");
        if (n > 600) llr[600] = 0.5F;
      } else {
        // Bin edges, zero of both signs, the top bin's edge and beyond, infinity.
        const float edges[] = {0.0F,  -0.0F, 0.25F, -0.5F, 15.75F,
                               16.0F, -1e30F, std::numeric_limits<float>::infinity()};
        for (std::size_t e = 0; e < std::size(edges) && e < n; ++e) llr[e] = edges[e];
      }
      llr_quality q;
      q.add(llr, ref);
      reference_quality r;
      for (std::size_t i = 0; i < n; ++i) r.add(llr[i], ref[i]);
      ASSERT_EQ(q.bits(), n);
      EXPECT_EQ(q.sign_errors(), r.wrong);
      for (std::size_t b = 0; b < static_cast<std::size_t>(llr_quality::kBins); ++b) {
        EXPECT_EQ(q.bin_counts()[b], r.counts[b]) << n << " bin " << b;
        EXPECT_EQ(q.bin_errors()[b], r.errors[b]) << n << " bin " << b;
      }
      if (std::isfinite(r.abs_sum)) {
        EXPECT_NEAR(q.mean_abs_llr() * static_cast<double>(n), r.abs_sum, 1e-9 * r.abs_sum);
      }
    }
  }
}

TEST(LlrQuality, NanLlrIsAWrongBitInTheTopBin) {
  llr_quality q;
  const std::vector<float> llr{std::nan(""), 1.0F};
  const std::vector<bit> ref{0, 0};
  q.add(llr, ref);
  EXPECT_EQ(q.sign_errors(), 1U);
  EXPECT_EQ(q.bin_counts()[llr_quality::kBins - 1], 1U);
  EXPECT_EQ(q.bin_errors()[llr_quality::kBins - 1], 1U);
  EXPECT_EQ(q.bin_counts()[4], 1U);
}

// score_stream against a plain per-symbol loop (mapper::decide one sample at a time), for
// every modulation, with erased streams (variance +∞ or NaN) at the ends and inside.
TEST(StreamScore, EqualsAPlainPerSymbolLoopForEveryModulation) {
  using modem::modulation;
  for (const modulation mod :
       {modulation::bpsk, modulation::qpsk, modulation::qam16, modulation::qam64, modulation::qam256}) {
    const modem::mapper m(mod);
    const std::size_t bps = m.bits_per_symbol();
    rng gen(22);
    const std::size_t n = 601;
    std::vector<bit> bits(n * bps);
    for (auto& b : bits) b = static_cast<bit>(gen.below(2));
    std::vector<cf64> sent(n), eq(n);
    m.map(sent, bits);
    std::vector<double> var(n, 0.1);
    std::vector<float> llr(n * bps);
    for (std::size_t i = 0; i < n; ++i) eq[i] = sent[i] + gen.complex_normal(0.05);
    for (const std::size_t e : {std::size_t{0}, std::size_t{300}, std::size_t{301}, n - 1})
      var[e] = std::numeric_limits<double>::infinity();
    var[450] = std::nan("");
    m.demap_soft(llr, eq, var);
    llr_quality q;
    const stream_score s = score_stream(m, eq, var, sent, bits, llr, q);
    // Without reference symbols (the mapper's points of the bits): the same score, exactly.
    llr_quality q_bits;
    const stream_score s_bits = score_stream(m, eq, var, bits, llr, q_bits);
    EXPECT_EQ(s_bits.bit_errors, s.bit_errors) << to_string(mod);
    EXPECT_EQ(s_bits.scored_symbols, s.scored_symbols);
    EXPECT_EQ(s_bits.error_energy, s.error_energy);
    EXPECT_EQ(q_bits.bits(), q.bits());
    EXPECT_EQ(q_bits.sign_errors(), q.sign_errors());

    std::uint64_t errors = 0, scored = 0;
    double energy = 0.0;
    llr_quality expected_q;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(var[i] < std::numeric_limits<double>::infinity())) continue;
      unsigned want = 0;
      for (std::size_t b = 0; b < bps; ++b) want = (want << 1U) | bits[i * bps + b];
      errors += static_cast<std::uint64_t>(std::popcount(m.decide(eq[i]) ^ want));
      energy += std::norm(eq[i] - sent[i]);
      expected_q.add(std::span<const float>(llr).subspan(i * bps, bps),
                     std::span<const bit>(bits).subspan(i * bps, bps));
      ++scored;
    }
    EXPECT_EQ(s.scored_symbols, scored) << to_string(mod);
    EXPECT_EQ(s.scored_symbols, n - 5);
    EXPECT_EQ(s.bit_errors, errors) << to_string(mod);
    EXPECT_NEAR(s.error_energy, energy, 1e-12 * energy);
    EXPECT_EQ(q.bits(), expected_q.bits());
    EXPECT_EQ(q.sign_errors(), expected_q.sign_errors());
    for (int b = 0; b < llr_quality::kBins; ++b) {
      EXPECT_EQ(q.bin_counts()[static_cast<std::size_t>(b)], expected_q.bin_counts()[static_cast<std::size_t>(b)]);
    }
    if (mod == modulation::qam256) {
      EXPECT_GT(errors, 0U);  // the noise makes some decisions wrong
    }
  }
}

}  // namespace
}  // namespace amimo::metrics
