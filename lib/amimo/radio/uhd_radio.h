#pragma once
// Receiving from a USRP through UHD (Ettus Research's driver) as a radio_source.
//
// open_uhd_source() follows UHD's own examples (rx_samples_to_file.cpp,
// rx_multi_samples.cpp): find the device, make a multi_usrp, select the subdevice and
// clock/time sources, set rate, frequency (one tune_request per channel), gain and antenna,
// print the values the device ACTUALLY took, zero the device time (set_time_now, or
// set_time_unknown_pps with an external time source) when several channels must be
// aligned, and open an fc32-over-sc16 rx_streamer on the requested channels.
//
// uhd_rx_adapter is the part that runs per read and is tested without hardware: it owns
// any uhd::rx_streamer and turns recv() metadata into radio_events, as the examples do:
//   ERROR_CODE_TIMEOUT       nothing arrived: counted in timeouts, read returns timeout;
//   ERROR_CODE_OVERFLOW      counted in overflows (md.out_of_sequence: packets were lost on
//                            the way, UHD prints 'D'; otherwise an overrun, UHD prints 'O');
//                            the samples received are delivered and the read goes on;
//   ERROR_CODE_LATE_COMMAND  counted in late_packets; the timed start is re-issued with a
//                            fresh time on the next read;
//   anything else            counted in other_errors, text in last_error().
// When the stream has a sample rate and recv() reports time specs, a jump in the time
// stamps after an overflow is counted as dropped_samples (exactly the samples missing).
// The stream is started on the first read (STREAM_MODE_START_CONTINUOUS; timed, with
// stream_now = false, for more than one channel so all channels start on the same sample)
// and stopped (STREAM_MODE_STOP_CONTINUOUS) when the adapter is destroyed.

#include <amimo/radio/radio.h>

#include <uhd/stream.hpp>
#include <uhd/types/metadata.hpp>
#include <uhd/types/time_spec.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace amimo::radio {

/// How open_uhd_source() sets up the device. Empty strings leave the device default.
struct uhd_options {
  std::string args;                      ///< device address args ("" = first found)
  std::vector<std::size_t> channels{0};  ///< multi_usrp RX channel indices to stream
  double rate = 7.68e6;                  ///< samples/s per channel
  double freq = 3.5e9;                   ///< RF centre frequency, Hz (every channel)
  double gain = 30;                      ///< RX gain, dB (every channel)
  std::string subdev;                    ///< subdevice spec, e.g. "A:0 A:1"
  std::string antenna;                   ///< RX antenna, e.g. "RX2" (every channel)
  std::string clock_source;              ///< "internal", "external", "gpsdo", ...
  std::string time_source;               ///< "internal", "external" (PPS), "gpsdo", ...
  double start_delay_s = 0.1;            ///< timed start: device time now + this
  std::size_t samples_per_packet = 0;    ///< stream arg "spp" (0: device default)
  std::ostream* log = nullptr;           ///< where the actual settings are printed
};

/// Opens a USRP for receiving. Throws amimo::config_error when the options are invalid,
/// when uhd::device::find() finds no device matching `args` (checked before
/// multi_usrp::make), or when the device refuses the setup.
std::unique_ptr<radio_source> open_uhd_source(const uhd_options& options);

/// How uhd_rx_adapter starts its stream.
struct uhd_rx_settings {
  /// Device time (multi_usrp::get_time_now); with it and more than one channel the start
  /// is timed (stream_now = false, time_spec = now + start_delay_s). Without it, or with
  /// one channel, the stream starts now.
  std::function<uhd::time_spec_t()> device_time;
  double start_delay_s = 0.1;
};

/// A radio_source over any uhd::rx_streamer (see the file comment for the event rules).
/// Not thread-safe (neither is rx_streamer::recv).
class uhd_rx_adapter final : public radio_source {
 public:
  /// The streamer's channel count must equal description.channels (else config_error).
  uhd_rx_adapter(uhd::rx_streamer::sptr streamer, stream_description description,
                 uhd_rx_settings settings = {});
  /// Issues STREAM_MODE_STOP_CONTINUOUS if the stream was started (errors swallowed).
  ~uhd_rx_adapter() override;
  uhd_rx_adapter(const uhd_rx_adapter&) = delete;
  uhd_rx_adapter& operator=(const uhd_rx_adapter&) = delete;

  std::string_view name() const noexcept override { return "uhd"; }
  stream_description description() const override { return description_; }
  /// One recv() into the caller's buffers (after the start command on the first call;
  /// that first recv waits start_delay_s longer). An overflow or late packet that came
  /// with no samples is followed by another recv() while time is left.
  read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                   std::chrono::milliseconds timeout) override;
  const radio_events& events() const noexcept override { return events_; }

  /// UHD's text for the last error other than timeout (empty if none yet).
  const std::string& last_error() const noexcept { return last_error_; }
  /// Overflows that UHD flagged out_of_sequence (packets lost in transport, 'D').
  std::uint64_t out_of_sequence() const noexcept { return out_of_sequence_; }

 private:
  void start_stream();
  void count_nonfinite(std::span<cf32* const> channels, std::size_t count) noexcept;
  void check_time(const uhd::rx_metadata_t& md, std::size_t count) noexcept;

  uhd_rx_settings settings_;         // declared first: it may keep the device alive
  uhd::rx_streamer::sptr streamer_;  // destroyed before settings_
  stream_description description_;
  radio_events events_;
  std::vector<void*> buffers_;
  std::string last_error_;
  std::uint64_t out_of_sequence_ = 0;
  long long next_tick_ = 0;  // expected time stamp of the next sample (rate ticks)
  bool have_next_tick_ = false;
  bool started_ = false;
  bool delivered_since_start_ = false;
  bool first_recv_ = false;  // the next recv is the first after a start command
};

}  // namespace amimo::radio
