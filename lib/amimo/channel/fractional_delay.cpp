#include <amimo/channel/fractional_delay.h>

#include <amimo/core/error.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

namespace amimo::channel {
namespace {

bool is_integer(double d) noexcept { return d == std::floor(d); }

// Modified Bessel function of the first kind, order 0 (power series; converges fast for
// the arguments of a Kaiser window, x ≤ ~20).
double bessel_i0(double x) noexcept {
  double sum = 1.0;
  double term = 1.0;
  const double q = x * x / 4.0;
  for (int k = 1; k < 64; ++k) {
    term *= q / (static_cast<double>(k) * static_cast<double>(k));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

// The worst single-tap error over the fractional part of the delay, evaluated at the
// frequencies of a grid: fractions k/64, k = 1 … 32 (e(f, 1 − x) = e(f, x) by symmetry of
// the window), frequencies 0, Δ, 2Δ, … with Δ = 1/(32W) (16 points per 1/(2W), the scale of
// the FIR's ripple). Coefficients are computed once per fraction.
class error_grid {
 public:
  explicit error_grid(const fractional_delay_options& options)
      : options_(options), length_(2 * options.half_width), step_(1.0 / (32.0 * options.half_width)) {
    coefficients_.resize(static_cast<std::size_t>(fractions * length_));
    offsets_.resize(fractions);
    for (int k = 0; k < fractions; ++k) {
      const double d = static_cast<double>(k + 1) / 64.0;  // integer part 0: first = 1 − W
      fractional_delay_coefficients(
          d, options_, std::span<double>(coefficients_).subspan(static_cast<std::size_t>(k * length_), length_));
      offsets_[static_cast<std::size_t>(k)] = static_cast<double>(fractional_delay_first(d, options_)) - d;
    }
  }
  double step() const noexcept { return step_; }
  // max over the fractions of |Σ_i c_i e^{−j2π f (x_0 + i)} − 1|, x_0 = first − d.
  double at(double f) const {
    double worst = 0.0;
    const std::complex<double> rotation = std::polar(1.0, -2.0 * std::numbers::pi * f);
    for (int k = 0; k < fractions; ++k) {
      std::complex<double> phasor =
          std::polar(1.0, -2.0 * std::numbers::pi * f * offsets_[static_cast<std::size_t>(k)]);
      std::complex<double> sum{0.0, 0.0};
      const double* c = coefficients_.data() + static_cast<std::size_t>(k * length_);
      for (int i = 0; i < length_; ++i) {
        sum += c[i] * phasor;
        phasor *= rotation;
      }
      worst = std::max(worst, std::abs(sum - 1.0));
    }
    return worst;
  }

 private:
  static constexpr int fractions = 32;
  fractional_delay_options options_;
  int length_;
  double step_;
  std::vector<double> coefficients_;
  std::vector<double> offsets_;
};

}  // namespace

double fractional_delay_worst_error(const fractional_delay_options& options, double band) {
  const error_grid grid(options);
  const double edge = std::clamp(band, 0.0, 0.5);
  double worst = 0.0;
  for (double f = 0.0; f < edge; f += grid.step()) worst = std::max(worst, grid.at(f));
  return std::max(worst, grid.at(edge));
}

double fractional_delay_accurate_band(const fractional_delay_options& options, double tolerance) {
  const error_grid grid(options);
  double good = 0.0;
  for (int i = 0;; ++i) {
    const double f = std::min(0.5, static_cast<double>(i) * grid.step());
    if (grid.at(f) > tolerance) return good;
    good = f;
    if (f >= 0.5) return good;
  }
}

void validate_fractional_delay(const fractional_delay_options& options, double band) {
  char text[400];
  if (options.half_width < fractional_delay_min_half_width || options.half_width > fractional_delay_max_half_width) {
    std::snprintf(text, sizeof text,
                  "windowed-sinc channel FIR: half-width must be in %d..%d (got %d; below %d it misses a fractional "
                  "delay's response by more than %g even at a third of the sample rate)",
                  fractional_delay_min_half_width, fractional_delay_max_half_width, options.half_width,
                  fractional_delay_min_half_width, fractional_delay_tolerance);
    throw config_error(text);
  }
  if (!(options.kaiser_beta >= 0.0 && options.kaiser_beta <= 50.0)) {
    std::snprintf(text, sizeof text, "windowed-sinc channel FIR: Kaiser beta must be in [0, 50] (got %g)",
                  options.kaiser_beta);
    throw config_error(text);
  }
  const double error = fractional_delay_worst_error(options, band);
  if (error > fractional_delay_tolerance) {
    std::snprintf(text, sizeof text,
                  "windowed-sinc channel FIR: half-width %d misses a fractional delay's response by up to %.2g on the "
                  "band |f| <= %.3f of the sample rate (limit %g); it meets the limit up to |f| = %.3f: use fewer "
                  "used subcarriers, a larger half-width, or the per-subcarrier channel",
                  options.half_width, error, band, fractional_delay_tolerance,
                  fractional_delay_accurate_band(options, fractional_delay_tolerance));
    throw config_error(text);
  }
}

int fractional_delay_first(double delay_samples, const fractional_delay_options& options) noexcept {
  if (is_integer(delay_samples)) return static_cast<int>(delay_samples);
  return static_cast<int>(std::floor(delay_samples)) - options.half_width + 1;
}

int fractional_delay_length(double delay_samples, const fractional_delay_options& options) noexcept {
  return is_integer(delay_samples) ? 1 : 2 * options.half_width;
}

void fractional_delay_coefficients(double delay_samples, const fractional_delay_options& options,
                                   std::span<double> out) noexcept {
  const int length = fractional_delay_length(delay_samples, options);
  if (length == 1) {
    out[0] = 1.0;
    return;
  }
  const int first = fractional_delay_first(delay_samples, options);
  const double w = static_cast<double>(options.half_width);
  const double norm = bessel_i0(options.kaiser_beta);
  double sum = 0.0;
  for (int i = 0; i < length; ++i) {
    const double x = static_cast<double>(first + i) - delay_samples;  // in (−W, W)
    const double sinc = std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    const double r = x / w;
    const double window = bessel_i0(options.kaiser_beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / norm;
    out[static_cast<std::size_t>(i)] = sinc * window;
    sum += out[static_cast<std::size_t>(i)];
  }
  for (int i = 0; i < length; ++i) out[static_cast<std::size_t>(i)] /= sum;
}

fir_span channel_fir_span(std::span<const double> delays, const fractional_delay_options& options) noexcept {
  if (delays.empty()) return {};
  int first = fractional_delay_first(delays[0], options);
  int last = first;
  for (const double d : delays) {
    const int f = fractional_delay_first(d, options);
    first = std::min(first, f);
    last = std::max(last, f + fractional_delay_length(d, options) - 1);
  }
  return {first, last - first + 1};
}

void channel_fir(const selective_channel_model& model, const fractional_delay_options& options, cmat_ref out,
                 std::span<double> coefficients) {
  const auto delays = model.tap_delays();
  const fir_span span = channel_fir_span(delays, options);
  const Eigen::Index entries = static_cast<Eigen::Index>(model.antennas()) * model.users();
  out.setZero();
  for (std::size_t l = 0; l < delays.size(); ++l) {
    const int first = fractional_delay_first(delays[l], options) - span.first;
    const int length = fractional_delay_length(delays[l], options);
    fractional_delay_coefficients(delays[l], options, coefficients);
    const cmat_cref g = model.tap_gain(static_cast<int>(l));
    const Eigen::Map<const cvec> vec_g(g.data(), entries);
    for (int i = 0; i < length; ++i) out.col(first + i) += coefficients[static_cast<std::size_t>(i)] * vec_g;
  }
}

}  // namespace amimo::channel
