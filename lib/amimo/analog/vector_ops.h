#pragma once
// The simulator's converter loops (DAC/ADC quantisation, HP-MVM input rounding), four
// doubles at a time with AVX: the same IEEE operations per value as the scalar
// std::min/std::max/std::nearbyint expressions (which GCC leaves scalar and branchy), so
// the results are bit for bit those of the scalar loops, which other builds run.
// Internal to lib/amimo/analog.

#include <algorithm>
#include <cmath>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace amimo::analog::detail {

/// out_i = nearbyint(min(max(in_i, −1), 1)·steps) / steps (a DAC code back in signal units).
inline void dac_codes(const double* in, double* out, int n, double steps) noexcept {
  int i = 0;
#if defined(__AVX__)
  // max_pd(lo, x) / min_pd(hi, x) return x when x is NaN, as std::max(x, lo) / std::min(x, hi).
  const __m256d lo = _mm256_set1_pd(-1.0);
  const __m256d hi = _mm256_set1_pd(1.0);
  const __m256d s = _mm256_set1_pd(steps);
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_min_pd(hi, _mm256_max_pd(lo, _mm256_loadu_pd(in + i)));
    const __m256d q = _mm256_round_pd(_mm256_mul_pd(v, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_pd(out + i, _mm256_div_pd(q, s));
  }
#endif
  for (; i < n; ++i) out[i] = std::nearbyint(std::min(std::max(in[i], -1.0), 1.0) * steps) / steps;
}

/// v_i = nearbyint(min(max(v_i / full, −1), 1)·steps) / steps · full (an ADC with rails).
inline void adc_codes(double* v, int n, double full, double steps) noexcept {
  int i = 0;
#if defined(__AVX__)
  const __m256d lo = _mm256_set1_pd(-1.0);
  const __m256d hi = _mm256_set1_pd(1.0);
  const __m256d s = _mm256_set1_pd(steps);
  const __m256d f = _mm256_set1_pd(full);
  for (; i + 4 <= n; i += 4) {
    const __m256d x = _mm256_min_pd(hi, _mm256_max_pd(lo, _mm256_div_pd(_mm256_loadu_pd(v + i), f)));
    const __m256d q = _mm256_round_pd(_mm256_mul_pd(x, s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_pd(v + i, _mm256_mul_pd(_mm256_div_pd(q, s), f));
  }
#endif
  for (; i < n; ++i) {
    const double x = std::min(std::max(v[i] / full, -1.0), 1.0);
    v[i] = std::nearbyint(x * steps) / steps * full;
  }
}

/// out_i = nearbyint(in_i / scale · full) (block floating point, before the integer cast).
inline void rounded_ratio(const double* in, double* out, int n, double scale, double full) noexcept {
  int i = 0;
#if defined(__AVX__)
  const __m256d sc = _mm256_set1_pd(scale);
  const __m256d fu = _mm256_set1_pd(full);
  for (; i + 4 <= n; i += 4) {
    const __m256d x = _mm256_mul_pd(_mm256_div_pd(_mm256_loadu_pd(in + i), sc), fu);
    _mm256_storeu_pd(out + i, _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
#endif
  for (; i < n; ++i) out[i] = std::nearbyint(in[i] / scale * full);
}

}  // namespace amimo::analog::detail
