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
//   additional pilot groups  (additional_pilots = G > 0, like NR's additional DMRS positions)
//                            G more groups of pilot_symbols comb-pilot symbols, the same
//                            pattern as the front group, inserted among the data: group g
//                            (1 … G) goes just before data symbol
//                            b_g = round(g · data_symbols / (G + ½)), so the groups are
//                            evenly spaced and the last one sits about half a spacing before
//                            the frame's end (12 data symbols: G = 1 → before data symbol 8,
//                            frame symbols 1 and 10 of 15; G = 2 → before 5 and 10).
//                            The default G = 0 is the front-only layout above.
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
  int additional_pilots = 0;  ///< pilot groups among the data besides the front one (0: front only)

  int symbol_length() const noexcept { return fft_size + cp_length; }
  /// Pilot groups of pilot_symbols symbols each: the front one and the additional ones.
  int pilot_groups() const noexcept { return 1 + additional_pilots; }
  int symbols_per_frame() const noexcept { return 1 + pilot_groups() * pilot_symbols + data_symbols; }
  /// The data symbol that pilot group g (1 … additional_pilots) is inserted before:
  /// round(g · data_symbols / (additional_pilots + ½)); 0 for the front group g = 0.
  int pilot_group_before(int g) const noexcept {
    if (g <= 0) return 0;
    const long long twice_groups = 2LL * additional_pilots + 1;  // 2 (G + ½)
    return static_cast<int>((4LL * g * data_symbols + twice_groups) / (2 * twice_groups));
  }
  /// Frame symbol of the first symbol of pilot group g (0 … pilot_groups() − 1).
  int pilot_group_symbol(int g) const noexcept { return 1 + g * pilot_symbols + pilot_group_before(g); }
  /// Frame symbol of pilot symbol p, counted over every group (group p / pilot_symbols, the
  /// comb pattern of symbol p % pilot_symbols within it).
  int pilot_symbol_index(int p) const noexcept {
    return pilot_group_symbol(p / pilot_symbols) + p % pilot_symbols;
  }
  /// Frame symbol of data symbol d (0 … data_symbols − 1).
  int data_symbol_index(int d) const noexcept {
    int groups_before = 1;
    while (groups_before < pilot_groups() && pilot_group_before(groups_before) <= d) ++groups_before;
    return 1 + groups_before * pilot_symbols + d;
  }
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
/// bin left for the noise estimate), cp ≥ fft_size, sample rate not positive and finite,
/// additional_pilots outside [0, 8] or more than data_symbols − 1 (every additional group
/// must have data on both sides, at distinct positions).
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
