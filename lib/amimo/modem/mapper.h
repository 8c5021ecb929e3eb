#pragma once
// Gray-mapped symbol mapper with hard and max-log soft demapping.
//
// The constellation (point for each label) is liquid-dsp's, normalised to unit average
// energy; mapping and demapping run on amimo's own tables so the hot path neither
// allocates nor crosses into liquid-dsp per symbol.

#include <amimo/core/types.h>
#include <amimo/modem/modulation.h>

#include <span>
#include <vector>

namespace amimo::modem {

class mapper {
 public:
  explicit mapper(modulation scheme);

  modulation scheme() const noexcept { return scheme_; }
  unsigned bits_per_symbol() const noexcept { return bits_per_symbol_; }
  /// Point for each label; label bits are most significant first.
  std::span<const cf64> constellation() const noexcept { return points_; }

  /// bits.size() must equal symbols.size() * bits_per_symbol().
  void map(std::span<cf64> symbols, std::span<const bit> bits) const;
  /// Label of the nearest constellation point (ties broken towards the lower level).
  unsigned decide(cf64 sample) const noexcept;
  /// Hard decisions, bits_per_symbol() bits per sample.
  void demap_hard(std::span<bit> bits, std::span<const cf64> samples) const;
  /// Max-log LLRs, ln P(b=0|y)/P(b=1|y) ≈ (min_{x:b=1}|y−x|² − min_{x:b=0}|y−x|²) / σ²,
  /// with σ² the post-detection noise variance of each sample (one per sample).
  /// An infinite variance (a stream the detector could not resolve) gives LLR 0.
  void demap_soft(std::span<float> llrs, std::span<const cf64> samples,
                  std::span<const double> noise_variance) const;

 private:
  modulation scheme_;
  unsigned bits_per_symbol_;
  std::vector<cf64> points_;
  // Separable grid slicer: the constellation is the product of these in-phase and
  // quadrature levels; grid_labels_[i * q_levels_.size() + q] is the label at (i, q).
  std::vector<double> i_levels_;
  std::vector<double> q_levels_;
  std::vector<unsigned> grid_labels_;
  // Separable max-log path (square Gray QAM): bit b depends on the in-phase level only
  // (axis 0) or the quadrature level only (axis 1); bit_level_[b][level] is its value there.
  bool separable_ = false;
  std::vector<int> bit_axis_;
  std::vector<std::vector<unsigned char>> bit_level_;
  // Fast exact max-log path for uniformly spaced levels (every liquid-dsp square QAM): the
  // nearest level l on each axis is found by rounding; it carries the decided bit, and
  // the other bit value's nearest level is one of two precomputed neighbours of l (the
  // closest level below and above l whose bit b differs). Tables are indexed b·16 + l and
  // hold level values (±1e100 where no such neighbour exists) and the sign of the LLR,
  // so the per-sample work has no data-dependent branches.
  bool uniform_ = false;
  double axis_origin_[2] = {0.0, 0.0};
  double axis_inverse_step_[2] = {1.0, 1.0};
  double axis_last_[2] = {0.0, 0.0};  // index of the top level, as a double
  std::vector<double> opposite_below_;
  std::vector<double> opposite_above_;
  std::vector<double> llr_sign_;  // +1: the level's bit is 0 (LLR = m1 − m0 = opposite − nearest)
};

}  // namespace amimo::modem
