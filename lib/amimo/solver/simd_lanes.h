// A minimal SIMD vector for the batched kernels: one lane is one independent system (one
// subcarrier), as in Intel MKL's "compact" routines. A per-target header in Highway's
// sense (hwy/foreach_target.h): a file that includes it between HWY_BEFORE_NAMESPACE()
// and HWY_AFTER_NAMESPACE() passes — directly, or through compact_kernels.h /
// compact_io.h — gets, in namespace amimo::simd::HWY_NAMESPACE, the lanes of the target
// being compiled:
//   HWY_AVX3   AVX-512F intrinsics: lanes<float>::size 16, lanes<double>::size 8;
//   HWY_AVX2   AVX2/FMA intrinsics: 8 and 4;
//   any other  one plain scalar lane (std::fma), so every target computes the same thing.
// Each lane does the same IEEE operations (fused multiply-add with one rounding, correctly
// rounded sqrt and division) on every target, so results do not depend on the target.
// Which target runs is chosen at run time (solver/simd_target.h).

#include <hwy/highway.h>

#include <cmath>
#include <cstddef>
#include <immintrin.h>

#if defined(AMIMO_SOLVER_SIMD_LANES_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AMIMO_SOLVER_SIMD_LANES_H_
#undef AMIMO_SOLVER_SIMD_LANES_H_
#else
#define AMIMO_SOLVER_SIMD_LANES_H_
#endif

