#pragma once
// One interface for every way antenna samples enter or leave amimo: ZeroMQ (GNU Radio's
// ZMQ blocks, srsRAN's ZMQ radio), SigMF recordings, a UHD multi_usrp, and the in-process
// synthetic source. Samples are complex float32 (fc32 / cf32_le), one buffer per antenna
// channel, all channels advancing together.
//
// Transport trouble is data, not an exception: a truncated or oversized message, a sample
// gap, an overflow, a timeout is counted in radio_events and the stream goes on. Only a
// configuration that cannot work (a bad address, an unreadable file, no device) throws
// amimo::config_error / amimo::io_error, at construction.

#include <amimo/core/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace amimo::radio {

/// What a stream carries; the receiver checks it against its numerology.
struct stream_description {
  int channels = 1;                 ///< antenna channels (all read/written together)
  double sample_rate = 0.0;         ///< samples per second per channel (0: unknown)
  double center_frequency = 0.0;    ///< Hz (0: unknown / baseband)
};

/// Counted transport events (cumulative since construction).
struct radio_events {
  std::uint64_t samples = 0;             ///< samples per channel delivered / written
  std::uint64_t timeouts = 0;            ///< read calls that waited the whole timeout with no data
  std::uint64_t overflows = 0;           ///< receiver overruns (samples lost before we read them)
  std::uint64_t late_packets = 0;        ///< timed commands / packets that arrived too late
  std::uint64_t dropped_messages = 0;    ///< messages refused: truncated, oversized, misaligned, garbage
  std::uint64_t dropped_samples = 0;     ///< samples lost: refused messages, sink losses, aligned overflow spans (once per channel span)
  std::uint64_t nonfinite_samples = 0;   ///< NaN/Inf samples seen (passed on; the receiver decides)
  std::uint64_t other_errors = 0;        ///< anything else the transport reported
  std::uint64_t refused_channels = 0;    ///< channels whose every message so far was refused (warned once each)
  std::uint64_t late_channels = 0;       ///< channels whose stream began after another's (joined late; start offset)
};

enum class read_status {
  ok,             ///< samples were delivered (count > 0)
  timeout,        ///< nothing arrived within the timeout; the stream may go on
  end_of_stream,  ///< the source has ended (file end, sender signalled end); count may be > 0
};

struct read_result {
  std::size_t count = 0;  ///< samples written to each channel buffer
  read_status status = read_status::ok;
};

class radio_source {
 public:
  virtual ~radio_source() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual stream_description description() const = 0;
  /// Reads up to max_samples into each of channels[0 .. description().channels) (each
  /// buffer holds at least max_samples). Waits at most `timeout` for the first sample.
  /// Never throws for transport trouble: it is counted in events().
  virtual read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                           std::chrono::milliseconds timeout) = 0;
  virtual const radio_events& events() const noexcept = 0;
};

class radio_sink {
 public:
  virtual ~radio_sink() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual stream_description description() const = 0;
  /// Writes `count` samples from each channel buffer. May block (back-pressure).
  virtual void write(std::span<const cf32* const> channels, std::size_t count) = 0;
  /// Flushes and marks the end of the stream (a file is completed and renamed into place;
  /// a network sink tells the receiver where its protocol can). Idempotent.
  virtual void close() = 0;
  virtual const radio_events& events() const noexcept = 0;
};

}  // namespace amimo::radio
