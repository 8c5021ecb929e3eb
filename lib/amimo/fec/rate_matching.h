#pragma once
// LDPC rate matching, TS 38.212 §5.4.2: bit selection from the circular buffer (§5.4.2.1,
// all four redundancy versions, no limited-buffer rate matching: N_cb = N) and bit
// interleaving (§5.4.2.2); and their inverses on LLRs for the receiver.
//
// Filler bits (the <NULL> bits of §5.2.2, at c_{K'}..c_{K-1}, i.e. d_{K'-2Z}..d_{K-2Z-1}) are
// skipped by the bit selection; the inverse gives them a large positive LLR (known zeros).
#include <amimo/fec/ldpc_base_graph.h>

#include <cstdint>
#include <span>

namespace amimo::fec {

struct rate_match_config {
  base_graph bg = base_graph::bg1;
  int z = 0;             // lifting size
  int k = 0;             // K = 22·Z or 10·Z
  int filler_bits = 0;   // F
  int e = 0;             // E: output bits for this code block (multiple of qm)
  int qm = 2;            // bits per modulation symbol
  int rv = 0;            // redundancy version 0..3
};

// LLR magnitude given to filler bits by rate_dematch (ln P(0)/P(1) of a known zero).
inline constexpr float kFillerLlr = 1.0e4f;

// Throws std::invalid_argument when a field is out of range (names it).
void validate(const rate_match_config& cfg);
[[nodiscard]] int circular_buffer_bits(const rate_match_config& cfg) noexcept;  // N_cb = N
[[nodiscard]] int starting_position(const rate_match_config& cfg) noexcept;     // k_0 (Table 5.4.2.1-2)

// d: N = (nb−2)·Z encoded bits → f: E rate-matched, interleaved bits.
void rate_match(std::span<std::uint8_t> f, std::span<const std::uint8_t> d, const rate_match_config& cfg);

// f_llr: E received LLRs → d_llr: N LLRs. Positions sent more than once are summed, positions
// never sent are 0, filler positions are +kFillerLlr. No allocation.
void rate_dematch(std::span<float> d_llr, std::span<const float> f_llr, const rate_match_config& cfg);

}  // namespace amimo::fec
