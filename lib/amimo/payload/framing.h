#pragma once
// The coded link's framing (amimo-ue → amimo-bs with 5G NR LDPC, README "Streaming uplink").
//
// Per user and frame the data bits (frame_layout::bits_per_user) are:
//   [0, H)      header: the frame's PRBS bits, known to the receiver: they identify the frame
//               index (pipeline/frame_identifier.h) whatever the payload, and are scored as
//               the uncoded BER/EVM reference;
//   [H, H + G)  one LDPC transport block (TS 38.212, fec/transport_block.h), G = bits − H
//               coded bits, XOR-scrambled with the same PRBS bits [H, H + G) of the frame (so
//               the waveform stays white whatever the payload, and a stale frame never decodes
//               as the right one).
// H = min(1024, bits/4) rounded down to whole symbols. The TB has A = TBS bits (38.214
// §5.1.3.2 from G/Q_m resource elements, the code rate and Q_m; or a given --tb-bits),
// A/8 bytes, MSB first:
//   bytes 0..7    stream offset of the block's first payload byte (uint64, big-endian)
//   bytes 8..11   payload length n in bytes (uint32, big-endian), n ≤ A/8 − 13
//   byte 12       flags: bit 0 = the last block of the user's stream; other bits 0
//   bytes 13..    n payload bytes, then zero padding to A/8
// So the last, partial block's true length is recoverable, and a receiver that lost a block
// knows exactly which bytes are missing. A block with n = 0 carries nothing (sent after the
// stream ended, or while a live source has no data).

#include <amimo/fec/transport_block.h>
#include <amimo/ofdm/frame.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace amimo::payload {

enum class coding_kind { none, ldpc };
coding_kind parse_coding(const std::string& text);  ///< "none" | "ldpc" (throws config_error)
const char* to_string(coding_kind k) noexcept;

/// What amimo-ue and amimo-bs must agree on (link config keys coding, code_rate, tb_bits,
/// ldpc_iterations) and each side's payload ends (payload, payload_out, payload_chain).
struct coding_config {
  coding_kind kind = coding_kind::none;
  double code_rate = 0.5;
  int tb_bits = 0;               ///< 0: TBS from the code rate (38.214); > 0: this A (validated)
  int ldpc_iterations = 10;      ///< decoder maximum (early termination on the parity checks)
  std::vector<std::string> payloads;  ///< amimo-ue, per user: prbs | FILE | zmq-pull:ENDPOINT (one entry: all users)
  std::string payload_out;       ///< amimo-bs: DIR | zmq-push:ENDPOINT (empty: none)
  int payload_chain = 0;         ///< amimo-bs: the chain whose decoded payload is output
};

/// Validates ranges (throws config_error naming the key).
void validate(const coding_config& c);

inline constexpr std::size_t kMaxHeaderBits = 1024;
inline constexpr std::size_t kBlockHeaderBytes = 13;

struct coded_layout {
  std::size_t header_bits = 0;  ///< H
  std::size_t g_bits = 0;       ///< G
  fec::transport_block_config tb;
  std::size_t tb_bytes() const noexcept { return static_cast<std::size_t>(tb.tb_bits) / 8; }
  std::size_t capacity() const noexcept { return tb_bytes() - kBlockHeaderBytes; }  ///< payload bytes per block
};

/// The coded layout of a frame (throws config_error when the TB does not fit or is too small
/// for the block header).
coded_layout make_coded_layout(const ofdm::frame_layout& layout, const coding_config& c);

struct block_header {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  bool last = false;
};

/// Writes header + payload + zero padding into tb (tb_bytes); payload.size() ≤ capacity.
void pack_block(std::span<std::uint8_t> tb, const block_header& h, std::span<const std::uint8_t> payload);
/// Reads the header of a decoded TB; nullopt when it is not a valid header (length beyond
/// the capacity, unknown flags): such a block is counted as malformed, never written.
std::optional<block_header> unpack_block(std::span<const std::uint8_t> tb);

/// Bytes → bits MSB first (bits.size() = 8 · bytes.size()) and back.
void bytes_to_bits(std::span<std::uint8_t> bits, std::span<const std::uint8_t> bytes) noexcept;
void bits_to_bytes(std::span<std::uint8_t> bytes, std::span<const std::uint8_t> bits) noexcept;

}  // namespace amimo::payload
