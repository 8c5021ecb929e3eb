// link_transport_block: the 38.214 TBS for a frame's G coded bits, worked by hand, the
// override and its checks, and a block sized this way round-tripping the chain.
#include <amimo/core/rng.h>
#include <amimo/fec/link_coding.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace amimo::fec {
namespace {

TEST(LinkCoding, StandardTbsForTheFramesCodedBits) {
  // G = 288, Qm = 2, R = 1/2: N_RE = 144, N_info = 144 → n = 3, N'_info = 144 → Table → 144.
  auto cfg = link_transport_block(288, 2, 0.5);
  EXPECT_EQ(cfg.tb_bits, 144);
  EXPECT_EQ(cfg.g_bits, 288);
  EXPECT_EQ(cfg.qm, 2);
  EXPECT_EQ(cfg.layers, 1);
  EXPECT_EQ(cfg.rv, 0);
  EXPECT_DOUBLE_EQ(cfg.code_rate, 0.5);
  // G = 2000, Qm = 2, R = 0.3: N_info = 600 → 600 → Table → 608.
  EXPECT_EQ(link_transport_block(2000, 2, 0.3).tb_bits, 608);
  // G = 8000, Qm = 8, R = 1/2: N_info = 4000 > 3824 → n = 6, N'_info = 64·round(3976/64) = 3968
  // → 8·⌈3992/8⌉ − 24 = 3968 (C = 1, CRC24A): effective rate 3992/8000.
  cfg = link_transport_block(8000, 8, 0.5);
  EXPECT_EQ(cfg.tb_bits, 3968);
  EXPECT_DOUBLE_EQ(effective_code_rate(cfg), 3992.0 / 8000.0);
  // G = 120, Qm = 2, R = 0.8: N_info = 96 → TBS 96, B = 112, effective rate 0.933 ≤ 0.95.
  EXPECT_EQ(link_transport_block(120, 2, 0.8).tb_bits, 96);
}

TEST(LinkCoding, OverrideIsValidated) {
  EXPECT_EQ(link_transport_block(2000, 2, 0.5, 1000).tb_bits, 1000);
  EXPECT_EQ(link_transport_block(120, 2, 0.8, 96).tb_bits, 96);
  // 112 + CRC16 = 128 bits in G = 120: rate > 0.95.
  EXPECT_THROW((void)link_transport_block(120, 2, 0.8, 112), std::invalid_argument);
  EXPECT_THROW((void)link_transport_block(2000, 2, 0.5, 23), std::invalid_argument);       // below 24
  EXPECT_THROW((void)link_transport_block(2000, 2, 0.5, 1277993), std::invalid_argument);  // above the largest TBS
  EXPECT_THROW((void)link_transport_block(40000, 2, 0.5, 8457), std::invalid_argument);    // not segmentable
  EXPECT_THROW((void)link_transport_block(2000, 2, 0.5, -1), std::invalid_argument);
}

TEST(LinkCoding, BadFrameOrRateIsRejectedWithTheValue) {
  // G = 100, R = 0.9: N_info = 90 → TBS 88, B = 104 > 0.95·100.
  try {
    (void)link_transport_block(100, 2, 0.9);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("effective code rate"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)link_transport_block(101, 2, 0.5), std::invalid_argument);  // G not a multiple of Qm
  EXPECT_THROW((void)link_transport_block(0, 2, 0.5), std::invalid_argument);
  EXPECT_THROW((void)link_transport_block(200, 0, 0.5), std::invalid_argument);
  EXPECT_THROW((void)link_transport_block(200, 2, 0.0), std::invalid_argument);
  EXPECT_THROW((void)link_transport_block(200, 2, 1.0), std::invalid_argument);
}

TEST(LinkCoding, SizedBlocksRoundTripTheChain) {
  for (const auto& [g, qm, r] : {std::tuple{288, 2, 0.5}, std::tuple{3000, 4, 0.75}, std::tuple{30000, 2, 0.5}}) {
    const auto cfg = link_transport_block(g, qm, r);
    transport_block_encoder enc(cfg);
    transport_block_decoder dec(cfg);
    rng gen(derive_seed(3, {static_cast<std::uint64_t>(g)}));
    std::vector<std::uint8_t> payload(static_cast<std::size_t>(cfg.tb_bits));
    gen.fill_bits(payload);
    std::vector<std::uint8_t> coded(static_cast<std::size_t>(g));
    enc.encode(coded, payload);
    std::vector<float> llr(coded.size());
    for (std::size_t i = 0; i < coded.size(); ++i) {
      llr[i] = coded[i] ? -4.0f : 4.0f;
    }
    std::vector<std::uint8_t> out(payload.size());
    const auto res = dec.decode(out, llr);
    EXPECT_TRUE(res.tb_crc_ok) << "G=" << g;
    EXPECT_EQ(out, payload) << "G=" << g;
    EXPECT_LE(effective_code_rate(cfg), kMaxEffectiveCodeRate);
  }
}

}  // namespace
}  // namespace amimo::fec
