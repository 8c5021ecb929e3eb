// Segmentation and TBS against worked values of TS 38.212 §5.2.2 / §7.2 and TS 38.214
// §5.1.3.2, rate matching and its inverse, and the whole transport-block chain.
#include <amimo/core/rng.h>
#include <amimo/fec/rate_matching.h>
#include <amimo/fec/segmentation.h>
#include <amimo/fec/transport_block.h>

#include <gtest/gtest.h>

#include <numeric>
#include <limits>
#include <vector>

namespace amimo::fec {
namespace {

TEST(BaseGraphSelection, Section722) {
  EXPECT_EQ(select_base_graph(292, 0.9), base_graph::bg2);
  EXPECT_EQ(select_base_graph(293, 0.9), base_graph::bg1);
  EXPECT_EQ(select_base_graph(3824, 0.67), base_graph::bg2);
  EXPECT_EQ(select_base_graph(3824, 0.68), base_graph::bg1);
  EXPECT_EQ(select_base_graph(3840, 0.5), base_graph::bg1);
  EXPECT_EQ(select_base_graph(100000, 0.25), base_graph::bg2);
  EXPECT_EQ(select_base_graph(100000, 0.26), base_graph::bg1);
  EXPECT_THROW((void)select_base_graph(1000, 0.0), std::invalid_argument);
  EXPECT_THROW((void)select_base_graph(1000, 1.0), std::invalid_argument);
}

struct segmentation_case {
  int a;
  base_graph bg;
  int tb_crc, c, k_prime, z, k, f;
};

// Worked by hand from §5.2.2 (B = A + L_TB; C = ⌈B/(K_cb − 24)⌉ when B > K_cb; K' = B'/C;
// K_b = 22 or 10/9/8/6 by B; Z the smallest lifting size with K_b·Z ≥ K'; F = K − K').
TEST(Segmentation, WorkedSizes) {
  const segmentation_case cases[] = {
      {100, base_graph::bg2, 16, 1, 116, 20, 200, 84},        // B ≤ 192: K_b = 6
      {200, base_graph::bg2, 16, 1, 216, 28, 280, 64},        // 192 < B ≤ 560: K_b = 8, 8·28 = 224 ≥ 216
      {560, base_graph::bg2, 16, 1, 576, 64, 640, 64},        // 560 < B ≤ 640: K_b = 9, 9·64 = 576
      {1000, base_graph::bg2, 16, 1, 1016, 104, 1040, 24},    // K_b = 10
      {3824, base_graph::bg2, 16, 1, 3840, 384, 3840, 0},     // the largest single BG2 block
      {4000, base_graph::bg2, 24, 2, 2036, 208, 2080, 44},    // B = 4024 > 3840: C = 2
      {8424, base_graph::bg1, 24, 1, 8448, 384, 8448, 0},     // the largest single BG1 block
      {8456, base_graph::bg1, 24, 2, 4264, 208, 4576, 312},   // B = 8480: C = 2, B' = 8528
      {1277992, base_graph::bg1, 24, 152, 8432, 384, 8448, 16},  // the largest TBS: C = 152, B' = 1281664
  };
  for (const auto& tc : cases) {
    const auto s = segment_transport_block(tc.a, tc.bg);
    EXPECT_EQ(s.tb_crc_bits, tc.tb_crc) << tc.a;
    EXPECT_EQ(s.blocks, tc.c) << tc.a;
    EXPECT_EQ(s.cb_crc_bits, tc.c > 1 ? 24 : 0) << tc.a;
    EXPECT_EQ(s.k_prime, tc.k_prime) << tc.a;
    EXPECT_EQ(s.z, tc.z) << tc.a;
    EXPECT_EQ(s.k, tc.k) << tc.a;
    EXPECT_EQ(s.filler_bits, tc.f) << tc.a;
    EXPECT_EQ(s.blocks * s.payload_bits_per_block(), tc.a + tc.tb_crc) << tc.a;
  }
  EXPECT_THROW((void)segment_transport_block(23, base_graph::bg1), std::invalid_argument);
  EXPECT_THROW((void)segment_transport_block(1277993, base_graph::bg1), std::invalid_argument);
  EXPECT_THROW((void)segment_transport_block(8457, base_graph::bg1), std::invalid_argument);  // B' odd, C = 2
}

// TS 38.214 §5.1.3.2 by hand.
TEST(TransportBlockSize, WorkedExamples) {
  // N_info = 144: n = 3, N'_info = 144 → Table 5.1.3.2-1 → 144.
  EXPECT_EQ(transport_block_size(144, 0.5, 2), 144);
  // N_info = 600: n = 3, N'_info = 600 → 608.
  EXPECT_EQ(transport_block_size(1000, 0.3, 2), 608);
  // N_info = 10 → N'_info = max(24, 8) = 24 → 24.
  EXPECT_EQ(transport_block_size(10, 0.5, 2), 24);
  // N_info = 3824 exactly → 3824.
  EXPECT_EQ(transport_block_size(1912, 0.5, 4), 3824);
  // N_info = 4000 (> 3824): n = 6, N'_info = 64·round(3976/64) = 3968, R > 1/4 and ≤ 8424 →
  // 8·⌈3992/8⌉ − 24 = 3968.
  EXPECT_EQ(transport_block_size(1000, 0.5, 8), 3968);
  // 273 PRB × 156 RE, R = 948/1024, 256-QAM, 4 layers: the largest NR TBS, 1277992.
  EXPECT_EQ(transport_block_size(273 * 156, 948.0 / 1024.0, 8, 4), 1277992);
  // R ≤ 1/4 with N_info = 20000: n = 9, N'_info = 512·round(19976/512) = 19968, C = ⌈19992/3816⌉ = 6,
  // TBS = 48·⌈19992/48⌉ − 24 = 19992.
  EXPECT_EQ(transport_block_size(40000, 0.25, 2), 19992);
  EXPECT_THROW((void)transport_block_size(100, 1.2, 2), std::invalid_argument);
  EXPECT_THROW((void)transport_block_size(0, 0.5, 2), std::invalid_argument);
}

TEST(RateMatching, LengthsPerBlockSection5421) {
  // G = 1000 bits, Qm = 2, C = 3: 500 symbols → 166, 167, 167 symbols.
  EXPECT_EQ(rate_matched_lengths(1000, 3, 2), (std::vector<int>{332, 334, 334}));
  EXPECT_EQ(rate_matched_lengths(1200, 3, 4), (std::vector<int>{400, 400, 400}));
  EXPECT_THROW((void)rate_matched_lengths(1001, 3, 2), std::invalid_argument);
}

TEST(RateMatching, StartingPositionsTable5421_2) {
  rate_match_config cfg{base_graph::bg1, 384, 22 * 384, 0, 1000, 2, 0};
  const int expected_bg1[4] = {0, 17 * 384, 33 * 384, 56 * 384};
  for (int rv = 0; rv < 4; ++rv) {
    cfg.rv = rv;
    EXPECT_EQ(starting_position(cfg), expected_bg1[rv]);
  }
  rate_match_config cfg2{base_graph::bg2, 10, 100, 0, 100, 2, 0};
  const int expected_bg2[4] = {0, 13 * 10, 25 * 10, 43 * 10};
  for (int rv = 0; rv < 4; ++rv) {
    cfg2.rv = rv;
    EXPECT_EQ(starting_position(cfg2), expected_bg2[rv]);
  }
}

// With d_k = k mod 2^8 patterns we can follow each bit: the interleaver writes e row-wise into
// Qm rows and reads column-wise (§5.4.2.2).
TEST(RateMatching, BitSelectionSkipsFillersAndInterleaverTransposes) {
  const rate_match_config cfg{base_graph::bg2, 2, 20, 4, 12, 4, 0};  // N = 100, fillers d_12..d_15
  std::vector<std::uint8_t> d(100, 0);
  // Mark d_0..d_11 and d_16..: bit k of the selection is e_k; make e_k = 1 for k in {1, 5, 11}.
  // Selected positions: 0..11 then 16.. → e_k = d_k for k < 12.
  d[1] = d[5] = d[11] = 1;
  d[16] = 1;  // would be e_12: beyond E = 12, not selected
  std::vector<std::uint8_t> f(12);
  rate_match(f, d, cfg);
  // f_{i + j·4} = e_{i·3 + j}: e_1 → (i=0, j=1) → f_4; e_5 → (i=1, j=2) → f_9; e_11 → (i=3, j=2) → f_11.
  std::vector<std::uint8_t> expected(12, 0);
  expected[4] = expected[9] = expected[11] = 1;
  EXPECT_EQ(f, expected);

  // With fillers at 12..15, E = 16 continues at d_16.
  const rate_match_config cfg16{base_graph::bg2, 2, 20, 4, 16, 4, 0};
  std::vector<std::uint8_t> f16(16);
  rate_match(f16, d, cfg16);
  // e_12 = d_16 = 1 → i = 3, j = 0 → f_3.
  EXPECT_EQ(f16[3], 1);
}

TEST(RateMatching, InverseRoundTripsForEveryRvWithRepetitionAndPuncturing) {
  rng gen(7);
  for (base_graph bg : {base_graph::bg1, base_graph::bg2}) {
    const int z = 20;
    const int k = shape_of(bg).info_cols * z;
    const int n = (shape_of(bg).cols - 2) * z;
    for (int e : {240, n - 36, 2 * n + 8}) {  // punctured, nearly all, repeated
      for (int rv = 0; rv < 4; ++rv) {
        const rate_match_config cfg{bg, z, k, 36, e, 4, rv};
        std::vector<std::uint8_t> d(static_cast<std::size_t>(n));
        gen.fill_bits(d);
        const int fill_lo = k - 36 - 2 * z;
        std::fill(d.begin() + fill_lo, d.begin() + fill_lo + 36, std::uint8_t{0});
        std::vector<std::uint8_t> f(static_cast<std::size_t>(e));
        rate_match(f, d, cfg);
        std::vector<float> f_llr(f.size());
        for (std::size_t i = 0; i < f.size(); ++i) {
          f_llr[i] = f[i] ? -1.0f : 1.0f;
        }
        std::vector<float> d_llr(static_cast<std::size_t>(n));
        rate_dematch(d_llr, f_llr, cfg);
        // Every received bit lands on its own position with the right sign; the count of
        // received values equals E; fillers are known zeros.
        double received = 0;
        for (int i = 0; i < n; ++i) {
          const float v = d_llr[static_cast<std::size_t>(i)];
          if (i >= fill_lo && i < fill_lo + 36) {
            EXPECT_EQ(v, kFillerLlr);
            continue;
          }
          if (v != 0.0f) {
            EXPECT_EQ(v < 0.0f, d[static_cast<std::size_t>(i)] == 1) << "position " << i;
            received += std::abs(v);
          }
        }
        EXPECT_EQ(received, static_cast<double>(e)) << "E=" << e << " rv=" << rv;
      }
    }
  }
  EXPECT_THROW(rate_match(std::span<std::uint8_t>{}, std::span<const std::uint8_t>{},
                          rate_match_config{base_graph::bg1, 384, 8448, 0, 101, 2, 0}),
               std::invalid_argument);
  EXPECT_THROW(rate_match(std::span<std::uint8_t>{}, std::span<const std::uint8_t>{},
                          rate_match_config{base_graph::bg1, 384, 8448, 0, 100, 2, 4}),
               std::invalid_argument);
}

// The whole chain, payload → G bits → ±LLR → payload, for single- and multi-block TBs.
TEST(TransportBlock, ChainRoundTripsAndCrcCatchesCorruption) {
  struct chain_case {
    int a;
    double r;
    int qm;
    int g;
    int rv;
  };
  const chain_case cases[] = {
      {100, 0.5, 2, 240, 0}, {1000, 0.5, 2, 2000, 0}, {3824, 0.8, 4, 4800, 0},
      {8456, 0.5, 2, 17000, 0}, {19992, 0.75, 6, 26700, 0}, {1000, 0.5, 2, 10400, 2}, {1000, 0.5, 2, 6000, 3}};  // rv 2, 3 wrap round to the systematic bits
  for (const auto& tc : cases) {
    const transport_block_config cfg{tc.a, tc.r, tc.qm, tc.g, 1, tc.rv};
    transport_block_encoder enc(cfg);
    transport_block_decoder dec(cfg);
    rng gen(derive_seed(9, {static_cast<std::uint64_t>(tc.a)}));
    std::vector<std::uint8_t> payload(static_cast<std::size_t>(tc.a));
    gen.fill_bits(payload);
    std::vector<std::uint8_t> coded(static_cast<std::size_t>(tc.g));
    enc.encode(coded, payload);
    std::vector<float> llr(coded.size());
    for (std::size_t i = 0; i < coded.size(); ++i) {
      llr[i] = coded[i] ? -4.0f : 4.0f;
    }
    std::vector<std::uint8_t> out(payload.size());
    auto res = dec.decode(out, llr);
    EXPECT_TRUE(res.tb_crc_ok) << "A=" << tc.a;
    EXPECT_EQ(res.blocks, enc.segmentation().blocks);
    EXPECT_EQ(res.block_crc_failures, 0);
    EXPECT_EQ(out, payload) << "A=" << tc.a;
    // Replace a quarter of the LLRs by wrong-sign ones: nothing decodes, and it is reported.
    for (std::size_t i = 0; i < llr.size(); i += 4) {
      llr[i] = -llr[i];
    }
    for (std::size_t i = 1; i < llr.size(); i += 4) {
      llr[i] = -llr[i];
    }
    res = dec.decode(out, llr);
    EXPECT_FALSE(res.tb_crc_ok) << "A=" << tc.a;
  }
  // Received without information (an erased stream: every LLR 0, or NaN) a block decodes
  // to the all-zero word, which satisfies every parity check and has CRC 0: it was reported
  // tb_crc_ok. It must fail, whether the whole TB or one of its code blocks is erased.
  for (const auto& tc : cases) {
    const transport_block_config cfg{tc.a, tc.r, tc.qm, tc.g, 1, tc.rv};
    transport_block_decoder dec(cfg);
    std::vector<std::uint8_t> out(static_cast<std::size_t>(tc.a));
    for (const float v : {0.0f, std::numeric_limits<float>::quiet_NaN()}) {
      std::vector<float> llr(static_cast<std::size_t>(tc.g), v);
      const auto res = dec.decode(out, llr);
      EXPECT_FALSE(res.tb_crc_ok) << "A=" << tc.a << " LLR " << v;
      EXPECT_EQ(res.block_crc_failures, res.blocks) << "A=" << tc.a << " LLR " << v;
    }
    // Nearly so (a deep fade): LLRs too small for the decoder to read (|L| < 1/8 at its int8
    // scale) with a few it can, all of bit 0's sign — the all-zero word again, which passed.
    std::vector<float> faded(static_cast<std::size_t>(tc.g));
    rng gen(static_cast<std::uint64_t>(tc.a));
    for (auto& v : faded) v = static_cast<float>(0.02 * gen.normal());
    for (std::size_t i = 0; i < faded.size(); i += 50) faded[i] = 0.3f;
    const auto res = dec.decode(out, faded);
    EXPECT_FALSE(res.tb_crc_ok) << "A=" << tc.a << " faded";
  }
  EXPECT_THROW(transport_block_encoder({100, 0.5, 2, 241, 1, 0}), std::invalid_argument);  // G not a multiple of Qm
  EXPECT_THROW(transport_block_encoder({100, 1.5, 2, 240, 1, 0}), std::invalid_argument);  // rate
  EXPECT_THROW(transport_block_encoder({10, 0.5, 2, 240, 1, 0}), std::invalid_argument);   // A < 24
}

}  // namespace
}  // namespace amimo::fec
