#include <amimo/payload/framing.h>

#include <amimo/core/error.h>
#include <amimo/fec/link_coding.h>

#include <algorithm>
#include <stdexcept>

namespace amimo::payload {

coding_kind parse_coding(const std::string& text) {
  if (text == "none") return coding_kind::none;
  if (text == "ldpc") return coding_kind::ldpc;
  throw config_error("coding must be none or ldpc, got '" + text + "'");
}

const char* to_string(coding_kind k) noexcept { return k == coding_kind::ldpc ? "ldpc" : "none"; }

void validate(const coding_config& c) {
  if (!(c.code_rate > 0.0 && c.code_rate < 1.0)) throw config_error("code_rate must be in (0, 1)");
  if (c.tb_bits < 0) throw config_error("tb_bits must be ≥ 0 (0: from the code rate)");
  if (c.ldpc_iterations < 1 || c.ldpc_iterations > 100) throw config_error("ldpc_iterations must be in [1, 100]");
  if (c.payload_chain < 0) throw config_error("payload_chain must be ≥ 0");
  if (c.kind == coding_kind::none) {
    for (const auto& p : c.payloads) {
      if (!p.empty() && p != "prbs") throw config_error("payload: user payloads need coding: ldpc (CRC-checked blocks)");
    }
    if (!c.payload_out.empty()) throw config_error("payload_out: needs coding: ldpc");
  }
}

coded_layout make_coded_layout(const ofdm::frame_layout& layout, const coding_config& c) {
  validate(c);
  coded_layout out;
  const std::size_t bps = layout.bits_per_symbol();
  const std::size_t bits = layout.bits_per_user();
  out.header_bits = std::min(kMaxHeaderBits, bits / 4) / bps * bps;
  out.g_bits = bits - out.header_bits;
  if (c.tb_bits % 8 != 0) throw config_error("tb_bits must be a multiple of 8 (whole payload bytes)");
  try {
    // One transport block per user and frame: TBS per 38.214 §5.1.3.2 from G and R (or the
    // given A), validated (segmentable, effective rate ≤ 0.95) by fec::link_transport_block.
    out.tb = fec::link_transport_block(static_cast<int>(out.g_bits), static_cast<int>(bps), c.code_rate, c.tb_bits);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("coding: ") + e.what());
  }
  if (out.tb.tb_bits % 8 != 0) throw config_error("the transport block size is not whole bytes");
  if (static_cast<std::size_t>(out.tb.tb_bits) / 8 <= kBlockHeaderBytes)
    throw config_error("the transport block (" + std::to_string(out.tb.tb_bits) +
                       " bits) is too small for the 13-byte block header: raise code_rate or use a larger frame");
  return out;
}

namespace {
void put_be(std::uint8_t* p, std::uint64_t v, int bytes) noexcept {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v & 0xFFU);
    v >>= 8U;
  }
}
std::uint64_t get_be(const std::uint8_t* p, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8U) | p[i];
  return v;
}
}  // namespace

void pack_block(std::span<std::uint8_t> tb, const block_header& h, std::span<const std::uint8_t> payload) {
  if (tb.size() <= kBlockHeaderBytes || payload.size() > tb.size() - kBlockHeaderBytes || payload.size() != h.length)
    throw std::invalid_argument("pack_block: payload does not fit the transport block");
  put_be(tb.data(), h.offset, 8);
  put_be(tb.data() + 8, h.length, 4);
  tb[12] = h.last ? 1U : 0U;
  std::copy(payload.begin(), payload.end(), tb.begin() + kBlockHeaderBytes);
  std::fill(tb.begin() + static_cast<std::ptrdiff_t>(kBlockHeaderBytes + payload.size()), tb.end(), std::uint8_t{0});
}

std::optional<block_header> unpack_block(std::span<const std::uint8_t> tb) {
  if (tb.size() <= kBlockHeaderBytes) return std::nullopt;
  block_header h;
  h.offset = get_be(tb.data(), 8);
  const std::uint64_t length = get_be(tb.data() + 8, 4);
  if (length > tb.size() - kBlockHeaderBytes || (tb[12] & ~1U) != 0) return std::nullopt;
  // The offset must leave room for the length without wrapping.
  if (h.offset > UINT64_MAX - length) return std::nullopt;
  h.length = static_cast<std::uint32_t>(length);
  h.last = (tb[12] & 1U) != 0;
  return h;
}

void bytes_to_bits(std::span<std::uint8_t> bits, std::span<const std::uint8_t> bytes) noexcept {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned b = 0; b < 8; ++b) bits[8 * i + b] = static_cast<std::uint8_t>((bytes[i] >> (7U - b)) & 1U);
  }
}

void bits_to_bytes(std::span<std::uint8_t> bytes, std::span<const std::uint8_t> bits) noexcept {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned v = 0;
    for (unsigned b = 0; b < 8; ++b) v = (v << 1U) | (bits[8 * i + b] & 1U);
    bytes[i] = static_cast<std::uint8_t>(v);
  }
}

}  // namespace amimo::payload
