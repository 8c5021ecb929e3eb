#pragma once
// The in-process synthetic source (amimo-bs's embedded default): the uplink emulator
// behind the radio_source interface, so the receiver takes exactly the path it takes with
// ZeroMQ, SigMF or UHD. Frames are generated on demand, in order, as fast as asked.

#include <amimo/channel/selective_channel.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/radio/radio.h>

#include <memory>

namespace amimo::pipeline {

class synthetic_source final : public radio::radio_source {
 public:
  /// Owns the channel; `frames` = 0 streams for ever, otherwise ends after that many.
  synthetic_source(const ofdm::frame_layout& layout,
                   std::unique_ptr<channel::selective_channel_model> channel, double snr_db,
                   std::uint64_t seed, ofdm::user_impairments impairments, std::uint64_t frames,
                   ofdm::emulator_options options = {});

  std::string_view name() const noexcept override { return "synthetic"; }
  radio::stream_description description() const override;
  radio::read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                          std::chrono::milliseconds timeout) override;
  const radio::radio_events& events() const noexcept override { return events_; }

  /// Data bits from `source` (borrowed; null: the PRBS), e.g. the coded link's transport blocks.
  void set_data_source(ofdm::frame_data_source* source) noexcept { emulator_.set_data_source(source); }

  /// Seconds spent generating (measured), so a caller can separate it from processing.
  double generation_seconds() const noexcept { return generation_seconds_; }

 private:
  const ofdm::frame_layout& layout_;
  std::unique_ptr<channel::selective_channel_model> channel_;
  ofdm::uplink_emulator emulator_;
  std::uint64_t frames_;
  std::uint64_t next_frame_ = 0;
  std::vector<std::vector<cf32>> frame_;
  std::vector<cf32*> ptrs_;
  std::size_t offset_;
  radio::radio_events events_;
  double generation_seconds_ = 0.0;
};

}  // namespace amimo::pipeline
