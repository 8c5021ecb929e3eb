#pragma once
// Error counting with 95% confidence intervals.
//
// Errors inside one frame are correlated (one channel realisation serves many bits), so
// a plain binomial interval would be too narrow. The interval is a Wilson score interval
// on the effective sample size n / deff, with the design effect deff ≥ 1 estimated from
// the spread of per-frame error counts (Kish; cluster sampling with equal cluster sizes).

#include <cstdint>

namespace amimo::metrics {

struct interval {
  double low = 0.0;
  double high = 1.0;
};

/// Wilson score interval for a proportion with `successes` of `trials` at z (1.96: 95%).
/// Trials may be fractional (an effective sample size). Zero trials gives [0, 1].
interval wilson_interval(double successes, double trials, double z = 1.959963984540054);

/// Counts over frames (of any size: a partly erased frame scores fewer bits).
class error_counter {
 public:
  /// Adds one frame: its bit errors out of `bits`, symbol errors out of `symbols`. A frame
  /// with no scored bits (every stream erased) is not a frame of the estimate: it counted
  /// as an error-free one, lowering the FER and the BER interval's design effect.
  void add_frame(std::uint64_t bits, std::uint64_t bit_errors, std::uint64_t symbols,
                 std::uint64_t symbol_errors) noexcept;
  void merge(const error_counter& other) noexcept;

  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t frame_errors() const noexcept { return frame_errors_; }
  std::uint64_t bits() const noexcept { return bits_; }
  std::uint64_t bit_errors() const noexcept { return bit_errors_; }
  std::uint64_t symbols() const noexcept { return symbols_; }
  std::uint64_t symbol_errors() const noexcept { return symbol_errors_; }

  double ber() const noexcept;
  double ser() const noexcept;
  double fer() const noexcept;
  /// Design effect of frame clustering on the BER estimate (≥ 1).
  double design_effect() const noexcept;
  /// 95% interval of the BER.
  interval ber_interval() const noexcept;

 private:
  std::uint64_t frames_ = 0;
  std::uint64_t frame_errors_ = 0;
  std::uint64_t bits_ = 0;
  std::uint64_t bit_errors_ = 0;
  std::uint64_t symbols_ = 0;
  std::uint64_t symbol_errors_ = 0;
  // Σ e_f², Σ e_f b_f and Σ b_f² over frames, for the between-frame variance of the ratio
  // estimator with each frame's own size.
  double sum_e2_ = 0.0;
  double sum_eb_ = 0.0;
  double sum_b2_ = 0.0;
};

}  // namespace amimo::metrics
