#pragma once
// Sizing one user's transport block for a frame: G coded bits at Q_m bits per symbol and a
// target code rate R → the transport_block_config the encoder and decoder take.
//
// The TBS is TS 38.214 §5.1.3.2 with N_RE = G / Q_m and one layer (N_info = G·R), unless the
// caller gives tb_bits > 0. Either way the block is checked: A in [24, 1277992], segmentable
// (§5.2.2), every code block gets at least Q_m bits, and the effective code rate
// B'/G = (A + CRC bits)/G is at most 0.95 (38.214 §5.1.3.1: a UE is not expected to decode
// above it). Bad input throws std::invalid_argument saying which value and why.
#include <amimo/fec/transport_block.h>

namespace amimo::fec {

// 38.214 §5.1.3.1: the largest effective code rate a receiver is expected to decode.
inline constexpr double kMaxEffectiveCodeRate = 0.95;

// (A + TB CRC + C·CB CRC) / G of a configuration (segmentation per §5.2.2).
[[nodiscard]] double effective_code_rate(const transport_block_config& cfg);

// g_bits: G > 0, a multiple of qm; qm in 1..10; code_rate in (0, 1); tb_bits: 0 for the
// standard's TBS, else A itself.
[[nodiscard]] transport_block_config link_transport_block(int g_bits, int qm, double code_rate, int tb_bits = 0);

}  // namespace amimo::fec
