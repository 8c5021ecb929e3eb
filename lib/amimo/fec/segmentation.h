#pragma once
// Transport-block sizing and code-block segmentation for the NR shared channel:
//  - base-graph selection, TS 38.212 §7.2.2 (UL-SCH; §7.2.2 of DL-SCH reads the same),
//  - transport-block CRC length (§7.2.1: CRC24A when A > 3824, else CRC16),
//  - code-block segmentation with filler bits, §5.2.2,
//  - rate-matching output lengths E_r per code block, §5.4.2.1,
//  - transport-block size determination, TS 38.214 §5.1.3.2 (steps 1–4).
// Bad input (A or rate out of range) throws std::invalid_argument naming the value.
#include <amimo/fec/crc.h>
#include <amimo/fec/ldpc_base_graph.h>

#include <vector>

namespace amimo::fec {

// §7.2.2: BG2 when A ≤ 292, or A ≤ 3824 and R ≤ 0.67, or R ≤ 0.25; BG1 otherwise.
[[nodiscard]] base_graph select_base_graph(int tb_bits, double code_rate);

struct code_block_segmentation {
  base_graph bg = base_graph::bg1;
  int tb_bits = 0;        // A
  crc_type tb_crc = crc_type::crc24a;
  int tb_crc_bits = 0;    // 24 or 16
  int b = 0;              // B = A + tb_crc_bits
  int blocks = 0;         // C
  int cb_crc_bits = 0;    // L: 24 (CRC24B) when C > 1, else 0
  int b_prime = 0;        // B' = B + C·L
  int k_prime = 0;        // K' = B'/C: payload + CB CRC bits per block
  int kb = 0;             // information block columns used by the lifting-size choice
  int z = 0;              // Z_c
  int k = 0;              // K = 22·Z_c (BG1) or 10·Z_c (BG2)
  int filler_bits = 0;    // F = K − K'
  [[nodiscard]] int payload_bits_per_block() const noexcept { return k_prime - cb_crc_bits; }
};

// §5.2.2 (with the TB CRC of §7.2.1 added to A first). A in [24, 1277992] (the largest TBS
// of 38.214 with 4 layers is well inside).
[[nodiscard]] code_block_segmentation segment_transport_block(int tb_bits, base_graph bg);

// §5.4.2.1: E_r for r = 0..C−1 given G coded bits for the TB, Q_m bits per symbol, N_L layers.
[[nodiscard]] std::vector<int> rate_matched_lengths(int g_bits, int blocks, int qm, int layers = 1);

// TS 38.214 §5.1.3.2: TBS from N_RE (resource elements), R (target code rate, e.g. 0.5),
// Q_m and ν layers: N_info = N_RE·R·Q_m·ν, then quantisation and Table 5.1.3.2-1 or the
// formula for N_info > 3824.
[[nodiscard]] int transport_block_size(int n_re, double code_rate, int qm, int layers = 1);

}  // namespace amimo::fec