HWY_BEFORE_NAMESPACE();
namespace amimo::simd::HWY_NAMESPACE {

template <typename Real>
struct lanes;

#if HWY_TARGET == HWY_AVX3

// sqrt, min and max as their zero-masking forms under a full mask (the same instructions):
// GCC 12 reports a false maybe-uninitialized inside the unmasked intrinsics.
template <>
struct alignas(64) lanes<float> {
  using value_type = float;
  static constexpr int size = 16;
  __m512 v;
  HWY_ATTR static lanes load(const float* p) noexcept { return {_mm512_load_ps(p)}; }
  HWY_ATTR static lanes broadcast(float x) noexcept { return {_mm512_set1_ps(x)}; }
  HWY_ATTR static lanes zero() noexcept { return {_mm512_setzero_ps()}; }
  HWY_ATTR void store(float* p) const noexcept { _mm512_store_ps(p, v); }
  HWY_ATTR friend lanes operator+(lanes a, lanes b) noexcept { return {_mm512_add_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator-(lanes a, lanes b) noexcept { return {_mm512_sub_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator*(lanes a, lanes b) noexcept { return {_mm512_mul_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator/(lanes a, lanes b) noexcept { return {_mm512_div_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes sqrt(lanes a) noexcept { return {_mm512_maskz_sqrt_ps(0xFFFF, a.v)}; }
  HWY_ATTR friend lanes min(lanes a, lanes b) noexcept { return {_mm512_maskz_min_ps(0xFFFF, a.v, b.v)}; }
  HWY_ATTR friend lanes max(lanes a, lanes b) noexcept { return {_mm512_maskz_max_ps(0xFFFF, a.v, b.v)}; }
  HWY_ATTR friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ), y.v, x.v)};
  }
};

template <>
struct alignas(64) lanes<double> {
  using value_type = double;
  static constexpr int size = 8;
  __m512d v;
  HWY_ATTR static lanes load(const double* p) noexcept { return {_mm512_load_pd(p)}; }
  HWY_ATTR static lanes broadcast(double x) noexcept { return {_mm512_set1_pd(x)}; }
  HWY_ATTR static lanes zero() noexcept { return {_mm512_setzero_pd()}; }
  HWY_ATTR void store(double* p) const noexcept { _mm512_store_pd(p, v); }
  HWY_ATTR friend lanes operator+(lanes a, lanes b) noexcept { return {_mm512_add_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator-(lanes a, lanes b) noexcept { return {_mm512_sub_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator*(lanes a, lanes b) noexcept { return {_mm512_mul_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator/(lanes a, lanes b) noexcept { return {_mm512_div_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm512_fnmadd_pd(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes sqrt(lanes a) noexcept { return {_mm512_maskz_sqrt_pd(0xFF, a.v)}; }
  HWY_ATTR friend lanes min(lanes a, lanes b) noexcept { return {_mm512_maskz_min_pd(0xFF, a.v, b.v)}; }
  HWY_ATTR friend lanes max(lanes a, lanes b) noexcept { return {_mm512_maskz_max_pd(0xFF, a.v, b.v)}; }
  HWY_ATTR friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm512_mask_blend_pd(_mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ), y.v, x.v)};
  }
};

#elif HWY_TARGET == HWY_AVX2
// (alignas: in a build whose baseline has no AVX, GCC gives a __m256 member only 16-byte
// alignment outside the target region, and std::vector would allocate it misaligned.)
template <>
struct alignas(32) lanes<float> {
  using value_type = float;
  static constexpr int size = 8;
  __m256 v;
  HWY_ATTR static lanes load(const float* p) noexcept { return {_mm256_load_ps(p)}; }
  HWY_ATTR static lanes broadcast(float x) noexcept { return {_mm256_set1_ps(x)}; }
  HWY_ATTR static lanes zero() noexcept { return {_mm256_setzero_ps()}; }
  HWY_ATTR void store(float* p) const noexcept { _mm256_store_ps(p, v); }
  HWY_ATTR friend lanes operator+(lanes a, lanes b) noexcept { return {_mm256_add_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator-(lanes a, lanes b) noexcept { return {_mm256_sub_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator*(lanes a, lanes b) noexcept { return {_mm256_mul_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes operator/(lanes a, lanes b) noexcept { return {_mm256_div_ps(a.v, b.v)}; }
  /// a·b + c and c − a·b, one rounding each.
  HWY_ATTR friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes sqrt(lanes a) noexcept { return {_mm256_sqrt_ps(a.v)}; }
  HWY_ATTR friend lanes min(lanes a, lanes b) noexcept { return {_mm256_min_ps(a.v, b.v)}; }
  HWY_ATTR friend lanes max(lanes a, lanes b) noexcept { return {_mm256_max_ps(a.v, b.v)}; }
  /// Lanes where a > b (false for NaN) keep x, the others take y.
  HWY_ATTR friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ))};
  }
};

template <>
struct alignas(32) lanes<double> {
  using value_type = double;
  static constexpr int size = 4;
  __m256d v;
  HWY_ATTR static lanes load(const double* p) noexcept { return {_mm256_load_pd(p)}; }
  HWY_ATTR static lanes broadcast(double x) noexcept { return {_mm256_set1_pd(x)}; }
  HWY_ATTR static lanes zero() noexcept { return {_mm256_setzero_pd()}; }
  HWY_ATTR void store(double* p) const noexcept { _mm256_store_pd(p, v); }
  HWY_ATTR friend lanes operator+(lanes a, lanes b) noexcept { return {_mm256_add_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator-(lanes a, lanes b) noexcept { return {_mm256_sub_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator*(lanes a, lanes b) noexcept { return {_mm256_mul_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes operator/(lanes a, lanes b) noexcept { return {_mm256_div_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {_mm256_fnmadd_pd(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes sqrt(lanes a) noexcept { return {_mm256_sqrt_pd(a.v)}; }
  HWY_ATTR friend lanes min(lanes a, lanes b) noexcept { return {_mm256_min_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes max(lanes a, lanes b) noexcept { return {_mm256_max_pd(a.v, b.v)}; }
  HWY_ATTR friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept {
    return {_mm256_blendv_pd(y.v, x.v, _mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ))};
  }
};

#else

template <typename Real>
struct lanes {
  using value_type = Real;
  static constexpr int size = 1;
  Real v;
  HWY_ATTR static lanes load(const Real* p) noexcept { return {*p}; }
  HWY_ATTR static lanes broadcast(Real x) noexcept { return {x}; }
  HWY_ATTR static lanes zero() noexcept { return {Real(0)}; }
  HWY_ATTR void store(Real* p) const noexcept { *p = v; }
  HWY_ATTR friend lanes operator+(lanes a, lanes b) noexcept { return {a.v + b.v}; }
  HWY_ATTR friend lanes operator-(lanes a, lanes b) noexcept { return {a.v - b.v}; }
  HWY_ATTR friend lanes operator*(lanes a, lanes b) noexcept { return {a.v * b.v}; }
  HWY_ATTR friend lanes operator/(lanes a, lanes b) noexcept { return {a.v / b.v}; }
  HWY_ATTR friend lanes fma(lanes a, lanes b, lanes c) noexcept { return {std::fma(a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes fnma(lanes a, lanes b, lanes c) noexcept { return {std::fma(-a.v, b.v, c.v)}; }
  HWY_ATTR friend lanes sqrt(lanes a) noexcept { return {std::sqrt(a.v)}; }
  HWY_ATTR friend lanes min(lanes a, lanes b) noexcept { return {b.v < a.v ? b.v : a.v}; }
  HWY_ATTR friend lanes max(lanes a, lanes b) noexcept { return {a.v < b.v ? b.v : a.v}; }
  HWY_ATTR friend lanes select_greater(lanes a, lanes b, lanes x, lanes y) noexcept { return {a.v > b.v ? x.v : y.v}; }
};

#endif

}  // namespace amimo::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
