#pragma once
// amimo-ue's payload side: per user a byte source (the seeded PRBS bytes by default, a file,
// or a ZeroMQ PULL socket) cut into transport blocks (framing.h), LDPC-encoded and scrambled
// into the frame's data bits. Implements ofdm::frame_data_source for the uplink emulator.

#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/payload/framing.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace amimo::payload {

class byte_source {
 public:
  virtual ~byte_source() = default;
  /// Up to out.size() bytes available now (never blocks); returns the count.
  virtual std::size_t read(std::span<std::uint8_t> out) = 0;
  /// No byte will come after those read (a finite source exhausted).
  virtual bool ended() const noexcept = 0;
  /// Whether the source ever ends (the PRBS source does not).
  virtual bool finite() const noexcept = 0;
};

/// spec: "prbs" (or empty) | "zmq-pull:ENDPOINT" (connects; every message is appended, an
/// empty message ends the stream; messages ≤ 16 MiB) | a file path (a regular file). Throws
/// io_error for a missing or unreadable file (exit status 3), config_error for a bad endpoint.
std::unique_ptr<byte_source> open_byte_source(const std::string& spec, std::uint64_t seed, int user);

/// The frame data of every user in the coded link: header PRBS, then the scrambled TB.
class coded_transmitter final : public ofdm::frame_data_source {
 public:
  coded_transmitter(const ofdm::frame_layout& layout, const coding_config& coding, std::uint64_t seed);
  void data_bits(std::span<bit> out, int user, std::uint64_t frame_index) override;

  const coded_layout& layout() const noexcept { return coded_; }
  /// Every user's source is finite and its last block has been sent.
  bool all_sent() const noexcept;
  std::uint64_t payload_bytes_sent(int user) const noexcept { return users_[static_cast<std::size_t>(user)].offset; }

 private:
  struct user_state {
    std::unique_ptr<byte_source> source;
    std::uint64_t offset = 0;
    bool last_sent = false;
  };
  const ofdm::frame_layout& frame_;
  coded_layout coded_;
  std::uint64_t seed_;
  std::vector<user_state> users_;
  fec::transport_block_encoder encoder_;
  std::vector<std::uint8_t> payload_;  // capacity bytes
  std::vector<std::uint8_t> tb_bytes_;
  std::vector<std::uint8_t> tb_bits_;
  std::vector<std::uint8_t> codeword_;  // G bits
};

}  // namespace amimo::payload
