#pragma once
// LDPC decoders for the 5G NR codes of ldpc_code.h.
//
// Input: the N = (nb−2)·Z LLRs of d_0..d_{N-1} (rate_dematch's output), LLR = ln P(b=0)/P(b=1)
// (positive means bit 0, as amimo's demapper), 0 for bits never sent, large positive for filler
// bits. The punctured first 2Z systematic bits start at 0. Only the block rows whose parity
// column received some LLR are decoded (a row whose degree-1 parity bit has LLR 0 carries no
// information), so decoding a high-rate transmission costs less than a low-rate one.
// Output: hard decisions on the K = kb·Z information bits c_0..c_{K-1} (filler bits included).
//
// Decoders keep their buffers from construction: decode() does not allocate. One instance per
// thread.
#include <amimo/fec/ldpc_code.h>

#include <cstdint>
#include <memory>
#include <span>

namespace amimo::fec {

enum class ldpc_decoder_kind : std::uint8_t {
  layered_min_sum,  // layered normalised min-sum, int8 messages, AVX2 across the Z lanes
  reference_bp,     // flooding sum-product (tanh rule) in double precision: slow, a reference
};

struct ldpc_decoder_config {
  int max_iterations = 10;
  // Min-sum normalisation α (check messages scaled by α), in (0, 1]; the int8 kernel rounds it
  // to a multiple of 1/16. Ignored by reference_bp.
  float normalisation = 0.75f;
  // Stop as soon as the hard decisions satisfy every decoded parity check.
  bool early_termination = true;
  // int8 quantisation of input LLRs: q = clamp(round(LLR·llr_scale), ±127). Ignored by reference_bp.
  float llr_scale = 4.0f;
};

struct ldpc_decode_result {
  int iterations = 0;      // iterations run
  bool parity_ok = false;  // hard decisions satisfy all decoded parity checks
  // Channel values the decoder read as non-zero (after its int8 quantisation: |LLR| ≥ 1/8
  // at the default scale; NaN reads as 0). Fewer than the K information bits: a decode is
  // impossible, the output partly ties (0), and the all-zero word passes every check.
  int read_values = 0;
};

class ldpc_decoder {
 public:
  virtual ~ldpc_decoder() = default;
  [[nodiscard]] virtual const ldpc_code& code() const noexcept = 0;
  // info_out: K bits; llr: N values. Throws std::invalid_argument on wrong sizes.
  virtual ldpc_decode_result decode(std::span<std::uint8_t> info_out, std::span<const float> llr) = 0;
};

// Throws std::invalid_argument for a bad Z or configuration (iterations < 1, α outside (0, 1],
// llr_scale ≤ 0).
[[nodiscard]] std::unique_ptr<ldpc_decoder> create_ldpc_decoder(ldpc_decoder_kind kind, base_graph bg, int z,
                                                                 const ldpc_decoder_config& config = {});

// Whether the layered decoder was built with its AVX2 kernel (else the portable scalar one).
[[nodiscard]] bool ldpc_decoder_uses_avx2() noexcept;

}  // namespace amimo::fec
