// The vectorised layered min-sum decoder against the plain scalar model of its arithmetic
// (layered_min_sum_model.h), decision by decision: both base graphs, lifting sizes below,
// at and above the 32-lane vector width (multiples of 32 and not), noisy codewords mixed with
// saturating and wrong-sign LLRs and erasures, full and shortened transmissions, several
// iteration counts, normalisations and LLR scales, with and without early termination.
#include "layered_min_sum_model.h"

#include <amimo/core/rng.h>
#include <amimo/fec/ldpc_code.h>
#include <amimo/fec/ldpc_decoder.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace amimo::fec {
namespace {

// A codeword sent over BPSK AWGN (σ = 0.8, raw bit error rate about 10%), with 15% of the LLRs
// replaced by ±60 (90% right sign: they saturate the int8 input), 5% erased, and the
// transmission cut after `sent` of the N bits (the rest LLR 0, as rate_dematch leaves them).
std::vector<float> noisy_llrs(const ldpc_code& code, std::uint64_t seed, double sent) {
  rng gen(seed);
  std::vector<std::uint8_t> info(static_cast<std::size_t>(code.info_bits()));
  gen.fill_bits(info);
  std::vector<std::uint8_t> d(static_cast<std::size_t>(code.codeword_bits()));
  code.encode(d, info);
  std::vector<float> llr(d.size(), 0.0f);
  const auto n = static_cast<std::size_t>(sent * static_cast<double>(d.size()));
  constexpr double sigma = 0.8;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = d[i] ? -1.0 : 1.0;
    const double u = gen.uniform();
    if (u < 0.15) {
      llr[i] = static_cast<float>((gen.uniform() < 0.9 ? 60.0 : -60.0) * x);
    } else if (u < 0.20) {
      llr[i] = 0.0f;
    } else {
      llr[i] = static_cast<float>(2.0 * (x + sigma * gen.normal()) / (sigma * sigma));
    }
  }
  return llr;
}

TEST(LdpcLayeredDecoder, DecisionsEqualTheScalarModel) {
  const std::vector<ldpc_decoder_config> configs = {
      {.max_iterations = 1, .early_termination = false},
      {.max_iterations = 4, .normalisation = 0.75f, .early_termination = false},
      {.max_iterations = 10, .normalisation = 0.5f, .early_termination = true, .llr_scale = 2.0f},
      {.max_iterations = 3, .normalisation = 1.0f, .early_termination = true, .llr_scale = 16.0f},
  };
  struct size_case {
    base_graph bg;
    int z;
  };
  const std::vector<size_case> sizes = {{base_graph::bg1, 2},   {base_graph::bg1, 15},  {base_graph::bg1, 32},
                                        {base_graph::bg1, 36},  {base_graph::bg1, 64},  {base_graph::bg1, 208},
                                        {base_graph::bg1, 384}, {base_graph::bg2, 3},   {base_graph::bg2, 30},
                                        {base_graph::bg2, 52},  {base_graph::bg2, 176}, {base_graph::bg2, 384}};
  int decoded = 0;
  int differing_from_input = 0;
  for (const auto& sz : sizes) {
    const ldpc_code code(sz.bg, sz.z);
    for (std::size_t k = 0; k < configs.size(); ++k) {
      auto dec = create_ldpc_decoder(ldpc_decoder_kind::layered_min_sum, sz.bg, sz.z, configs[k]);
      std::vector<std::uint8_t> out(static_cast<std::size_t>(code.info_bits()));
      for (double sent : {1.0, 0.45}) {
        const auto seed = derive_seed(16, {static_cast<std::uint64_t>(sz.z), static_cast<std::uint64_t>(sz.bg), k,
                                           static_cast<std::uint64_t>(sent * 100)});
        const auto llr = noisy_llrs(code, seed, sent);
        const auto got = dec->decode(out, llr);
        const auto want = testing::layered_min_sum_model(code, llr, configs[k]);
        const std::string where = "BG" + std::to_string(static_cast<int>(sz.bg)) + " Z=" + std::to_string(sz.z) +
                                  " config " + std::to_string(k) + " sent " + std::to_string(sent);
        EXPECT_EQ(got.iterations, want.iterations) << where;
        EXPECT_EQ(got.parity_ok, want.parity_ok) << where;
        EXPECT_EQ(out, want.info) << where;
        ++decoded;
        // The decoding must have done something: decisions differ from the channel's signs.
        for (std::size_t i = 2 * static_cast<std::size_t>(sz.z); i < out.size(); ++i) {
          if ((llr[i - 2 * static_cast<std::size_t>(sz.z)] < 0.0f) != (out[i] != 0)) {
            ++differing_from_input;
            break;
          }
        }
      }
    }
  }
  EXPECT_GT(differing_from_input, decoded / 2) << "the inputs are too clean to exercise the decoder";
}

}  // namespace
}  // namespace amimo::fec
