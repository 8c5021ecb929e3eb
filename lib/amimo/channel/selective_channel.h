#pragma once
// Frequency-selective (multipath) MIMO channels for OFDM, block-fading per frame: within
// one frame the channel is a fixed set of taps, tap l an antennas × users matrix G_l at an
// integer sample delay d_l (taps are on the sample grid of the stream); between frames the
// taps evolve (Doppler). The frequency response on subcarrier f of an FFT of size n is
//   H(f) = Σ_l G_l · exp(−j 2π f d_l / n),    f in [−n/2, n/2),
// normalised so E[|H_ij(f)|²] = 1 (Es = 1 per user symbol, as in DESIGN.md §2).
// Implementations live in channel_models/.

#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <span>
#include <string_view>

namespace amimo::channel {

class selective_channel_model {
 public:
  virtual ~selective_channel_model() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual int antennas() const noexcept = 0;
  virtual int users() const noexcept = 0;
  /// Tap delays in samples, ascending, distinct; fixed for the model's lifetime.
  virtual std::span<const int> tap_delays() const noexcept = 0;
  /// Current gain matrix (antennas × users) of tap l.
  virtual cmat_cref tap_gain(int l) const noexcept = 0;
  /// Advances to the next frame: the first call draws the initial state, later calls
  /// draw a state correlated with the previous one (Doppler). Does not allocate.
  virtual void next_frame(rng& gen) = 0;

  /// Frequency response on subcarrier index f (negative = below DC) for FFT size n,
  /// written into h (antennas × users). Does not allocate.
  void frequency_response(cmat_ref h, int f, int fft_size) const;
};

}  // namespace amimo::channel
