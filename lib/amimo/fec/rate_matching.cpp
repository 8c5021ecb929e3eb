#include <amimo/fec/rate_matching.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace amimo::fec {
namespace {

int codeword_bits(const rate_match_config& cfg) { return (shape_of(cfg.bg).cols - 2) * cfg.z; }

// The filler positions in d: [first, first + F).
int filler_first(const rate_match_config& cfg) { return cfg.k - cfg.filler_bits - 2 * cfg.z; }

}  // namespace

void validate(const rate_match_config& cfg) {
  if (lifting_set_index(cfg.z) < 0) {
    throw std::invalid_argument("rate matching: Z = " + std::to_string(cfg.z) + " is not a lifting size");
  }
  if (cfg.k != shape_of(cfg.bg).info_cols * cfg.z) {
    throw std::invalid_argument("rate matching: K = " + std::to_string(cfg.k) + " does not match the base graph and Z");
  }
  if (cfg.filler_bits < 0 || cfg.filler_bits > cfg.k - 2 * cfg.z) {
    throw std::invalid_argument("rate matching: filler bits F = " + std::to_string(cfg.filler_bits) + " out of range");
  }
  if (cfg.qm < 1 || cfg.qm > 10) {
    throw std::invalid_argument("rate matching: Qm = " + std::to_string(cfg.qm) + " out of range");
  }
  if (cfg.e < cfg.qm || cfg.e % cfg.qm != 0) {
    throw std::invalid_argument("rate matching: E = " + std::to_string(cfg.e) + " is not a positive multiple of Qm = " +
                                std::to_string(cfg.qm));
  }
  if (cfg.rv < 0 || cfg.rv > 3) {
    throw std::invalid_argument("rate matching: redundancy version " + std::to_string(cfg.rv) + " is not 0..3");
  }
}

int circular_buffer_bits(const rate_match_config& cfg) noexcept { return codeword_bits(cfg); }

int starting_position(const rate_match_config& cfg) noexcept {
  // Table 5.4.2.1-2: k0 = floor(num·N_cb / (den·Z))·Z.
  static constexpr int kNumBg1[4] = {0, 17, 33, 56};
  static constexpr int kNumBg2[4] = {0, 13, 25, 43};
  const bool bg1 = cfg.bg == base_graph::bg1;
  const long num = (bg1 ? kNumBg1 : kNumBg2)[cfg.rv & 3];
  const long den = bg1 ? 66 : 50;
  const long ncb = circular_buffer_bits(cfg);
  return static_cast<int>((num * ncb) / (den * cfg.z) * cfg.z);
}

void rate_match(std::span<std::uint8_t> f, std::span<const std::uint8_t> d, const rate_match_config& cfg) {
  validate(cfg);
  const int n = codeword_bits(cfg);
  if (static_cast<int>(d.size()) != n || static_cast<int>(f.size()) != cfg.e) {
    throw std::invalid_argument("rate_match: d must hold N = " + std::to_string(n) + " bits and f E = " +
                                std::to_string(cfg.e) + " bits");
  }
  const int ncb = circular_buffer_bits(cfg);
  const int fill_lo = filler_first(cfg);
  const int fill_hi = fill_lo + cfg.filler_bits;
  const int rows = cfg.qm;              // §5.4.2.2: e is written row by row into Qm rows…
  const int cols = cfg.e / cfg.qm;      // …of E/Qm columns, and read column by column.
  int pos = starting_position(cfg);
  for (int k = 0; k < cfg.e;) {
    if (pos < fill_lo || pos >= fill_hi) {
      // e_k → f_{i + j·Qm} with k = i·(E/Qm) + j.
      const int i = k / cols;
      const int j = k - i * cols;
      f[static_cast<std::size_t>(i + j * rows)] = d[static_cast<std::size_t>(pos)];
      ++k;
    }
    pos = pos + 1 == ncb ? 0 : pos + 1;
  }
}

void rate_dematch(std::span<float> d_llr, std::span<const float> f_llr, const rate_match_config& cfg) {
  validate(cfg);
  const int n = codeword_bits(cfg);
  if (static_cast<int>(d_llr.size()) != n || static_cast<int>(f_llr.size()) != cfg.e) {
    throw std::invalid_argument("rate_dematch: d_llr must hold N = " + std::to_string(n) + " values and f_llr E = " +
                                std::to_string(cfg.e));
  }
  std::fill(d_llr.begin(), d_llr.end(), 0.0f);
  const int ncb = circular_buffer_bits(cfg);
  const int fill_lo = filler_first(cfg);
  const int fill_hi = fill_lo + cfg.filler_bits;
  const int rows = cfg.qm;
  const int cols = cfg.e / cfg.qm;
  int pos = starting_position(cfg);
  for (int k = 0; k < cfg.e;) {
    if (pos < fill_lo || pos >= fill_hi) {
      const int i = k / cols;
      const int j = k - i * cols;
      d_llr[static_cast<std::size_t>(pos)] += f_llr[static_cast<std::size_t>(i + j * rows)];
      ++k;
    }
    pos = pos + 1 == ncb ? 0 : pos + 1;
  }
  std::fill(d_llr.begin() + fill_lo, d_llr.begin() + fill_hi, kFillerLlr);
}

}  // namespace amimo::fec
