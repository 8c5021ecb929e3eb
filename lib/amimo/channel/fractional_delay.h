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
// towards the band edge and shrinks with W.
//
// Accuracy contract. The error of one tap, e(f, d) = |Σ_j c[j] e^{−j2π f j} − e^{−j2π f d}|
// (f in cycles per sample), bounds the whole channel's: H_FIR(f) − H(f) = Σ_l G_l e_l(f) has
// E‖·‖² = Σ_l p_l |e_l(f)|² ≤ max_d e(f, d)² · E‖H(f)‖² for independent taps. A user of the
// FIR states the band it needs, |f| ≤ band (for OFDM: (used/2) / fft_size), and
// validate_fractional_delay() refuses a half-width below 8 or above 256, or one whose worst
// single-tap error over that band exceeds fractional_delay_tolerance (1e-3, −60 dB). With
// β = 8: W = 7 meets it up to |f| ≈ 0.33, W = 8 up to ≈ 0.35, W = 16 up to ≈ 0.42, W = 32
// up to ≈ 0.46; no W reaches 0.5 (the sinc's transition band sits at the Nyquist edge).

#include <amimo/channel/selective_channel.h>
#include <amimo/core/types.h>

#include <span>

namespace amimo::channel {

struct fractional_delay_options {
  int half_width = 16;       ///< W: coefficients on each side of the delay
  double kaiser_beta = 8.0;  ///< Kaiser window shape
};

inline constexpr int fractional_delay_min_half_width = 8;
inline constexpr int fractional_delay_max_half_width = 256;
/// The largest single-tap error e(f, d) validate_fractional_delay() accepts on the band.
inline constexpr double fractional_delay_tolerance = 1e-3;

/// max e(f, d) over |f| ≤ band (cycles per sample, clamped to [0, 0.5]) and over the
/// fractional part of d: evaluated at 64 fractions (the error depends only on the fraction,
/// symmetrically about ½) and on a frequency grid of 16 points per 1/(2W) plus the band edge.
/// Costs about 64 · W · (band · 32W) complex multiplies (W = 16, band 0.3: 0.3 M).
double fractional_delay_worst_error(const fractional_delay_options& options, double band);
/// The largest band (a grid point as above, ≤ 0.5) up to which the worst error stays within
/// tolerance; 0 when even DC fails.
double fractional_delay_accurate_band(const fractional_delay_options& options, double tolerance);
/// Throws config_error when options.half_width is outside [8, 256], or when the worst
/// single-tap error over |f| ≤ band exceeds fractional_delay_tolerance (the message states
/// the error and the band this half-width does meet).
void validate_fractional_delay(const fractional_delay_options& options, double band);

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
