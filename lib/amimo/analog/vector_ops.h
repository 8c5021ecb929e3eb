#pragma once
// Four-double helpers for the simulator's converter loops (DAC/ADC quantisation), written
// with the GCC/Clang vector extension: the same IEEE operations per value as the scalar
// std::min/std::max/std::nearbyint expressions they replace (GCC leaves those scalar and
// branchy), so results are bit for bit the same. Internal to lib/amimo/analog.

#include <cmath>
#include <cstring>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace amimo::analog::detail {

using v4d = double __attribute__((vector_size(32)));

inline v4d load4(const double* p) noexcept {
  v4d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store4(double* p, v4d v) noexcept { std::memcpy(p, &v, sizeof v); }

inline v4d splat4(double x) noexcept { return v4d{x, x, x, x}; }

/// std::nearbyint per lane (round half to even in the default rounding mode).
inline v4d nearbyint4(v4d v) noexcept {
#if defined(__AVX__)
  return _mm256_round_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
  return v4d{std::nearbyint(v[0]), std::nearbyint(v[1]), std::nearbyint(v[2]), std::nearbyint(v[3])};
#endif
}

/// std::min(std::max(v, lo), hi) per lane (a NaN lane stays NaN, as there).
inline v4d clamp4(v4d v, double lo, double hi) noexcept {
  const v4d l = splat4(lo);
  const v4d h = splat4(hi);
  v = v < l ? l : v;
  return h < v ? h : v;
}

}  // namespace amimo::analog::detail
