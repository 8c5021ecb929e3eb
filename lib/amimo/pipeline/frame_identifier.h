#pragma once
// Which transmitted frame did the receiver just detect? Every user's first `known_bits` data
// bits of frame f are the seeded PRBS of frame f (ofdm::frame_layout::data_bits), so the
// frame index is identified by matching them: the expected index (previous + 1) is accepted
// when chain 0's hard decisions over the known bits of unerased symbols disagree with its PRBS
// in at most 45% of the bits (a wrong frame gives 50%); otherwise the next frame_search
// indices are tried, first on a 1024-bit prefix, then on all known bits. In PRBS mode every
// data bit is known; with user payloads (coded link) only the header bits are (see
// pipeline/payload_framing.h), and the rest of the PRBS is the scrambling sequence.
// Bounded work per frame (at most 2^18 / users candidates); no allocation per frame.

#include <amimo/ofdm/frame.h>

#include <cstdint>
#include <span>
#include <vector>

namespace amimo::pipeline {

class frame_identifier {
 public:
  /// known_bits: leading known bits per user (0 or ≥ bits_per_user: all).
  frame_identifier(const ofdm::frame_layout& layout, std::uint64_t seed, std::size_t known_bits, int frame_search);

  std::size_t known_bits() const noexcept { return known_; }
  std::uint64_t expected() const noexcept { return expected_; }
  bool index_known() const noexcept { return index_known_; }

  /// Generates user k's PRBS of the expected frame (thread-safe across distinct k).
  void prepare(std::size_t k) noexcept;

  struct result {
    bool matched = false;
    std::uint64_t index = 0;
    std::uint64_t missed = 0;  ///< frame indices skipped since the last identified frame
  };
  /// llr: chain 0's users × bits_per_user LLRs; variance: users × symbols_per_user noise
  /// variances (erased symbols skipped in the expected-frame check). On a match, reference(k)
  /// holds that frame's PRBS and the next expected index is index + 1; otherwise the
  /// expected index still advances by one.
  result identify(std::span<const float> llr, std::span<const double> variance);
  /// A frame dropped before identification (bad samples, misaligned): expected index + 1.
  void skip() noexcept { ++expected_; }

  /// User k's PRBS (bits_per_user bits) of the frame last identified (or prepared).
  std::span<const bit> reference(std::size_t k) const noexcept { return reference_[k]; }

 private:
  const ofdm::frame_layout& layout_;
  std::uint64_t seed_;
  std::size_t known_;
  int frame_search_;
  std::vector<std::vector<bit>> reference_;
  std::vector<bit> candidate_;
  std::uint64_t expected_ = 0;
  bool index_known_ = false;
};

/// Hard-decision errors of max-log LLRs (negative = bit 1) against known bits.
std::uint64_t sign_errors(const float* llr, const bit* ref, std::size_t n) noexcept;

}  // namespace amimo::pipeline
