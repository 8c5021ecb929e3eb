#include <amimo/ofdm/numerology.h>

#include <amimo/core/error.h>

#include <cmath>
#include <string>

namespace amimo::ofdm {

void validate(const numerology& n) {
  auto fail = [](const std::string& what) { throw config_error("OFDM numerology: " + what); };
  if (n.fft_size < 16 || n.fft_size > 65536) fail("fft_size must be in [16, 65536]");
  if (n.cp_length < 0 || n.cp_length >= n.fft_size) fail("cp_length must be in [0, fft_size)");
  if (n.used_subcarriers < 2 || n.used_subcarriers % 2 != 0)
    fail("used_subcarriers must be even and ≥ 2");
  if (n.used_subcarriers > n.fft_size - 2)
    fail("used_subcarriers must leave DC and at least one guard bin (≤ fft_size − 2)");
  if (!std::isfinite(n.sample_rate) || n.sample_rate <= 0.0) fail("sample_rate must be positive");
  if (n.pilot_symbols < 1 || n.pilot_symbols > 64) fail("pilot_symbols must be in [1, 64]");
  if (n.data_symbols < 1 || n.data_symbols > 1024) fail("data_symbols must be in [1, 1024]");
  if (n.additional_pilots < 0 || n.additional_pilots > 8) fail("additional_pilots must be in [0, 8]");
  for (int g = 1; g <= n.additional_pilots; ++g) {
    if (n.pilot_group_before(g) <= n.pilot_group_before(g - 1) || n.pilot_group_before(g) >= n.data_symbols)
      fail("additional_pilots: too many pilot groups for data_symbols (every group needs data "
           "symbols before it)");
  }
}

const std::vector<preset>& presets() {
  // All on the 5 MHz-like default carrier (LTE-style 15 kHz spacing at 7.68 Msps, one
  // 14-symbol slot per frame); pilot symbols so that K users are covered on the comb.
  static const std::vector<preset> table = [] {
    std::vector<preset> t;
    const numerology base;
    t.push_back({"16x4", 16, 4, base});
    t.push_back({"32x8", 32, 8, base});
    t.push_back({"64x16", 64, 16, base});
    t.push_back({"128x8", 128, 8, base});
    return t;
  }();
  return table;
}

const preset& find_preset(const std::string& name) {
  std::string names;
  for (const auto& p : presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw config_error("unknown preset '" + name + "' (presets: " + names + ")");
}

}  // namespace amimo::ofdm
