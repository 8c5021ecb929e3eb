#pragma once
// Test doubles for OFDM tests: a selective channel with fixed, caller-set taps, and
// per-antenna frame buffers.
#include <amimo/channel/selective_channel.h>

#include <string_view>
#include <vector>

namespace amimo::test_support {

class fixed_channel final : public channel::selective_channel_model {
 public:
  fixed_channel(int antennas, int users, std::vector<double> delays)
      : antennas_(antennas), users_(users), delays_(std::move(delays)) {
    for (std::size_t l = 0; l < delays_.size(); ++l) gains.push_back(cmat::Zero(antennas, users));
  }
  std::string_view name() const noexcept override { return "fixed"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  std::span<const double> tap_delays() const noexcept override { return delays_; }
  cmat_cref tap_gain(int l) const noexcept override { return gains[static_cast<std::size_t>(l)]; }
  void next_frame(rng& gen) override {
    (void)gen;
    ++frames;
  }
  std::vector<cmat> gains;
  int frames = 0;

 private:
  int antennas_;
  int users_;
  std::vector<double> delays_;
};

struct frame_buffer {
  frame_buffer(int antennas, int length) : rows(static_cast<std::size_t>(antennas), std::vector<cf32>(static_cast<std::size_t>(length))) {
    for (auto& r : rows) ptrs.push_back(r.data());
  }
  std::span<cf32* const> pointers() { return ptrs; }
  double mean_power() const {
    double p = 0.0;
    std::size_t count = 0;
    for (const auto& r : rows) {
      for (auto v : r) p += std::norm(std::complex<double>(v));
      count += r.size();
    }
    return p / static_cast<double>(count);
  }
  std::vector<std::vector<cf32>> rows;
  std::vector<cf32*> ptrs;
};

}  // namespace amimo::test_support
