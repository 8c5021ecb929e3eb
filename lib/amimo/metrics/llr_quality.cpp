#include <amimo/metrics/llr_quality.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace amimo::metrics {

void llr_quality::add(std::span<const float> llrs, std::span<const bit> reference) noexcept {
  const std::size_t n = std::min(llrs.size(), reference.size());
  double abs_sum = 0.0;
  std::uint64_t wrong_total = 0;
  std::uint64_t zeros = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float l = llrs[i];
    const float a = std::fabs(l);
    // A zero LLR carries no decision: it is a sign error whatever the bit.
    const bool wrong = !(l != 0.0F) || ((l < 0.0F) != (reference[i] != 0));
    const auto bin = static_cast<std::size_t>(std::min(a * static_cast<float>(1.0 / kBinWidth),
                                                       static_cast<float>(kBins - 1)));
    ++counts_[bin];
    errors_[bin] += wrong ? 1U : 0U;
    wrong_total += wrong ? 1U : 0U;
    zeros += l == 0.0F ? 1U : 0U;
    abs_sum += static_cast<double>(a);
  }
  bits_ += n;
  sign_errors_ += wrong_total;
  zero_llrs_ += zeros;
  abs_sum_ += abs_sum;
}

void llr_quality::merge(const llr_quality& other) noexcept {
  for (int b = 0; b < kBins; ++b) {
    counts_[static_cast<std::size_t>(b)] += other.counts_[static_cast<std::size_t>(b)];
    errors_[static_cast<std::size_t>(b)] += other.errors_[static_cast<std::size_t>(b)];
  }
  bits_ += other.bits_;
  sign_errors_ += other.sign_errors_;
  zero_llrs_ += other.zero_llrs_;
  abs_sum_ += other.abs_sum_;
}

double llr_quality::sign_ber() const noexcept {
  return bits_ == 0 ? 0.0 : static_cast<double>(sign_errors_) / static_cast<double>(bits_);
}

double llr_quality::mean_abs_llr() const noexcept {
  return bits_ == 0 ? 0.0 : abs_sum_ / static_cast<double>(bits_);
}

double llr_quality::claimed_errors() const noexcept {
  double claimed = 0.0;
  for (int b = 0; b < kBins; ++b) {
    const double mid = b == kBins - 1 ? 16.0 : (b + 0.5) * kBinWidth;
    claimed += static_cast<double>(counts_[static_cast<std::size_t>(b)]) / (1.0 + std::exp(mid));
  }
  return claimed;
}

double llr_quality::calibration_ratio() const noexcept {
  if (bits_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const double claimed = claimed_errors();
  if (claimed <= 0.0) return sign_errors_ == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  return static_cast<double>(sign_errors_) / claimed;
}

}  // namespace amimo::metrics
