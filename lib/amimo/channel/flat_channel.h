#pragma once
// Flat-fading MIMO channel models (implementations live in channel_models/) and the
// noise convention of DESIGN.md §2: y = H s + n, Es = 1 per user symbol, channel entries
// of unit average power, n ~ CN(0, N0) per receive antenna, snr_db = 10 log10(Es/N0).

#include <amimo/core/rng.h>
#include <amimo/core/types.h>

#include <string_view>

namespace amimo::channel {

class flat_channel_model {
 public:
  virtual ~flat_channel_model() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual int antennas() const noexcept = 0;
  virtual int users() const noexcept = 0;
  /// Draws one realisation into h (antennas × users). Does not allocate.
  virtual void draw(cmat_ref h, rng& gen) = 0;
};

/// Complex noise variance per receive antenna for an Es/N0 in dB (Es = 1).
double noise_variance_from_snr_db(double snr_db) noexcept;
/// Eb/N0 in dB from Es/N0 in dB for uncoded transmission with bits_per_symbol bits.
double ebn0_db_from_snr_db(double snr_db, unsigned bits_per_symbol) noexcept;

}  // namespace amimo::channel
