#pragma once
// What the receiver hands on per frame: a frame sink receives, per user and detection chain,
// the soft bits (LLRs), the equalised symbols, the per-symbol post-detection noise variance
// (Es = 1, so SINR = 1 / variance) and, through that variance, the erasures — as spans into
// the receiver's frame buffers (no copies), valid only during the call.
//
// Call order per frame, all from the receiver:
//   begin_frame(info)                     on the receiving thread
//   consume(view) for every (user, chain) on pool workers: calls for different users may run
//                                         concurrently; the calls of one user run in chain order
//                                         on one thread
//   end_frame(info)                       on the receiving thread
// A sink must not allocate per frame when the receiver's "no allocation per frame" matters.

#include <amimo/core/types.h>

#include <cstdint>
#include <span>

namespace amimo::pipeline {

struct frame_info {
  std::uint64_t index = 0;      ///< the transmitter's frame index (identified by the receiver)
  std::uint64_t sequence = 0;   ///< frames handed to the sinks so far (0-based)
  int users = 0;
  int chains = 0;
  std::size_t bits_per_user = 0;
  std::size_t known_bits = 0;   ///< leading bits per user known to the receiver (the PRBS reference)
  double noise_variance = 0.0;  ///< N0 estimate of this frame (measured)
};

struct user_frame_view {
  std::uint64_t frame_index = 0;
  int user = 0;
  int chain = 0;
  unsigned bits_per_symbol = 0;
  std::span<const float> llr;               ///< bits_per_user, ln P(0)/P(1); erased symbols give 0
  std::span<const cf64> equalised;          ///< data symbols × used subcarriers (symbol-major)
  std::span<const double> noise_variance;   ///< per equalised symbol; ≥ kErased: erased (not a decision)
  std::span<const bit> reference;           ///< the known leading bits of this user (PRBS), may be all bits
  std::span<const bit> scrambling;          ///< the frame's whole PRBS (bits_per_user): the coded link's
                                            ///< scrambling sequence after the known header
  /// Whether equalised symbol i is erased (its stream could not be resolved).
  bool erased(std::size_t i) const noexcept;
};

class frame_sink {
 public:
  virtual ~frame_sink() = default;
  virtual void begin_frame(const frame_info&) {}
  virtual void consume(const user_frame_view& view) = 0;
  virtual void end_frame(const frame_info&) {}
};

}  // namespace amimo::pipeline
