#pragma once
// amimo-bs's decoder sink (pipeline/frame_sink.h): per frame, user and chain, descrambles the
// LLRs of the transport block (framing.h), decodes it (5G NR LDPC, layered min-sum) and checks
// its CRC. Counts per user and chain: blocks, block errors (TB CRC failed), malformed blocks
// (CRC passed but the block header is invalid), decoder iterations, CRC-passing payload
// bytes, and the uncoded BER of the TB bits of CRC-passing blocks (LLR signs of unerased
// symbols against the re-encoded, scrambled codeword: a BER conditioned on decoding success).
// Only the output chain's good blocks go to the payload output; a failed block's bytes are
// never handed on. No allocation per frame (outputs may allocate for the data they keep).

#include <amimo/fec/transport_block.h>
#include <amimo/ofdm/frame.h>
#include <amimo/payload/framing.h>
#include <amimo/pipeline/frame_sink.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace amimo::payload {

struct coded_user_stats {
  std::uint64_t blocks = 0;
  std::uint64_t block_errors = 0;     ///< TB CRC failed (payload discarded)
  std::uint64_t malformed = 0;        ///< CRC passed, header invalid (discarded, counted)
  std::uint64_t code_blocks = 0;      ///< LDPC code blocks decoded
  std::uint64_t iterations = 0;       ///< decoder iterations summed over code blocks
  std::uint64_t payload_bytes = 0;    ///< user payload bytes in CRC-passing blocks
  std::uint64_t uncoded_bits = 0;     ///< TB coded bits scored (CRC-passing blocks, unerased)
  std::uint64_t uncoded_errors = 0;
  void merge(const coded_user_stats& o) noexcept;
};

struct coded_chain_stats {
  std::string label;
  std::vector<coded_user_stats> users;
  coded_user_stats total() const noexcept;
};

double bler(const coded_user_stats& s) noexcept;
double mean_iterations(const coded_user_stats& s) noexcept;
double uncoded_ber(const coded_user_stats& s) noexcept;

/// Where the output chain's good blocks go. block() is called from the receiver's workers:
/// concurrently for different users, in frame order for one user.
class payload_output {
 public:
  virtual ~payload_output() = default;
  virtual void block(int user, const block_header& h, std::span<const std::uint8_t> data) = 0;
  /// End of the run: complete what is kept (files). Returns a one-line summary per user.
  virtual std::vector<std::string> finish() = 0;
};

/// DIR: per user, the good blocks are placed at their stream offsets in memory (at most
/// max_bytes per user; a block beyond is counted and dropped) and written at the end with the
/// atomic writer: DIR/user<k>.bin only when the stream is complete (its last block seen and
/// every byte before it received in CRC-passing blocks); otherwise DIR/user<k>.partial.bin
/// (missing bytes zero) and DIR/user<k>.missing.csv (the missing byte ranges). A stale
/// user<k>.bin from an earlier run is removed then, so it is never taken for this run's.
/// DIR is created and checked writable here, at start-up: amimo::io_error if it cannot be.
std::unique_ptr<payload_output> open_payload_output(const std::string& spec, int users,
                                                    std::uint64_t max_bytes = std::uint64_t{1} << 30U);

class decoder_sink final : public pipeline::frame_sink {
 public:
  decoder_sink(const ofdm::frame_layout& layout, const coding_config& coding, std::vector<std::string> chain_labels);
  const coded_layout& layout() const noexcept { return coded_; }
  void set_output(payload_output* out) noexcept { output_ = out; }

  void consume(const pipeline::user_frame_view& v) override;
  void end_frame(const pipeline::frame_info& info) override;

  const std::vector<coded_chain_stats>& stats() const noexcept { return stats_; }
  int output_chain() const noexcept { return output_chain_; }

 private:
  struct user_work {
    std::unique_ptr<fec::transport_block_decoder> decoder;
    std::unique_ptr<fec::transport_block_encoder> encoder;
    std::vector<float> llr;            // G, descrambled
    std::vector<std::uint8_t> tb_bits;
    std::vector<std::uint8_t> tb_bytes;
    std::vector<std::uint8_t> codeword;
  };
  coded_layout coded_;
  int output_chain_;
  payload_output* output_ = nullptr;
  std::vector<user_work> work_;
  std::vector<coded_chain_stats> stats_;
};

}  // namespace amimo::payload
