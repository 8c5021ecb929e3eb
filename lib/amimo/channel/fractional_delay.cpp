#include <amimo/channel/fractional_delay.h>

#include <algorithm>
#include <cmath>
#include <numbers>

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

}  // namespace

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
