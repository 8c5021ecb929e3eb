#pragma once
// Band-limited (windowed-sinc) realisation of a tapped delay line with fractional delays,
// for channels applied to time-domain sample streams.
//
// A tap at delay d samples (any real d ≥ 0) becomes the FIR coefficients
//   c[j] = sinc(j − d) · w(j − d),   j = ⌊d⌋ − W + 1 … ⌊d⌋ + W,
// sinc(x) = sin(πx)/(πx), w a Kaiser window of half-width W (β = kaiser_beta), normalised
// so Σ_j c[j] = 1 (unit gain at DC). An integer d gives the single coefficient c[d] = 1
// exactly. The combined filter of a selective channel (antennas × users taps) is
//   F[j] = Σ_l G_l c_l[j],
// whose frequency response Σ_j F[j] e^{−j2π f j / n} approximates
// H(f) = Σ_l G_l e^{−j2π f d_l / n} inside the band (|f| well below n/2); the error grows
// towards the band edge and shrinks with W (tests/channel/test_fractional_delay.cpp states
// the bound measured for the defaults).

#include <amimo/channel/selective_channel.h>
#include <amimo/core/types.h>

#include <span>

namespace amimo::channel {

struct fractional_delay_options {
  int half_width = 16;       ///< W: coefficients on each side of the delay
  double kaiser_beta = 8.0;  ///< Kaiser window shape
};

/// First FIR index of a tap at delay_samples (⌊d⌋ − W + 1, or d itself for an integer d).
int fractional_delay_first(double delay_samples, const fractional_delay_options& options) noexcept;
/// Number of coefficients of a tap (2W, or 1 for an integer delay).
int fractional_delay_length(double delay_samples, const fractional_delay_options& options) noexcept;
/// Writes the coefficients of a tap at delay_samples into out (fractional_delay_length()
/// values, starting at index fractional_delay_first()). Does not allocate.
void fractional_delay_coefficients(double delay_samples, const fractional_delay_options& options,
                                   std::span<double> out) noexcept;

/// The span of FIR indices [first, first + length) covering every tap of a model.
struct fir_span {
  int first = 0;
  int length = 1;
};
fir_span channel_fir_span(std::span<const double> delays, const fractional_delay_options& options) noexcept;

/// The combined FIR of the model's current state: out is (antennas · users) × length of
/// channel_fir_span(); column j holds vec(F[first + j]) (column-major antennas × users).
/// Does not allocate when out already has the right shape; coefficients is scratch of at
/// least 2W values.
void channel_fir(const selective_channel_model& model, const fractional_delay_options& options, cmat_ref out,
                 std::span<double> coefficients);

}  // namespace amimo::channel
