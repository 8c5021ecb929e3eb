#include <amimo/fec/crc.h>

#include <array>
#include <stdexcept>
#include <string>

namespace amimo::fec {
namespace {

struct crc_spec {
  int length;
  std::uint32_t poly;  // g(D) without the D^L term, D^{L-1} in the top bit
};

constexpr crc_spec spec_of(crc_type type) noexcept {
  switch (type) {
    case crc_type::crc24a: return {24, 0x864CFBu};
    case crc_type::crc24b: return {24, 0x800063u};
    case crc_type::crc16: return {16, 0x1021u};
  }
  return {24, 0x864CFBu};
}

// Byte-at-a-time table of the register update for 8 input bits (MSB first).
template <crc_type Type>
constexpr std::array<std::uint32_t, 256> make_table() {
  constexpr crc_spec s = spec_of(Type);
  const std::uint32_t top = 1u << (s.length - 1);
  const std::uint32_t mask = (s.length == 32) ? 0xFFFFFFFFu : ((1u << s.length) - 1u);
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t r = byte << (s.length - 8);
    for (int i = 0; i < 8; ++i) {
      r = (r & top) ? ((r << 1) ^ s.poly) : (r << 1);
    }
    t[byte] = r & mask;
  }
  return t;
}
constexpr auto kTable24a = make_table<crc_type::crc24a>();
constexpr auto kTable24b = make_table<crc_type::crc24b>();
constexpr auto kTable16 = make_table<crc_type::crc16>();

const std::array<std::uint32_t, 256>& table_of(crc_type type) noexcept {
  switch (type) {
    case crc_type::crc24a: return kTable24a;
    case crc_type::crc24b: return kTable24b;
    case crc_type::crc16: return kTable16;
  }
  return kTable24a;
}

}  // namespace

int crc_length(crc_type type) noexcept { return spec_of(type).length; }

std::uint32_t crc_remainder(crc_type type, std::span<const std::uint8_t> bits) noexcept {
  const crc_spec s = spec_of(type);
  const auto& table = table_of(type);
  const std::uint32_t mask = (1u << s.length) - 1u;
  const std::uint32_t top = 1u << (s.length - 1);
  std::uint32_t r = 0;
  std::size_t i = 0;
  for (; i + 8 <= bits.size(); i += 8) {
    std::uint32_t byte = 0;
    for (std::size_t b = 0; b < 8; ++b) {
      byte = (byte << 1) | (bits[i + b] & 1u);
    }
    r = ((r << 8) & mask) ^ table[((r >> (s.length - 8)) ^ byte) & 0xFFu];
  }
  for (; i < bits.size(); ++i) {
    const bool feedback = ((r & top) != 0) != ((bits[i] & 1u) != 0);
    r = (r << 1) & mask;
    if (feedback) {
      r ^= s.poly;
    }
  }
  return r;
}

void crc_parity_bits(crc_type type, std::span<std::uint8_t> parity, std::span<const std::uint8_t> bits) {
  const int l = crc_length(type);
  if (static_cast<int>(parity.size()) != l) {
    throw std::invalid_argument("crc_parity_bits: parity must hold " + std::to_string(l) + " bits");
  }
  const std::uint32_t r = crc_remainder(type, bits);
  for (int k = 0; k < l; ++k) {
    parity[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>((r >> (l - 1 - k)) & 1u);
  }
}

bool crc_check(crc_type type, std::span<const std::uint8_t> bits_with_parity) noexcept {
  if (static_cast<int>(bits_with_parity.size()) < crc_length(type)) {
    return false;
  }
  return crc_remainder(type, bits_with_parity) == 0;
}

}  // namespace amimo::fec
