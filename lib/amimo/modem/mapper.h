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
  /// decide() for every sample (labels.size() == samples.size()), the same labels; the
  /// nearest level per axis is found for a chunk of samples at a time, vectorised.
  void decide(std::span<unsigned> labels, std::span<const cf64> samples) const noexcept;
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
  // demap_soft() then works on chunks of samples laid out per axis: for each level one
  // squared distance per sample and a running minimum per bit value — fixed-length loops
  // without data-dependent branches, vectorised across samples.
  bool separable_ = false;
  bool registers_fit_ = false;  // axis_llrs_in_registers() applies (set by the constructor)
  std::vector<int> bit_axis_;
  std::vector<std::vector<unsigned char>> bit_level_;
  void demap_soft_separable(std::span<float> llrs, std::span<const cf64> samples,
                            std::span<const double> noise_variance) const noexcept;
  static constexpr std::size_t kDemapChunk = 64;  // samples per chunk of the separable soft demapper
  // Beyond this on either axis a sample's LLRs are taken by demap_soft_far() (the levels are
  // O(1): squared distances there still give the LLR to ~1e-10 relative).
  static constexpr double kFar = 1e6;
  void demap_soft_far(float* out, cf64 sample, double inv_var) const noexcept;
  // Both axes' LLRs of a chunk with the minima in registers (AVX2 builds, when
  // registers_fit_: every axis has 2, 4, 8 or 16 levels carrying log2(levels) bits, or
  // carries no bit, as BPSK's quadrature axis; otherwise the array form runs).
  void axis_llrs_in_registers(const double (*x)[kDemapChunk], const double* scale,
                              float (*result)[kDemapChunk]) const noexcept;
  // out[i·bps + b] = result[b][i] for the chunk's n samples.
  static void interleave_llrs(float* out, const float (*result)[kDemapChunk], std::size_t n, unsigned bps) noexcept;
};

}  // namespace amimo::modem
