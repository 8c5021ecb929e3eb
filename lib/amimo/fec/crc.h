#pragma once
// CRC of TS 38.212 §5.1 over bit sequences (one bit per std::uint8_t, a_0 first).
// The parity bits p_0..p_{L-1} are the remainder of a(D)·D^L mod g(D), register initialised
// to zero, no reflection, no final XOR; p_0 is the most significant remainder bit.
#include <cstdint>
#include <span>

namespace amimo::fec {

enum class crc_type : std::uint8_t {
  crc24a,  // g = D^24+D^23+D^18+D^17+D^14+D^11+D^10+D^7+D^6+D^5+D^4+D^3+D+1 (transport block)
  crc24b,  // g = D^24+D^23+D^6+D^5+D+1 (code block)
  crc16,   // g = D^16+D^12+D^5+1 (small transport blocks, A ≤ 3824)
};

[[nodiscard]] int crc_length(crc_type type) noexcept;

// The remainder of bits·D^L mod g as an L-bit integer (p_0 in the top bit).
[[nodiscard]] std::uint32_t crc_remainder(crc_type type, std::span<const std::uint8_t> bits) noexcept;

// Writes p_0..p_{L-1} of crc(bits) into parity (L bits).
void crc_parity_bits(crc_type type, std::span<std::uint8_t> parity, std::span<const std::uint8_t> bits);

// True when bits (payload followed by its L parity bits) has a zero remainder.
[[nodiscard]] bool crc_check(crc_type type, std::span<const std::uint8_t> bits_with_parity) noexcept;

}  // namespace amimo::fec
