#pragma once
// A minimal SIMD vector for the batched kernels: one lane is one independent system (one
// subcarrier), as in Intel MKL's "compact" routines. AVX2/FMA intrinsics when the build
// targets x86-64-v3 (__AVX2__ and __FMA__ defined), otherwise one plain scalar lane, so a
// portable build (-DAMIMO_X86_64_V3=OFF) computes the same thing one system at a time.
//
// lanes<float>::size is 8 with AVX2 (1 without), lanes<double>::size 4 (1 without).

#include <cmath>
#include <cstddef>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define AMIMO_SIMD_AVX2 1
#endif

namespace amimo::simd {

template <typename Real>
struct lanes;

#if defined(AMIMO_SIMD_AVX2)

template <>
struct lanes<float> {
  using value_type = float;
  static constexpr int size = 8;
  __m256 v;
  static lanes load(const float* p) noexcept { return {_mm256_load_ps(p)}; }
  static lanes broadcast(float x) noexcept { return {_mm256_set1_ps(x)}; }
  static lanes zero() noexcept { return {_mm256_setzero_ps()}; }
  void store(float* p) const noexcept { _mm256_store_ps(p, v); }
  friend lanes operator+(lanes a, lanes b) noexcept { return {_mm256_add_ps(a.v, b.v)}; }
  friend lanes operator-(lanes a, lanes b) noexcept { return {_mm256_sub_ps(a.v, b.v)}; }
  friend lanes operator*(lanes a, lanes b) noexcept { return {_mm256_mul_ps(a.v, b.v)}; }
  friend lanes operator/(lanes a, lanes b) noexcept { return {_mm256_div_ps(a.v, b.v)}; }
  /// a·b + c and c − a·b, one rounding each.
  friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
  friend lanes sqrt(lanes a) noexcept { return {_mm256_sqrt_ps(a.v)}; }
  friend lanes min(lanes a, lanes b) noexcept { return {_mm256_min_ps(a.v, b.v)}; }
  friend lanes max(lanes a, lanes b) noexcept { return {_mm256_max_ps(a.v, b.v)}; }
  /// Lanes where a > b (false for NaN) keep x, the others take y.
  friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ))};
  }
};

template <>
struct lanes<double> {
  using value_type = double;
  static constexpr int size = 4;
  __m256d v;
  static lanes load(const double* p) noexcept { return {_mm256_load_pd(p)}; }
  static lanes broadcast(double x) noexcept { return {_mm256_set1_pd(x)}; }
  static lanes zero() noexcept { return {_mm256_setzero_pd()}; }
  void store(double* p) const noexcept { _mm256_store_pd(p, v); }
  friend lanes operator+(lanes a, lanes b) noexcept { return {_mm256_add_pd(a.v, b.v)}; }
  friend lanes operator-(lanes a, lanes b) noexcept { return {_mm256_sub_pd(a.v, b.v)}; }
  friend lanes operator*(lanes a, lanes b) noexcept { return {_mm256_mul_pd(a.v, b.v)}; }
  friend lanes operator/(lanes a, lanes b) noexcept { return {_mm256_div_pd(a.v, b.v)}; }
  friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fnmadd_pd(a.v, b.v, c.v)}; }
  friend lanes sqrt(lanes a) noexcept { return {_mm256_sqrt_pd(a.v)}; }
  friend lanes min(lanes a, lanes b) noexcept { return {_mm256_min_pd(a.v, b.v)}; }
  friend lanes max(lanes a, lanes b) noexcept { return {_mm256_max_pd(a.v, b.v)}; }
  friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm256_blendv_pd(y.v, x.v, _mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ))};
  }
};

#else

template <typename Real>
struct lanes {
  using value_type = Real;
  static constexpr int size = 1;
  Real v;
  static lanes load(const Real* p) noexcept { return {*p}; }
  static lanes broadcast(Real x) noexcept { return {x}; }
  static lanes zero() noexcept { return {Real(0)}; }
  void store(Real* p) const noexcept { *p = v; }
  friend lanes operator+(lanes a, lanes b) noexcept { return {a.v + b.v}; }
  friend lanes operator-(lanes a, lanes b) noexcept { return {a.v - b.v}; }
  friend lanes operator*(lanes a, lanes b) noexcept { return {a.v * b.v}; }
  friend lanes operator/(lanes a, lanes b) noexcept { return {a.v / b.v}; }
  friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {std::fma(a.v, b.v, c.v)}; }
  friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {std::fma(-a.v, b.v, c.v)}; }
  friend lanes sqrt(lanes a) noexcept { return {std::sqrt(a.v)}; }
  friend lanes min(lanes a, lanes b) noexcept { return {b.v < a.v ? b.v : a.v}; }
  friend lanes max(lanes a, lanes b) noexcept { return {a.v < b.v ? b.v : a.v}; }
  friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept { return {a.v > b.v ? x.v : y.v}; }
};

#endif

}  // namespace amimo::simd
