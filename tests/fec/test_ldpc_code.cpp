// Encoder (H·c = 0 for every lifting size and both base graphs), CRC vectors, and the
// decoders on noiseless and lightly corrupted input.
#include <amimo/core/rng.h>
#include <amimo/fec/crc.h>
#include <amimo/fec/ldpc_code.h>
#include <amimo/fec/ldpc_decoder.h>

#include <gtest/gtest.h>

#include <limits>
#include <string_view>
#include <vector>

namespace amimo::fec {
namespace {

std::vector<std::uint8_t> random_bits(std::size_t n, std::uint64_t seed) {
  rng gen(seed);
  std::vector<std::uint8_t> bits(n);
  gen.fill_bits(bits);
  return bits;
}

TEST(LdpcEncoder, EveryCodewordSatisfiesHForEveryLiftingSizeAndBothBaseGraphs) {
  for (base_graph bg : {base_graph::bg1, base_graph::bg2}) {
    for (int z : lifting_sizes()) {
      const ldpc_code code(bg, z);
      std::vector<std::uint8_t> full(static_cast<std::size_t>(code.full_codeword_bits()));
      std::vector<std::uint8_t> d(static_cast<std::size_t>(code.codeword_bits()));
      for (std::uint64_t trial = 0; trial < 2; ++trial) {
        const auto info = random_bits(static_cast<std::size_t>(code.info_bits()),
                                      derive_seed(1, {static_cast<std::uint64_t>(bg), static_cast<std::uint64_t>(z), trial}));
        code.encode_full(full, info);
        ASSERT_EQ(code.unsatisfied_checks(full), 0) << "BG" << int(bg) << " Z=" << z;
        // Systematic: the first K bits are the information.
        ASSERT_TRUE(std::equal(info.begin(), info.end(), full.begin()));
        // The punctured form is the full codeword without its first 2Z bits.
        code.encode(d, info);
        ASSERT_TRUE(std::equal(d.begin(), d.end(), full.begin() + 2 * z)) << "BG" << int(bg) << " Z=" << z;
        // The parity part is not trivially zero, and one flipped bit breaks some check.
        EXPECT_GT(std::count(full.begin() + code.info_bits(), full.end(), std::uint8_t{1}), 0);
        full[static_cast<std::size_t>(z + 1)] ^= 1u;
        EXPECT_GT(code.unsatisfied_checks(full), 0);
      }
    }
  }
}

TEST(LdpcEncoder, RejectsBadLiftingSizeAndBufferSizes) {
  EXPECT_THROW(ldpc_code(base_graph::bg1, 17), std::invalid_argument);
  EXPECT_THROW(ldpc_code(base_graph::bg2, 400), std::invalid_argument);
  const ldpc_code code(base_graph::bg2, 8);
  std::vector<std::uint8_t> info(79), d(static_cast<std::size_t>(code.codeword_bits()));
  EXPECT_THROW(code.encode(d, info), std::invalid_argument);
}

std::vector<std::uint8_t> ascii_bits(std::string_view s) {
  std::vector<std::uint8_t> bits;
  for (unsigned char c : s) {
    for (int i = 7; i >= 0; --i) {
      bits.push_back(static_cast<std::uint8_t>((c >> i) & 1u));
    }
  }
  return bits;
}

// Check values of the CRC catalogue (Greg Cook, "reveng"): CRC-24/LTE-A (poly 0x864cfb),
// CRC-24/LTE-B (0x800063) and CRC-16/XMODEM (0x1021), all init 0, unreflected, on "123456789".
TEST(Crc, CatalogueCheckValues) {
  const auto msg = ascii_bits("123456789");
  EXPECT_EQ(crc_remainder(crc_type::crc24a, msg), 0xCDE703u);
  EXPECT_EQ(crc_remainder(crc_type::crc24b, msg), 0x23EF52u);
  EXPECT_EQ(crc_remainder(crc_type::crc16, msg), 0x31C3u);
}

TEST(Crc, AttachedParityLeavesZeroRemainderAndCatchesErrors) {
  for (crc_type type : {crc_type::crc24a, crc_type::crc24b, crc_type::crc16}) {
    for (std::size_t n : {1u, 7u, 8u, 24u, 1001u, 8424u}) {
      auto bits = random_bits(n, derive_seed(2, {n, static_cast<std::uint64_t>(type)}));
      const auto l = static_cast<std::size_t>(crc_length(type));
      bits.resize(n + l);
      crc_parity_bits(type, std::span(bits).subspan(n), std::span(bits).first(n));
      EXPECT_TRUE(crc_check(type, bits));
      // Every single-bit error and every burst of length ≤ L is detected.
      for (std::size_t pos : {std::size_t{0}, n / 2, n + l - 1}) {
        bits[pos] ^= 1u;
        EXPECT_FALSE(crc_check(type, bits)) << "n=" << n << " pos=" << pos;
        bits[pos] ^= 1u;
      }
      if (n + l > l) {
        for (std::size_t i = 0; i < l; ++i) {
          bits[i] ^= 1u;
        }
        EXPECT_FALSE(crc_check(type, bits));
      }
    }
  }
}

std::vector<float> bpsk_llrs(std::span<const std::uint8_t> bits, float magnitude) {
  std::vector<float> llr(bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i) {
    llr[i] = bits[i] ? -magnitude : magnitude;  // positive LLR means bit 0
  }
  return llr;
}

// Both decoders on clean input and on input with some wrong-sign, weak LLRs and erasures.
TEST(LdpcDecoder, CorrectsSignErrorsAndErasuresOnBothBaseGraphs) {
  for (auto kind : {ldpc_decoder_kind::layered_min_sum, ldpc_decoder_kind::reference_bp}) {
    for (base_graph bg : {base_graph::bg1, base_graph::bg2}) {
      for (int z : {2, 15, 36, 64, 384}) {
        if (kind == ldpc_decoder_kind::reference_bp && z > 64) {
          continue;
        }
        const ldpc_code code(bg, z);
        auto dec = create_ldpc_decoder(kind, bg, z, {.max_iterations = 30});
        const auto info = random_bits(static_cast<std::size_t>(code.info_bits()), derive_seed(3, {static_cast<std::uint64_t>(z)}));
        std::vector<std::uint8_t> d(static_cast<std::size_t>(code.codeword_bits()));
        code.encode(d, info);
        std::vector<std::uint8_t> out(info.size());

        auto llr = bpsk_llrs(d, 6.0f);
        auto res = dec->decode(out, llr);
        EXPECT_TRUE(res.parity_ok);
        EXPECT_EQ(res.iterations, 1) << "clean input passes the parity check after one iteration";
        EXPECT_EQ(out, info);

        rng gen(derive_seed(4, {static_cast<std::uint64_t>(z)}));
        for (std::size_t i = 0; i < llr.size(); ++i) {
          const double u = gen.uniform();
          if (u < 0.02) {
            llr[i] = -0.5f * llr[i] / 6.0f;  // wrong sign, weak
          } else if (u < 0.06) {
            llr[i] = 0.0f;  // erased
          }
        }
        res = dec->decode(out, llr);
        EXPECT_TRUE(res.parity_ok) << "BG" << int(bg) << " Z=" << z;
        EXPECT_EQ(out, info) << "BG" << int(bg) << " Z=" << z;
      }
    }
  }
}

// The sign convention: all-positive LLRs decode to the all-zero codeword; flipping the sign of
// every LLR of a codeword decodes to nothing consistent with the original.
TEST(LdpcDecoder, PositiveLlrMeansZero) {
  auto dec = create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, base_graph::bg2, 52);
  const ldpc_code& code = dec->code();
  std::vector<float> llr(static_cast<std::size_t>(code.codeword_bits()), 3.0f);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(code.info_bits()), 1);
  EXPECT_TRUE(dec->decode(out, llr).parity_ok);
  EXPECT_EQ(std::count(out.begin(), out.end(), std::uint8_t{0}), static_cast<long>(out.size()));
  std::fill(llr.begin(), llr.end(), -3.0f);
  (void)dec->decode(out, llr);
  EXPECT_GT(std::count(out.begin(), out.end(), std::uint8_t{1}), 0);
}

