#pragma once
// OFDM numerology and the uplink frame layout shared by amimo-ue and amimo-bs.
//
// Frame (every symbol = cyclic prefix + fft_size samples):
//   symbol 0                 preamble: a Zadoff–Chu sequence on every used subcarrier,
//                            sent by every user (synchronisation only)
//   symbols 1 … pilot_symbols comb pilots: on pilot symbol p, user k sends on the used
//                            subcarriers u with (u + p) mod K == k (orthogonal in frequency),
//                            amplitude √K so a pilot symbol has the energy of a data symbol
//   then data_symbols        K users' Gray-mapped QAM from a seeded PRBS on every used
//                            subcarrier (the receiver regenerates the bits: no side channel)
// Used subcarriers: used/2 below DC and used/2 above, DC empty; the rest are guard bins
// (the receiver estimates the noise there). Transforms are unitary, so Es = 1 per user
// symbol per subcarrier and N0 per time sample give snr_db = Es/N0 exactly as in
// DESIGN.md §2.

#include <string>
#include <vector>

namespace amimo::ofdm {

struct numerology {
  int fft_size = 512;
  int cp_length = 36;
  int used_subcarriers = 300;
  double sample_rate = 7.68e6;
  int pilot_symbols = 1;
  int data_symbols = 12;

  int symbol_length() const noexcept { return fft_size + cp_length; }
  int symbols_per_frame() const noexcept { return 1 + pilot_symbols + data_symbols; }
  int frame_length() const noexcept { return symbols_per_frame() * symbol_length(); }
  double frame_seconds() const noexcept { return frame_length() / sample_rate; }
  double subcarrier_spacing() const noexcept { return sample_rate / fft_size; }
  /// Signed frequency bin of used subcarrier u (0 … used−1): −used/2 … −1, 1 … used/2.
  int bin_of(int u) const noexcept {
    const int half = used_subcarriers / 2;
    return u < half ? u - half : u - half + 1;
  }
  /// Index into an fft_size array of used subcarrier u.
  int fft_index_of(int u) const noexcept { return (bin_of(u) + fft_size) % fft_size; }
};

/// Throws config_error naming the field: sizes ≤ 0, used odd or ≥ fft_size − 1 (no guard
/// bin left for the noise estimate), cp ≥ fft_size, sample rate not positive and finite.
void validate(const numerology& n);

/// A MIMO shape with its numerology ("16x4", "32x8", "64x16", "128x8").
struct preset {
  std::string name;
  int antennas = 16;
  int users = 4;
  numerology layout;
};
const std::vector<preset>& presets();
/// Throws config_error listing the presets for an unknown name.
const preset& find_preset(const std::string& name);

}  // namespace amimo::ofdm
