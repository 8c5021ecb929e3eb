#pragma once
// The user side of the uplink and the air in between: K users' OFDM frames through a
// frequency-selective MIMO channel (one realisation per frame, constant within it), with
// per-user timing and carrier-frequency offsets and AWGN, as N antenna sample streams.
//
// The channel is applied per subcarrier, Y_n(f) = Σ_k H_nk(f) X_k(f), which is exactly the
// time-domain convolution as the receiver's FFT window sees it while every delay (channel
// taps + timing offset) stays inside the cyclic prefix. A timing offset τ_k (samples, may
// be fractional) is the delay's phase ramp exp(−j2π f τ_k / n) on user k's subcarriers. A
// carrier-frequency offset rotates user k's time-domain signal by exp(j2π ε_k t / fs) with
// t the absolute sample index, so the phase is continuous across frames (it causes ICI and
// a phase drift the receiver does not correct: see README). Noise: CN(0, N0) per sample,
// N0 = 10^(−snr_db/10) (unitary transforms: the same N0 per subcarrier).

#include <amimo/channel/selective_channel.h>
#include <amimo/core/rng.h>
#include <amimo/core/types.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/frame.h>

#include <cstdint>
#include <span>
#include <vector>

namespace amimo::ofdm {

struct user_impairments {
  std::vector<double> cfo_hz;                 ///< per user, empty = none
  std::vector<double> timing_offset_samples;  ///< per user, empty = none; ≥ 0
};

class uplink_emulator {
 public:
  /// The channel model is borrowed; its antennas()/users() must match. Throws config_error
  /// for mismatched sizes or impairment lists of the wrong length.
  uplink_emulator(const frame_layout& layout, channel::selective_channel_model& channel,
                  double snr_db, std::uint64_t seed, user_impairments impairments = {});

  int antennas() const noexcept { return antennas_; }
  double noise_variance() const noexcept { return n0_; }

  /// Writes frame `frame_index` (frames must be generated in order for Doppler and CFO
  /// continuity) into antennas() buffers of frame_length() samples. Does not allocate.
  void generate(std::span<cf32* const> out, std::uint64_t frame_index);

  /// The channel's frequency response used for the last frame on used subcarrier u
  /// (antennas × users, timing-offset ramps included): for tests and genie comparisons.
  Eigen::Map<const cmat> last_response(int u) const noexcept;

 private:
  void build_user_symbols(std::uint64_t frame_index);

  const frame_layout& layout_;
  channel::selective_channel_model& channel_;
  int antennas_;
  int users_;
  double n0_;
  std::uint64_t seed_;
  user_impairments impairments_;
  rng channel_gen_;
  rng noise_gen_;
  fft_plan ifft_;
  cmat h_tmp_;                    // antennas × users
  std::vector<cf64> response_;    // used × (antennas × users), column-major per subcarrier
  std::vector<cf64> symbols_;     // users × (symbols_per_frame × used): grid per user
  std::vector<bit> bits_;
  std::vector<cf64> data_tmp_;
  std::vector<int> groups_;       // user → group (0: users without CFO; g > 0: CFO user)
  int group_count_ = 1;
};

}  // namespace amimo::ofdm