TEST(LdpcDecoder, RejectsBadConfigurationAndSizes) {
  EXPECT_THROW((void)create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, base_graph::bg1, 384, {.max_iterations = 0}),
               std::invalid_argument);
  EXPECT_THROW((void)create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, base_graph::bg1, 384, {.normalisation = 1.5f}),
               std::invalid_argument);
  EXPECT_THROW((void)create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, base_graph::bg1, 384, {.llr_scale = 0.0f}),
               std::invalid_argument);
  EXPECT_THROW((void)create_ldpc_decoder(ldpc_decoder_kind::reference_bp, base_graph::bg1, 19), std::invalid_argument);
  auto dec = create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, base_graph::bg2, 8);
  std::vector<float> llr(10);
  std::vector<std::uint8_t> out(80);
  EXPECT_THROW((void)dec->decode(out, llr), std::invalid_argument);
}


// A NaN LLR is no information. The layered decoder's vector quantiser turned it into a
// full-scale "1" (and its scalar tail cast NaN to int8, undefined); the reference decoder let
// it spread through tanh, where every NaN < 0 test passed the parity checks. With every 10th
// LLR NaN on a clean codeword, both must decode it as they do with those LLRs at 0.
TEST(LdpcDecoders, NanLlrsAreErasures) {
  rng gen(12);
  for (const base_graph bg : {base_graph::bg1, base_graph::bg2}) {
    for (const int z : {15, 32, 384}) {
      const ldpc_code code(bg, z);
      std::vector<std::uint8_t> info(static_cast<std::size_t>(code.info_bits()));
      gen.fill_bits(info);
      std::vector<std::uint8_t> word(static_cast<std::size_t>(code.codeword_bits()));
      code.encode(word, info);
      std::vector<float> llr(word.size());
      for (std::size_t i = 0; i < word.size(); ++i) llr[i] = word[i] ? -6.0f : 6.0f;
      for (std::size_t i = 0; i < llr.size(); i += 10) llr[i] = std::numeric_limits<float>::quiet_NaN();
      for (const ldpc_decoder_kind kind : {ldpc_decoder_kind::layered_min_sum, ldpc_decoder_kind::reference_bp}) {
        if (kind == ldpc_decoder_kind::reference_bp && z > 32) continue;  // slow
        auto dec = create_ldpc_decoder(kind, bg, z);
        std::vector<std::uint8_t> out(info.size());
        const auto res = dec->decode(out, llr);
        EXPECT_TRUE(res.parity_ok) << static_cast<int>(bg) << " z=" << z << " kind " << static_cast<int>(kind);
        EXPECT_EQ(out, info) << static_cast<int>(bg) << " z=" << z << " kind " << static_cast<int>(kind);
      }
    }
  }
}

}  // namespace
}  // namespace amimo::fec
