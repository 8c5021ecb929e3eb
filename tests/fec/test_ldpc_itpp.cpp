// amimo's 5G NR LDPC against IT++ (libitpp-dev), an independent implementation:
//  - IT++'s syndrome check accepts every amimo codeword (and rejects a corrupted one) for both
//    base graphs over a spread of lifting sizes;
//  - over QPSK AWGN with amimo's mapper and max-log demapper (LLR = ln P(0)/P(1) end to end:
//    a flipped sign anywhere makes every block fail), IT++ sum-product BP and amimo's layered
//    int8 min-sum are compared on BLER curves for BG1 and BG2 at two rates each: min-sum
//    reaches IT++'s BLER with at most kMarginDb more Eb/N0, never beats BP by more than the
//    statistics allow, both fail every block below the Shannon limit and decode every block
//    3 dB above it.
// Fixed seeds. Without IT++ the tests skip with a message.
#include <amimo/core/rng.h>
#include <amimo/fec/ldpc_decoder.h>
#include <amimo/fec/rate_matching.h>
#include <amimo/modem/mapper.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <iterator>
#include <vector>

#if AMIMO_HAVE_ITPP
#include "itpp_ldpc_reference.h"
#endif

namespace amimo::fec {
namespace {

#if AMIMO_HAVE_ITPP

constexpr double kMarginDb = 0.5;

TEST(LdpcItpp, ItppParityCheckAcceptsAmimoCodewords) {
  for (const base_graph bg : {base_graph::bg1, base_graph::bg2}) {
    for (const int z : {2, 7, 15, 24, 64, 112, 208, 384}) {
      const ldpc_code code(bg, z);
      testing::itpp_nr_ldpc ref(code, code.block_rows(), 1);
      rng gen(derive_seed(5, {static_cast<std::uint64_t>(z), static_cast<std::uint64_t>(bg)}));
      std::vector<std::uint8_t> info(static_cast<std::size_t>(code.info_bits()));
      std::vector<std::uint8_t> full(static_cast<std::size_t>(code.full_codeword_bits()));
      for (int trial = 0; trial < 2; ++trial) {
        gen.fill_bits(info);
        code.encode_full(full, info);
        EXPECT_TRUE(ref.parity_ok(full)) << "BG" << int(bg) << " Z=" << z;
      }
      full[static_cast<std::size_t>(gen.next_u64() % static_cast<std::uint64_t>(code.full_codeword_bits()))] ^= 1;
      EXPECT_FALSE(ref.parity_ok(full)) << "BG" << int(bg) << " Z=" << z << ": a flipped bit must violate a check";
    }
  }
}

struct link_case {
  base_graph bg;
  int z;
  int k_prime;  // information bits carried (the rest of K are filler bits)
  int e;        // transmitted bits (QPSK)
};

double rate_of(const link_case& c) { return static_cast<double>(c.k_prime) / c.e; }

// Capacity of the real AWGN channel: R = ½·log2(1 + 2R·Eb/N0).
double shannon_ebn0_db(double rate) { return 10.0 * std::log10((std::pow(2.0, 2.0 * rate) - 1.0) / (2.0 * rate)); }

struct bler_pair {
  double itpp = 0.0;
  double min_sum = 0.0;
};

// Both decoders see the same blocks and noise (seeded per block).
bler_pair simulate(const link_case& c, double ebn0_db, int blocks, std::uint64_t seed, bool run_itpp = true,
                   bool run_min_sum = true) {
  const ldpc_code code(c.bg, c.z);
  auto min_sum = create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, c.bg, c.z,
                                     {.max_iterations = 25, .normalisation = 0.75f, .early_termination = true});
  const modem::mapper qpsk(modem::modulation::qpsk);
  const int k = code.info_bits();
  const rate_match_config rm{c.bg, c.z, k, k - c.k_prime, c.e, 2, 0};
  const double n0 = 1.0 / (std::pow(10.0, ebn0_db / 10.0) * rate_of(c) * 2.0);  // Es = 1, 2 bits per symbol
  std::vector<std::uint8_t> info(static_cast<std::size_t>(k), 0);
  std::vector<std::uint8_t> d(static_cast<std::size_t>(code.codeword_bits()));
  std::vector<std::uint8_t> f(static_cast<std::size_t>(c.e));
  std::vector<cf64> symbols(f.size() / 2);
  std::vector<double> noise_var(symbols.size(), n0);
  std::vector<float> f_llr(f.size());
  std::vector<float> d_llr(d.size());
  std::vector<std::uint8_t> out(info.size());
  std::unique_ptr<testing::itpp_nr_ldpc> ref;
  int itpp_errors = 0;
  int min_sum_errors = 0;
  for (int b = 0; b < blocks; ++b) {
    rng gen(derive_seed(seed, {static_cast<std::uint64_t>(b)}));
    gen.fill_bits(std::span(info).first(static_cast<std::size_t>(c.k_prime)));
    code.encode(d, info);
    rate_match(f, d, rm);
    qpsk.map(symbols, f);
    for (auto& s : symbols) s += gen.complex_normal(n0);
    qpsk.demap_soft(f_llr, symbols, noise_var);
    rate_dematch(d_llr, f_llr, rm);
    const auto info_ok = [&] { return std::equal(out.begin(), out.begin() + c.k_prime, info.begin()); };
    if (run_min_sum) {
      (void)min_sum->decode(out, d_llr);
      min_sum_errors += info_ok() ? 0 : 1;
    }
    if (run_itpp) {
      if (!ref) ref = std::make_unique<testing::itpp_nr_ldpc>(code, testing::used_block_rows(code, d_llr), 50);
      (void)ref->decode(out, d_llr);
      itpp_errors += info_ok() ? 0 : 1;
    }
  }
  return {static_cast<double>(itpp_errors) / blocks, static_cast<double>(min_sum_errors) / blocks};
}

const link_case kCases[] = {
    {base_graph::bg1, 24, 500, 1000},  // BG1, R = 1/2
    {base_graph::bg1, 24, 500, 750},   // BG1, R = 2/3
    {base_graph::bg2, 64, 600, 1200},  // BG2, R = 1/2
    {base_graph::bg2, 64, 400, 1200},  // BG2, R = 1/3
};

TEST(LdpcItpp, StatisticalBothFailBelowShannonAndDecodeWellAbove) {
  for (const auto& c : kCases) {
    const double limit = shannon_ebn0_db(rate_of(c));
    const bler_pair below = simulate(c, limit - 0.3, 20, 31);
    const bler_pair above = simulate(c, limit + 3.0, 60, 32);
    std::printf("BG%d R=%.3f (Shannon %.2f dB): BLER IT++ BP %.3f / min-sum %.3f at limit-0.3 dB; "
                "%.3f / %.3f at limit+3 dB\n",
                static_cast<int>(c.bg), rate_of(c), limit, below.itpp, below.min_sum, above.itpp, above.min_sum);
    EXPECT_GE(below.itpp, 0.95) << "BG" << int(c.bg) << " R=" << rate_of(c);
    EXPECT_GE(below.min_sum, 0.95) << "BG" << int(c.bg) << " R=" << rate_of(c);
    EXPECT_EQ(above.itpp, 0.0) << "IT++ must decode amimo's LLRs: sign or scale convention broken";
    EXPECT_EQ(above.min_sum, 0.0) << "BG" << int(c.bg) << " R=" << rate_of(c);
  }
}

// The comparison points sit in IT++ BP's waterfall (its BLER 0.28–0.47 there, found once on
// a 0.25 dB grid with 100 blocks; the test asserts it is still inside (0.05, 0.9)).
TEST(LdpcItpp, StatisticalMinSumWithinMarginOfItppBeliefPropagation) {
  const double above_shannon_db[] = {0.75, 1.25, 0.75, 0.75};  // per kCases entry
  for (std::size_t i = 0; i < std::size(kCases); ++i) {
    const link_case& c = kCases[i];
    const double limit = shannon_ebn0_db(rate_of(c));
    const double point = limit + above_shannon_db[i];
    const int blocks = 150;
    const bler_pair at = simulate(c, point, blocks, 42);
    const bler_pair plus = simulate(c, point + kMarginDb, blocks, 42, false, true);
    std::printf("BG%d R=%.3f at %.2f dB (Shannon + %.2f): IT++ BP BLER %.3f, min-sum %.3f; min-sum at +%.1f dB %.3f\n",
                static_cast<int>(c.bg), rate_of(c), point, point - limit, at.itpp, at.min_sum, kMarginDb,
                plus.min_sum);
    // Binomial slack: 3 standard deviations of a 150-block estimate at the BP BLER.
    const double slack = 3.0 * std::sqrt(std::max(at.itpp * (1.0 - at.itpp), 0.01) / blocks);
    EXPECT_GT(at.itpp, 0.05) << "comparison point outside the waterfall";
    EXPECT_LT(at.itpp, 0.9) << "comparison point outside the waterfall";
    EXPECT_LE(plus.min_sum, at.itpp + slack) << "min-sum needs more than " << kMarginDb << " dB over IT++ BP";
    EXPECT_GE(at.min_sum + slack, at.itpp) << "min-sum beating BP at equal Eb/N0 points to a bug";
  }
}

#else

TEST(LdpcItpp, SkippedWithoutItpp) {
  GTEST_SKIP() << "IT++ (Debian libitpp-dev, pkg-config itpp) was not found when configuring: the independent "
                  "BP reference tests are not built. Install libitpp-dev and re-run cmake.";
}

#endif

}  // namespace
}  // namespace amimo::fec
