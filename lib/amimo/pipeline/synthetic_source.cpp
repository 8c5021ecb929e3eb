#include <amimo/pipeline/synthetic_source.h>

#include <algorithm>
#include <chrono>

namespace amimo::pipeline {

synthetic_source::synthetic_source(const ofdm::frame_layout& layout,
                                   std::unique_ptr<channel::selective_channel_model> channel,
                                   double snr_db, std::uint64_t seed, ofdm::user_impairments impairments,
                                   std::uint64_t frames, ofdm::emulator_options options)
    : layout_(layout),
      channel_(std::move(channel)),
      emulator_(layout, *channel_, snr_db, seed, std::move(impairments), options),
      frames_(frames) {
  const auto len = static_cast<std::size_t>(layout.layout().frame_length());
  frame_.assign(static_cast<std::size_t>(channel_->antennas()), std::vector<cf32>(len));
  for (auto& row : frame_) ptrs_.push_back(row.data());
  offset_ = len;  // nothing buffered yet
}

radio::stream_description synthetic_source::description() const {
  return {channel_->antennas(), layout_.layout().sample_rate, 0.0};
}

radio::read_result synthetic_source::read(std::span<cf32* const> channels, std::size_t max_samples,
                                          std::chrono::milliseconds timeout) {
  (void)timeout;
  const auto len = static_cast<std::size_t>(layout_.layout().frame_length());
  if (offset_ == len) {
    if (frames_ != 0 && next_frame_ >= frames_) return {0, radio::read_status::end_of_stream};
    const auto t0 = std::chrono::steady_clock::now();
    emulator_.generate(ptrs_, next_frame_++);
    generation_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    offset_ = 0;
  }
  const std::size_t n = std::min(max_samples, len - offset_);
  for (std::size_t a = 0; a < frame_.size(); ++a) {
    std::copy(frame_[a].begin() + static_cast<std::ptrdiff_t>(offset_),
              frame_[a].begin() + static_cast<std::ptrdiff_t>(offset_ + n), channels[a]);
  }
  offset_ += n;
  events_.samples += n;
  const bool last = frames_ != 0 && next_frame_ >= frames_ && offset_ == len;
  return {n, last ? radio::read_status::end_of_stream : radio::read_status::ok};
}

}  // namespace amimo::pipeline
