#pragma once
// Per-target dispatch for files compiled with Highway's foreach_target.h (simd_target.h):
// AMIMO_SIMD_DISPATCH(fn) is the address of the fn compiled for simd::current_target(),
// taken in the namespace that holds the per-target namespaces (N_AVX3::fn, N_AVX2::fn, …).

#include <amimo/solver/simd_target.h>

#include <hwy/highway.h>

namespace amimo::simd {

template <typename F>
F pick_target(F avx3, F avx2, F fallback) noexcept {
  const std::int64_t t = current_target_bit();
  if (t == HWY_AVX3 && avx3 != nullptr) return avx3;
  if (t == HWY_AVX2 && avx2 != nullptr) return avx2;
  return fallback;
}

}  // namespace amimo::simd

#define AMIMO_SIMD_DISPATCH(FN)                                                                       \
  ::amimo::simd::pick_target<decltype(&HWY_STATIC_DISPATCH(FN))>(HWY_CHOOSE_AVX3(FN), HWY_CHOOSE_AVX2(FN), \
                                                                 HWY_CHOOSE_FALLBACK(FN))
