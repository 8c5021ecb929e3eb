#pragma once
// The LDPC transport-block chain of TS 38.212 §7.2 (UL-SCH) without multiplexing or scrambling:
//   A payload bits → CRC (§7.2.1: CRC24A, or CRC16 when A ≤ 3824) → base graph (§7.2.2) →
//   code-block segmentation + CRC24B + filler bits (§5.2.2) → LDPC encoding (§5.3.2) →
//   rate matching + bit interleaving per block (§5.4.2) → concatenation (§5.5) into G bits.
// and its inverse on LLRs (ln P(0)/P(1)): de-interleaving, rate de-matching, decoding, CB and
// TB CRC checks. Buffers are sized at construction; encode/decode do not allocate.
#include <amimo/fec/ldpc_decoder.h>
#include <amimo/fec/rate_matching.h>
#include <amimo/fec/segmentation.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace amimo::fec {

struct transport_block_config {
  int tb_bits = 0;          // A (a 38.214 TBS; see transport_block_size)
  double code_rate = 0.5;   // target R, for the base-graph choice
  int qm = 2;               // modulation order (bits per symbol)
  int g_bits = 0;           // G: coded bits available for the TB (multiple of qm·layers)
  int layers = 1;
  int rv = 0;               // redundancy version 0..3
};

class transport_block_encoder {
 public:
  explicit transport_block_encoder(const transport_block_config& cfg);  // throws on bad config
  [[nodiscard]] const code_block_segmentation& segmentation() const noexcept { return seg_; }
  // out: G bits; payload: A bits.
  void encode(std::span<std::uint8_t> out, std::span<const std::uint8_t> payload);

 private:
  transport_block_config cfg_;
  code_block_segmentation seg_;
  ldpc_code code_;
  std::vector<int> e_;
  std::vector<std::uint8_t> tb_;    // A + CRC
  std::vector<std::uint8_t> info_;  // K
  std::vector<std::uint8_t> d_;     // N
};

struct transport_block_decode_result {
  // The TB CRC passes and every code block passed its CRC24B (C > 1) or all its parity
  // checks (C = 1), and no code block was received without information (all LLRs 0 or
  // NaN: counted as a failed block): only then may the payload be used.
  bool tb_crc_ok = false;
  int blocks = 0;
  int block_crc_failures = 0;  // C > 1 only (CRC24B); parity failures otherwise; erased blocks
  int max_iterations = 0;      // over the code blocks
  int total_iterations = 0;
};

class transport_block_decoder {
 public:
  transport_block_decoder(const transport_block_config& cfg, ldpc_decoder_kind kind = ldpc_decoder_kind::layered_min_sum,
                          const ldpc_decoder_config& decoder_cfg = {});
  [[nodiscard]] const code_block_segmentation& segmentation() const noexcept { return seg_; }
  // payload_out: A bits (written even when the CRC fails — check the result); llr: G values.
  transport_block_decode_result decode(std::span<std::uint8_t> payload_out, std::span<const float> llr);

 private:
  transport_block_config cfg_;
  code_block_segmentation seg_;
  std::unique_ptr<ldpc_decoder> decoder_;
  std::vector<int> e_;
  std::vector<std::uint8_t> tb_;
  std::vector<std::uint8_t> info_;
  std::vector<float> d_llr_;
};

}  // namespace amimo::fec
