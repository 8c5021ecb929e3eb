#pragma once
// Frequency-selective (multipath) MIMO channels for OFDM: a set of taps, tap l an
// antennas × users gain matrix G_l at a delay d_l in samples of the stream. Delays may be
// fractional (exact 3GPP delays) or integer (sample-spaced). The frequency response on
// subcarrier f of an FFT of size n is
//   H(f) = Σ_l G_l · exp(−j 2π f d_l / n),    f in [−n/2, n/2),
// i.e. H(f) = Σ_l G_l e^{−j2π f Δf τ_l} with Δf = sample_rate / n and τ_l = d_l / sample_rate,
// normalised so E[|H_ij(f)|²] = 1 (Es = 1 per user symbol, as in DESIGN.md §2).
//
// Time. A model moves through steps_per_frame() channel states per frame, evenly spaced
// (one per OFDM symbol for a channel that varies within the frame, or one per frame for
// block fading): next_frame() moves to step 0 of the next frame, next_step() to the next
// step inside the frame. Frames are contiguous in time, so the gains are continuous across
// frames. Implementations live in channel_models/.

#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <span>
#include <string>
#include <string_view>

namespace amimo::channel {

class selective_channel_model {
 public:
  virtual ~selective_channel_model() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual int antennas() const noexcept = 0;
  virtual int users() const noexcept = 0;
  /// Tap delays in samples (may be fractional), ascending, distinct; fixed for the model's
  /// lifetime.
  virtual std::span<const double> tap_delays() const noexcept = 0;
  /// Current gain matrix (antennas × users) of tap l; an empty matrix for l out of range.
  virtual cmat_cref tap_gain(int l) const noexcept = 0;
  /// Moves to step 0 of the next frame: the first call draws the initial state, later calls
  /// advance in time (Doppler). Does not allocate.
  virtual void next_frame(rng& gen) = 0;
  /// Channel states per frame (1: constant within a frame). When the model is static
  /// (no Doppler) this is 1 whatever was configured.
  virtual int steps_per_frame() const noexcept { return 1; }
  /// Moves to the next state inside the current frame (steps 1 … steps_per_frame() − 1);
  /// a call past the last step of the frame does nothing. Does not allocate.
  virtual void next_step() noexcept {}
  /// True when the gains never change after the first next_frame() (no Doppler, no redraw
  /// between frames): a consumer may then keep what it derived from them (the emulator
  /// computes the frequency response once). False, the safe default, for any other model.
  virtual bool time_invariant() const noexcept { return false; }
  /// One line naming the model and every parameter that shapes it (run headers, JSON).
  virtual std::string describe() const { return std::string(name()); }

  /// Frequency response on subcarrier index f (negative = below DC) for FFT size n,
  /// written into h (antennas × users). Does not allocate.
  void frequency_response(cmat_ref h, int f, int fft_size) const;
};

/// exp(−j 2π f d / n) for a delay d in samples, with the phase reduced exactly (modulo n in
/// integers) when d is an integer, so it stays exact for any f.
cf64 delay_phasor(int f, double delay_samples, int fft_size) noexcept;

}  // namespace amimo::channel
