#include <amimo/metrics/error_stats.h>

#include <algorithm>
#include <cmath>

namespace amimo::metrics {

interval wilson_interval(double successes, double trials, double z) {
  if (!(trials > 0.0)) return {0.0, 1.0};
  const double p = successes / trials;
  const double z2 = z * z;
  const double denominator = 1.0 + z2 / trials;
  const double centre = (p + z2 / (2.0 * trials)) / denominator;
  const double half = z * std::sqrt(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)) / denominator;
  // At the boundaries the interval's end is exactly 0 or 1 (rounding would leave ~1e-22).
  const double low = successes <= 0.0 ? 0.0 : std::max(0.0, centre - half);
  const double high = successes >= trials ? 1.0 : std::min(1.0, centre + half);
  return {low, high};
}

void error_counter::add_frame(std::uint64_t bits, std::uint64_t bit_errors, std::uint64_t symbols,
                              std::uint64_t symbol_errors) noexcept {
  if (bits == 0) return;  // nothing scored: no frame of the estimate
  ++frames_;
  if (bit_errors > 0) ++frame_errors_;
  bits_ += bits;
  bit_errors_ += bit_errors;
  symbols_ += symbols;
  symbol_errors_ += symbol_errors;
  const double e = static_cast<double>(bit_errors);
  const double b = static_cast<double>(bits);
  sum_e2_ += e * e;
  sum_eb_ += e * b;
  sum_b2_ += b * b;
}

void error_counter::merge(const error_counter& other) noexcept {
  frames_ += other.frames_;
  frame_errors_ += other.frame_errors_;
  bits_ += other.bits_;
  bit_errors_ += other.bit_errors_;
  symbols_ += other.symbols_;
  symbol_errors_ += other.symbol_errors_;
  sum_e2_ += other.sum_e2_;
  sum_eb_ += other.sum_eb_;
  sum_b2_ += other.sum_b2_;
}

namespace {
double ratio(std::uint64_t a, std::uint64_t b) noexcept {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}
}  // namespace

double error_counter::ber() const noexcept { return ratio(bit_errors_, bits_); }
double error_counter::ser() const noexcept { return ratio(symbol_errors_, symbols_); }
double error_counter::fer() const noexcept { return ratio(frame_errors_, frames_); }

double error_counter::design_effect() const noexcept {
  if (frames_ < 2 || bits_ == 0 || bit_errors_ == 0 || bit_errors_ == bits_) return 1.0;
  // Ratio estimator p̂ = Σe/n over frames of b_f bits (b̄ = n/F). Between-frame variance:
  //   V_c = Σ (e_f − p̂ b_f)² / (F (F−1) b̄²),  Σ (e_f − p̂ b_f)² = Σe² − 2p̂ Σe·b + p̂² Σb²
  // (equal sizes: Σe² − n p̂² b). Binomial variance V_b = p̂(1−p̂)/n; deff = V_c / V_b.
  const double n = static_cast<double>(bits_);
  const double f = static_cast<double>(frames_);
  const double b = n / f;
  const double p = ber();
  const double spread = sum_e2_ - 2.0 * p * sum_eb_ + p * p * sum_b2_;
  const double between = std::max(0.0, spread) / (f * (f - 1.0) * b * b);
  const double binomial = p * (1.0 - p) / n;
  return std::max(1.0, between / binomial);
}

interval error_counter::ber_interval() const noexcept {
  const double deff = design_effect();
  const double n_eff = static_cast<double>(bits_) / deff;
  return wilson_interval(ber() * n_eff, n_eff);
}

}  // namespace amimo::metrics
