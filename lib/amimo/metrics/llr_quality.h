#pragma once
// Quality of soft outputs (max-log LLRs), reported beside the hard-decision BER.
//
// amimo's scoring rule (one rule in amimo-sweep, amimo-bs and amimo-image):
//   - BER counts hard decisions (nearest constellation point of the equalised symbol)
//     against the transmitted bits, over the bits of streams that were not erased.
//   - An erased stream (the detector could not know its quality: singular channel, failed
//     solve, zero or non-finite gain) is never scored as a decision; its bits are counted
//     as erased and reported beside the BER.
//   - LLR quality is separate: the LLR-sign BER (a bit whose LLR is 0 or of the wrong sign
//     counts as an error) and a calibration figure. A max-log LLR L claims the bit is wrong
//     with probability 1/(1 + e^|L|); a calibrated demapper's sign errors in each |L| bin
//     match that claim. The calibration ratio is observed ÷ claimed sign errors over all bins
//     (1: calibrated; > 1: over-confident LLRs, e.g. an SINR that is too high; < 1:
//     under-confident). A soft-output defect — an LLR of 0 on a good stream, a wrong noise
//     variance — shows up here even when the hard-decision BER is clean.
//
// |L| is binned (0.25 wide up to 16, then one bin for larger values), so adding a bit is an
// index computation and two increments: cheap enough for the streaming receiver.

#include <array>
#include <cstdint>
#include <span>

#include <amimo/core/types.h>

namespace amimo::metrics {

class llr_quality {
 public:
  static constexpr int kBins = 65;  // 64 bins of 0.25 on [0, 16), one for |L| ≥ 16
  static constexpr double kBinWidth = 0.25;

  /// Adds LLRs (ln P(b=0)/P(b=1): negative means bit 1) against the known bits.
  void add(std::span<const float> llrs, std::span<const bit> reference) noexcept;
  void merge(const llr_quality& other) noexcept;
  void reset() noexcept { *this = llr_quality{}; }

  std::uint64_t bits() const noexcept { return bits_; }
  std::uint64_t sign_errors() const noexcept { return sign_errors_; }
  /// Bits whose LLR is exactly 0 (no information: an erasure-like tie, e.g. a sample exactly on
  /// a decision boundary). They count as sign errors; a hard decision there is a coin flip.
  std::uint64_t zero_llrs() const noexcept { return zero_llrs_; }
  double sign_ber() const noexcept;
  double mean_abs_llr() const noexcept;
  /// Sign errors the LLRs themselves claim: Σ over bins of count × 1/(1 + e^|L_mid|).
  double claimed_errors() const noexcept;
  /// Observed ÷ claimed sign errors (NaN when there are no bits; +∞ when errors occur where
  /// the LLRs claim none).
  double calibration_ratio() const noexcept;
  std::span<const std::uint64_t> bin_counts() const noexcept { return counts_; }
  std::span<const std::uint64_t> bin_errors() const noexcept { return errors_; }

 private:
  std::array<std::uint64_t, kBins> counts_{};
  std::array<std::uint64_t, kBins> errors_{};
  std::uint64_t bits_ = 0;
  std::uint64_t sign_errors_ = 0;
  std::uint64_t zero_llrs_ = 0;
  double abs_sum_ = 0.0;
};

}  // namespace amimo::metrics
