#include <amimo/core/normal_stream.h>

#include <amimo/core/rng.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define AMIMO_NORMAL_AVX2 1
#endif

// Both generators below perform the same IEEE operations in the same order: every
// multiply–add is an explicit fused one (std::fma / _mm256_fmadd_pd), no product feeds a
// separate addition, and this file is compiled with -ffp-contract=off (lib/CMakeLists.txt)
// so the compiler cannot fuse differently in the portable path.

namespace amimo {

namespace {

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kLn2Hi = 0x1.62e42fefa3800p-1;  // ln 2 to 43 bits: e·kLn2Hi exact for |e| < 2¹⁰
constexpr double kLn2Lo = 0x1.ef35793c76730p-45;
constexpr double kHalfPi = 1.57079632679489661923;

// ln m = 2 atanh s = 2 s Σ z^k/(2k+1), s = (m−1)/(m+1), z = s², |s| ≤ 0.1716: twelve terms
// leave a truncation error below 1e-18 relative.
constexpr double kAtanh[12] = {1.0,        1.0 / 3.0,  1.0 / 5.0,  1.0 / 7.0,
                               1.0 / 9.0,  1.0 / 11.0, 1.0 / 13.0, 1.0 / 15.0,
                               1.0 / 17.0, 1.0 / 19.0, 1.0 / 21.0, 1.0 / 23.0};
// sin φ = φ Σ (−1)^k z^k/(2k+1)!, cos φ = Σ (−1)^k z^k/(2k)!, z = φ², |φ| ≤ π/4: nine and
// ten terms leave truncation errors below 1e-19.
constexpr double kSin[9] = {1.0,
                            -1.0 / 6.0,
                            1.0 / 120.0,
                            -1.0 / 5040.0,
                            1.0 / 362880.0,
                            -1.0 / 39916800.0,
                            1.0 / 6227020800.0,
                            -1.0 / 1307674368000.0,
                            1.0 / 355687428096000.0};
constexpr double kCos[10] = {1.0,
                             -1.0 / 2.0,
                             1.0 / 24.0,
                             -1.0 / 720.0,
                             1.0 / 40320.0,
                             -1.0 / 3628800.0,
                             1.0 / 479001600.0,
                             -1.0 / 87178291200.0,
                             1.0 / 20922789888000.0,
                             -1.0 / 6402373705728000.0};

// Single precision: ln m to ~1e-9 relative with six terms, sin/cos to ~2e-9 with five and six.
constexpr float kLn2HiF = 0.693145751953125F;  // 16 bits: e·kLn2HiF exact for |e| < 2⁸
constexpr float kLn2LoF = 1.42860682030941723212e-6F;
constexpr float kSqrtTwoF = 1.41421356237309504880F;
constexpr float kHalfPiF = 1.57079632679489661923F;
constexpr float kAtanhF[6] = {1.0F, 1.0F / 3.0F, 1.0F / 5.0F, 1.0F / 7.0F, 1.0F / 9.0F, 1.0F / 11.0F};
constexpr float kSinF[5] = {1.0F, -1.0F / 6.0F, 1.0F / 120.0F, -1.0F / 5040.0F, 1.0F / 362880.0F};
constexpr float kCosF[6] = {1.0F, -1.0F / 2.0F, 1.0F / 24.0F, -1.0F / 720.0F, 1.0F / 40320.0F, -1.0F / 3628800.0F};

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
}

// xoshiro256** step of lane j.
std::uint64_t step(std::uint64_t (&s)[4][4], int j) noexcept {
  const std::uint64_t s1 = s[1][j];
  const std::uint64_t result = rotl(s1 * 5, 7) * 9;
  const std::uint64_t t = s1 << 17U;
  s[2][j] ^= s[0][j];
  s[3][j] ^= s[1][j];
  s[1][j] ^= s[2][j];
  s[0][j] ^= s[3][j];
  s[2][j] ^= t;
  s[3][j] = rotl(s[3][j], 45);
  return result;
}

// The top 52 bits of x as the mantissa of a double in [1, 2).
double unit_interval(std::uint64_t x) noexcept {
  return std::bit_cast<double>((x >> 12U) | 0x3ff0000000000000ULL);
}

// −2 ln u for u ∈ (0, 1], portable.
double minus_two_log(double u) noexcept {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(u);
  double e = static_cast<double>(bits >> 52U) - 1023.0;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 2.0 * kSqrtHalf) {  // keep m in [√½, √2)
    m = m * 0.5;
    e = e + 1.0;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double p = kAtanh[11];
  for (int k = 10; k >= 0; --k) {
    p = std::fma(p, z, kAtanh[k]);
  }
  const double two_s = s + s;
  const double log_m = two_s * p;
  const double ln = std::fma(e, kLn2Hi, std::fma(e, kLn2Lo, log_m));
  return -2.0 * ln;
}

void sin_cos_two_pi(double u, double& sin_out, double& cos_out) noexcept {
  const double t = u * 4.0;             // exact
  const double q = std::nearbyint(t);   // ties to even (default rounding mode)
  const double f = t - q;               // exact, in [−½, ½]
  const double phi = f * kHalfPi;
  const double z = phi * phi;
  double ps = kSin[8];
  for (int k = 7; k >= 0; --k) {
    ps = std::fma(ps, z, kSin[k]);
  }
  double pc = kCos[9];
  for (int k = 8; k >= 0; --k) {
    pc = std::fma(pc, z, kCos[k]);
  }
  const double s = phi * ps;
  const double c = pc;
  switch (static_cast<int>(q) & 3) {
    case 0: cos_out = c; sin_out = s; break;
    case 1: cos_out = -s; sin_out = c; break;
    case 2: cos_out = -c; sin_out = -s; break;
    default: cos_out = s; sin_out = -c; break;
  }
}

// The 32-bit halves of the lanes' draws in memory order (x_{2j} = low half of a_j).
std::uint32_t half(const std::uint64_t (&a)[4], int m) noexcept {
  return static_cast<std::uint32_t>(a[m / 2] >> (32U * static_cast<unsigned>(m & 1)));
}

float minus_two_log_f32(float u) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(u);
  float e = static_cast<float>(static_cast<std::int32_t>(bits >> 23U)) - 127.0F;
  float m = std::bit_cast<float>((bits & 0x007fffffU) | 0x3f800000U);
  if (m > kSqrtTwoF) {
    m = m * 0.5F;
    e = e + 1.0F;
  }
  const float s = (m - 1.0F) / (m + 1.0F);
  const float z = s * s;
  float p = kAtanhF[5];
  for (int k = 4; k >= 0; --k) {
    p = std::fma(p, z, kAtanhF[k]);
  }
  const float log_m = (s + s) * p;
  const float ln = std::fma(e, kLn2HiF, std::fma(e, kLn2LoF, log_m));
  return -2.0F * ln;
}

void sin_cos_two_pi_f32(float u, float& sin_out, float& cos_out) noexcept {
  const float t = u * 4.0F;
  const float q = std::nearbyint(t);
  const float f = t - q;
  const float phi = f * kHalfPiF;
  const float z = phi * phi;
  float ps = kSinF[4];
  for (int k = 3; k >= 0; --k) {
    ps = std::fma(ps, z, kSinF[k]);
  }
  float pc = kCosF[5];
  for (int k = 4; k >= 0; --k) {
    pc = std::fma(pc, z, kCosF[k]);
  }
  const float s = phi * ps;
  const float c = pc;
  switch (static_cast<int>(q) & 3) {
    case 0: cos_out = c; sin_out = s; break;
    case 1: cos_out = -s; sin_out = c; break;
    case 2: cos_out = -c; sin_out = -s; break;
    default: cos_out = s; sin_out = -c; break;
  }
}

#if defined(AMIMO_NORMAL_AVX2)

inline __m256i rotl_v(__m256i x, int k) noexcept {
  return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

inline __m256i step_v(__m256i (&s)[4]) noexcept {
  const __m256i s1 = s[1];
  const __m256i times5 = _mm256_add_epi64(_mm256_slli_epi64(s1, 2), s1);
  const __m256i r = rotl_v(times5, 7);
  const __m256i result = _mm256_add_epi64(_mm256_slli_epi64(r, 3), r);
  const __m256i t = _mm256_slli_epi64(s1, 17);
  s[2] = _mm256_xor_si256(s[2], s[0]);
  s[3] = _mm256_xor_si256(s[3], s[1]);
  s[1] = _mm256_xor_si256(s[1], s[2]);
  s[0] = _mm256_xor_si256(s[0], s[3]);
  s[2] = _mm256_xor_si256(s[2], t);
  s[3] = rotl_v(s[3], 45);
  return result;
}

// Integers below 2⁵² (as u64 lanes) to double, exactly.
inline __m256d small_u64_to_double(__m256i x) noexcept {
  const __m256d magic = _mm256_set1_pd(0x1.0p52);
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, _mm256_castpd_si256(magic))), magic);
}

// G consecutive blocks: the uniforms are drawn in stream order, then the floating-point
// work of the G blocks runs interleaved (independent dependency chains keep the FMA units
// busy; one block alone is bound by the latency of its polynomial chains).
template <int G>
void blocks_avx2(std::uint64_t (&state)[4][4], double* out) noexcept {
  __m256i s[4];
  for (int w = 0; w < 4; ++w) {
    s[w] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[w]));
  }
  const __m256i one_bits = _mm256_set1_epi64x(0x3ff0000000000000LL);
  __m256d u1[G];
  __m256d u2[G];
  for (int g = 0; g < G; ++g) {
    const __m256i a = step_v(s);
    const __m256i b = step_v(s);
    u1[g] = _mm256_sub_pd(_mm256_set1_pd(2.0),
                          _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(a, 12), one_bits)));
    u2[g] = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(b, 12), one_bits)),
                          _mm256_set1_pd(1.0));
  }
  for (int w = 0; w < 4; ++w) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(state[w]), s[w]);
  }
  const __m256d one = _mm256_set1_pd(1.0);

  // −2 ln u1
  __m256d sv[G];
  __m256d e[G];
  for (int g = 0; g < G; ++g) {
    const __m256i bits = _mm256_castpd_si256(u1[g]);
    e[g] = _mm256_sub_pd(small_u64_to_double(_mm256_srli_epi64(bits, 52)), _mm256_set1_pd(1023.0));
    __m256d m = _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)), one_bits));
    const __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(2.0 * kSqrtHalf), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
    e[g] = _mm256_blendv_pd(e[g], _mm256_add_pd(e[g], one), big);
    sv[g] = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
  }
  __m256d z[G];
  __m256d p[G];
  for (int g = 0; g < G; ++g) {
    z[g] = _mm256_mul_pd(sv[g], sv[g]);
    p[g] = _mm256_set1_pd(kAtanh[11]);
  }
  for (int k = 10; k >= 0; --k) {
    for (int g = 0; g < G; ++g) {
      p[g] = _mm256_fmadd_pd(p[g], z[g], _mm256_set1_pd(kAtanh[k]));
    }
  }
  __m256d r[G];
  for (int g = 0; g < G; ++g) {
    const __m256d log_m = _mm256_mul_pd(_mm256_add_pd(sv[g], sv[g]), p[g]);
    const __m256d ln = _mm256_fmadd_pd(e[g], _mm256_set1_pd(kLn2Hi),
                                       _mm256_fmadd_pd(e[g], _mm256_set1_pd(kLn2Lo), log_m));
    r[g] = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), ln));
  }

  // sin and cos of 2π u2
  __m256d q[G];
  __m256d phi[G];
  __m256d ps[G];
  __m256d pc[G];
  for (int g = 0; g < G; ++g) {
    const __m256d t = _mm256_mul_pd(u2[g], _mm256_set1_pd(4.0));
    q[g] = _mm256_round_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    phi[g] = _mm256_mul_pd(_mm256_sub_pd(t, q[g]), _mm256_set1_pd(kHalfPi));
    z[g] = _mm256_mul_pd(phi[g], phi[g]);
    ps[g] = _mm256_set1_pd(kSin[8]);
    pc[g] = _mm256_set1_pd(kCos[9]);
  }
  for (int k = 8; k >= 0; --k) {
    for (int g = 0; g < G; ++g) {
      if (k < 8) {
        ps[g] = _mm256_fmadd_pd(ps[g], z[g], _mm256_set1_pd(kSin[k]));
      }
      pc[g] = _mm256_fmadd_pd(pc[g], z[g], _mm256_set1_pd(kCos[k]));
    }
  }
  for (int g = 0; g < G; ++g) {
    const __m256d sn = _mm256_mul_pd(phi[g], ps[g]);
    const __m256d cs = pc[g];
    const __m256i qi = _mm256_castpd_si256(_mm256_add_pd(q[g], _mm256_set1_pd(0x1.0p52)));
    const __m256i q1 = _mm256_slli_epi64(_mm256_and_si256(qi, _mm256_set1_epi64x(1)), 63);
    const __m256i q2 = _mm256_slli_epi64(_mm256_and_si256(qi, _mm256_set1_epi64x(2)), 62);
    // odd quadrant: swap; cos negated in quadrants 1, 2 (bit1 xor bit0); sin in 2, 3 (bit1).
    const __m256d swap = _mm256_castsi256_pd(q1);
    const __m256d cos_v = _mm256_xor_pd(_mm256_blendv_pd(cs, sn, swap),
                                        _mm256_castsi256_pd(_mm256_xor_si256(q1, q2)));
    const __m256d sin_v = _mm256_xor_pd(_mm256_blendv_pd(sn, cs, swap), _mm256_castsi256_pd(q2));
    _mm256_storeu_pd(out + 8 * g, _mm256_mul_pd(r[g], cos_v));
    _mm256_storeu_pd(out + 8 * g + 4, _mm256_mul_pd(r[g], sin_v));
  }
}

// G consecutive single-precision blocks (16 floats each), interleaved as in blocks_avx2.
template <int G>
void blocks_f32_avx2(std::uint64_t (&state)[4][4], float* out) noexcept {
  __m256i s[4];
  for (int w = 0; w < 4; ++w) {
    s[w] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state[w]));
  }
  __m256 u1[G];
  __m256 u2[G];
  for (int g = 0; g < G; ++g) {
    const __m256i a = step_v(s);
    const __m256i b = step_v(s);
    // The 32-bit lanes of a 256-bit vector are the halves in memory order.
    const __m256 xf = _mm256_cvtepi32_ps(_mm256_srli_epi32(a, 1));
    u1[g] = _mm256_mul_ps(_mm256_add_ps(xf, _mm256_set1_ps(0.5F)), _mm256_set1_ps(0x1.0p-31F));
    u2[g] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b, 8)), _mm256_set1_ps(0x1.0p-24F));
  }
  for (int w = 0; w < 4; ++w) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(state[w]), s[w]);
  }
  const __m256 one = _mm256_set1_ps(1.0F);
  __m256 r[G];
  for (int g = 0; g < G; ++g) {
    const __m256i bits = _mm256_castps_si256(u1[g]);
    __m256 e = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(bits, 23)), _mm256_set1_ps(127.0F));
    __m256 m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000)));
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(kSqrtTwoF), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5F)), big);
    e = _mm256_blendv_ps(e, _mm256_add_ps(e, one), big);
    const __m256 sv = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one));
    const __m256 z = _mm256_mul_ps(sv, sv);
    __m256 p = _mm256_set1_ps(kAtanhF[5]);
    for (int k = 4; k >= 0; --k) {
      p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kAtanhF[k]));
    }
    const __m256 log_m = _mm256_mul_ps(_mm256_add_ps(sv, sv), p);
    const __m256 ln =
        _mm256_fmadd_ps(e, _mm256_set1_ps(kLn2HiF), _mm256_fmadd_ps(e, _mm256_set1_ps(kLn2LoF), log_m));
    r[g] = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0F), ln));
  }
  for (int g = 0; g < G; ++g) {
    const __m256 t = _mm256_mul_ps(u2[g], _mm256_set1_ps(4.0F));
    const __m256 q = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 phi = _mm256_mul_ps(_mm256_sub_ps(t, q), _mm256_set1_ps(kHalfPiF));
    const __m256 z = _mm256_mul_ps(phi, phi);
    __m256 ps = _mm256_set1_ps(kSinF[4]);
    for (int k = 3; k >= 0; --k) {
      ps = _mm256_fmadd_ps(ps, z, _mm256_set1_ps(kSinF[k]));
    }
    __m256 pc = _mm256_set1_ps(kCosF[5]);
    for (int k = 4; k >= 0; --k) {
      pc = _mm256_fmadd_ps(pc, z, _mm256_set1_ps(kCosF[k]));
    }
    const __m256 sn = _mm256_mul_ps(phi, ps);
    const __m256i qi = _mm256_cvtps_epi32(q);
    const __m256i q1 = _mm256_slli_epi32(_mm256_and_si256(qi, _mm256_set1_epi32(1)), 31);
    const __m256i q2 = _mm256_slli_epi32(_mm256_and_si256(qi, _mm256_set1_epi32(2)), 30);
    const __m256 swap = _mm256_castsi256_ps(q1);
    const __m256 cos_v =
        _mm256_xor_ps(_mm256_blendv_ps(pc, sn, swap), _mm256_castsi256_ps(_mm256_xor_si256(q1, q2)));
    const __m256 sin_v = _mm256_xor_ps(_mm256_blendv_ps(sn, pc, swap), _mm256_castsi256_ps(q2));
    _mm256_storeu_ps(out + 16 * g, _mm256_mul_ps(r[g], cos_v));
    _mm256_storeu_ps(out + 16 * g + 8, _mm256_mul_ps(r[g], sin_v));
  }
}

// AVX-512: eight blocks per call, two per 512-bit vector (the lanes of blocks 2g and
// 2g + 1 side by side). The uniforms are drawn exactly as in blocks_avx2 (the generators are
// 4 lanes wide and sequential), and every floating-point operation is the same IEEE
// operation per value (division, square root, FMA, round-to-nearest all correctly rounded),
// so the values are bit for bit those of the AVX2 and portable generators. The state is
// read and written unaligned: detail::normal_blocks_avx512 takes any caller's array.
#if defined(AMIMO_NORMAL_AVX2) && defined(__GNUC__) && defined(__x86_64__)
#define AMIMO_NORMAL_AVX512 1
// GCC 12's AVX-512 headers self-initialise their "undefined" vectors (__Y = __Y), which
// -Wuninitialized reports inside every intrinsic; a known false positive (GCC PR 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) void blocks_avx512_8(std::uint64_t (&state)[4][4], double* out) noexcept {
  constexpr int G = 4;  // vectors, two blocks each
  __m256i s[4];
  for (int w = 0; w < 4; ++w) {
    s[w] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state[w]));
  }
  const __m256i one_bits4 = _mm256_set1_epi64x(0x3ff0000000000000LL);
  __m512d u1[G];
  __m512d u2[G];
  for (int g = 0; g < G; ++g) {
    __m256d lo1;
    __m256d lo2;
    for (int half_index = 0; half_index < 2; ++half_index) {
      const __m256i a = step_v(s);
      const __m256i b = step_v(s);
      const __m256d v1 = _mm256_sub_pd(_mm256_set1_pd(2.0),
                                       _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(a, 12), one_bits4)));
      const __m256d v2 = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(b, 12), one_bits4)),
                                       _mm256_set1_pd(1.0));
      if (half_index == 0) {
        lo1 = v1;
        lo2 = v2;
      } else {
        u1[g] = _mm512_insertf64x4(_mm512_castpd256_pd512(lo1), v1, 1);
        u2[g] = _mm512_insertf64x4(_mm512_castpd256_pd512(lo2), v2, 1);
      }
    }
  }
  for (int w = 0; w < 4; ++w) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(state[w]), s[w]);
  }
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512i one_bits = _mm512_set1_epi64(0x3ff0000000000000LL);
  const __m512d magic = _mm512_set1_pd(0x1.0p52);

  // −2 ln u1
  __m512d sv[G];
  __m512d e[G];
  for (int g = 0; g < G; ++g) {
    const __m512i bits = _mm512_castpd_si512(u1[g]);
    const __m512i ex = _mm512_srli_epi64(bits, 52);
    e[g] = _mm512_sub_pd(_mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(ex, _mm512_castpd_si512(magic))), magic),
                         _mm512_set1_pd(1023.0));
    __m512d m = _mm512_castsi512_pd(
        _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0x000fffffffffffffLL)), one_bits));
    const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(2.0 * kSqrtHalf), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    e[g] = _mm512_mask_add_pd(e[g], big, e[g], one);
    sv[g] = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
  }
  __m512d z[G];
  __m512d p[G];
  for (int g = 0; g < G; ++g) {
    z[g] = _mm512_mul_pd(sv[g], sv[g]);
    p[g] = _mm512_set1_pd(kAtanh[11]);
  }
  for (int k = 10; k >= 0; --k) {
    for (int g = 0; g < G; ++g) {
      p[g] = _mm512_fmadd_pd(p[g], z[g], _mm512_set1_pd(kAtanh[k]));
    }
  }
  __m512d r[G];
  for (int g = 0; g < G; ++g) {
    const __m512d log_m = _mm512_mul_pd(_mm512_add_pd(sv[g], sv[g]), p[g]);
    const __m512d ln = _mm512_fmadd_pd(e[g], _mm512_set1_pd(kLn2Hi),
                                       _mm512_fmadd_pd(e[g], _mm512_set1_pd(kLn2Lo), log_m));
    r[g] = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), ln));
  }

  // sin and cos of 2π u2
  __m512d q[G];
  __m512d phi[G];
  __m512d ps[G];
  __m512d pc[G];
  for (int g = 0; g < G; ++g) {
    const __m512d t = _mm512_mul_pd(u2[g], _mm512_set1_pd(4.0));
    q[g] = _mm512_roundscale_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    phi[g] = _mm512_mul_pd(_mm512_sub_pd(t, q[g]), _mm512_set1_pd(kHalfPi));
    z[g] = _mm512_mul_pd(phi[g], phi[g]);
    ps[g] = _mm512_set1_pd(kSin[8]);
    pc[g] = _mm512_set1_pd(kCos[9]);
  }
  for (int k = 8; k >= 0; --k) {
    for (int g = 0; g < G; ++g) {
      if (k < 8) {
        ps[g] = _mm512_fmadd_pd(ps[g], z[g], _mm512_set1_pd(kSin[k]));
      }
      pc[g] = _mm512_fmadd_pd(pc[g], z[g], _mm512_set1_pd(kCos[k]));
    }
  }
  for (int g = 0; g < G; ++g) {
    const __m512d sn = _mm512_mul_pd(phi[g], ps[g]);
    const __m512d cs = pc[g];
    const __m512i qi = _mm512_castpd_si512(_mm512_add_pd(q[g], magic));
    const __m512i q1 = _mm512_slli_epi64(_mm512_and_si512(qi, _mm512_set1_epi64(1)), 63);
    const __m512i q2 = _mm512_slli_epi64(_mm512_and_si512(qi, _mm512_set1_epi64(2)), 62);
    // odd quadrant: swap; cos negated in quadrants 1, 2 (bit1 xor bit0); sin in 2, 3 (bit1).
    const __mmask8 swap = _mm512_test_epi64_mask(qi, _mm512_set1_epi64(1));
    const __m512d cos_v = _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(_mm512_mask_blend_pd(swap, cs, sn)), _mm512_xor_si512(q1, q2)));
    const __m512d sin_v =
        _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(_mm512_mask_blend_pd(swap, sn, cs)), q2));
    const __m512d c = _mm512_mul_pd(r[g], cos_v);
    const __m512d sn_out = _mm512_mul_pd(r[g], sin_v);
    // Block 2g: cos lanes 0–3 then sin lanes 0–3; block 2g + 1: the upper halves.
    _mm512_storeu_pd(out + 16 * g, _mm512_shuffle_f64x2(c, sn_out, 0x44));
    _mm512_storeu_pd(out + 16 * g + 8, _mm512_shuffle_f64x2(c, sn_out, 0xEE));
  }
}

#pragma GCC diagnostic pop

bool avx512_usable() noexcept {
  static const bool usable = __builtin_cpu_supports("avx512f") != 0;
  return usable;
}
#endif

#endif

// Hands out the leftovers of the last block, then whole blocks straight into `out` (four at a
// time where vectorised), then one more block into the buffer for the tail: the same values
// however a run of draws is split into fills.
template <typename T, int Block, typename One, typename Four>
void fill_blocks(std::span<T> out, T (&buffer)[Block], int& used, One one, Four four) noexcept {
  static_cast<void>(four);  // unused in a portable build
  std::size_t i = 0;
  const std::size_t n = out.size();
  while (i < n && used < Block) {
    out[i++] = buffer[used++];
  }
  constexpr auto block_size = static_cast<std::size_t>(Block);
  if constexpr (!std::is_same_v<Four, std::nullptr_t>) {
    for (; i + 4 * block_size <= n; i += 4 * block_size) {
      four(out.data() + i);
    }
  }
  for (; i + block_size <= n; i += block_size) {
    one(out.data() + i);
  }
  if (i < n) {
    one(buffer);
    used = 0;
    while (i < n) {
      out[i++] = buffer[used++];
    }
  }
}

}  // namespace

namespace detail {

void normal_block_portable_f32(std::uint64_t (&state)[4][4], float (&out)[normal_stream::block_f32]) noexcept {
  std::uint64_t a[4];
  std::uint64_t b[4];
  for (int j = 0; j < 4; ++j) {
    a[j] = step(state, j);
  }
  for (int j = 0; j < 4; ++j) {
    b[j] = step(state, j);
  }
  for (int m = 0; m < 8; ++m) {
    const float xf = static_cast<float>(static_cast<std::int32_t>(half(a, m) >> 1U));
    const float u1 = (xf + 0.5F) * 0x1.0p-31F;
    const float u2 = static_cast<float>(static_cast<std::int32_t>(half(b, m) >> 8U)) * 0x1.0p-24F;
    const float r = std::sqrt(minus_two_log_f32(u1));
    float s = 0.0F;
    float c = 0.0F;
    sin_cos_two_pi_f32(u2, s, c);
    out[m] = r * c;
    out[8 + m] = r * s;
  }
}


void normal_stream_seed(std::uint64_t seed, std::uint64_t (&state)[4][4]) noexcept {
  std::uint64_t x = mix64(seed ^ 0x6e6f726d616c7331ULL);  // "normals1"
  for (int j = 0; j < 4; ++j) {
    for (int w = 0; w < 4; ++w) {
      x += 0x9e3779b97f4a7c15ULL;
      state[w][j] = mix64(x);
    }
  }
}

void normal_block_portable(std::uint64_t (&state)[4][4], double (&out)[normal_stream::block]) noexcept {
  std::uint64_t a[4];
  std::uint64_t b[4];
  for (int j = 0; j < 4; ++j) {
    a[j] = step(state, j);
  }
  for (int j = 0; j < 4; ++j) {
    b[j] = step(state, j);
  }
  for (int j = 0; j < 4; ++j) {
    const double u1 = 2.0 - unit_interval(a[j]);
    const double u2 = unit_interval(b[j]) - 1.0;
    const double r = std::sqrt(minus_two_log(u1));
    double s = 0.0;
    double c = 0.0;
    sin_cos_two_pi(u2, s, c);
    out[j] = r * c;
    out[4 + j] = r * s;
  }
}

}  // namespace detail

void normal_stream::reseed(std::uint64_t seed) noexcept {
  detail::normal_stream_seed(seed, s_);
  used_ = block;
  used_f32_ = block_f32;
}

void normal_stream::next_block_f32(float* out) noexcept {
#if defined(AMIMO_NORMAL_AVX2)
  blocks_f32_avx2<1>(s_, out);
#else
  float tmp[block_f32];
  detail::normal_block_portable_f32(s_, tmp);
  std::memcpy(out, tmp, sizeof tmp);
#endif
}

bool detail::normal_blocks_avx512(std::uint64_t (&state)[4][4], double (&out)[8 * normal_stream::block]) noexcept {
#if defined(AMIMO_NORMAL_AVX512)
  if (!avx512_usable()) return false;
  blocks_avx512_8(state, out);
  return true;
#else
  static_cast<void>(state);
  static_cast<void>(out);
  return false;
#endif
}

bool normal_stream::vectorised() noexcept {
#if defined(AMIMO_NORMAL_AVX2)
  return true;
#else
  return false;
#endif
}

void normal_stream::next_block(double* out) noexcept {
#if defined(AMIMO_NORMAL_AVX2)
  blocks_avx2<1>(s_, out);
#else
  double tmp[block];
  detail::normal_block_portable(s_, tmp);
  std::memcpy(out, tmp, sizeof tmp);
#endif
}

void normal_stream::fill(std::span<double> out) noexcept {
#if defined(AMIMO_NORMAL_AVX512)
  if (avx512_usable()) {
    // The buffered leftovers first, then runs of eight blocks, then the usual path (which
    // starts on a block boundary): the same values in the same order.
    std::size_t i = 0;
    while (i < out.size() && used_ < block) out[i++] = buffer_[used_++];
    for (; i + 8 * block <= out.size(); i += 8 * block) blocks_avx512_8(s_, out.data() + i);
    out = out.subspan(i);
  }
#endif
#if defined(AMIMO_NORMAL_AVX2)
  const auto four = [this](double* p) { blocks_avx2<4>(s_, p); };
#else
  const std::nullptr_t four = nullptr;
#endif
  fill_blocks(out, buffer_, used_, [this](double* p) { next_block(p); }, four);
}

void normal_stream::fill(std::span<float> out) noexcept {
#if defined(AMIMO_NORMAL_AVX2)
  const auto four = [this](float* p) { blocks_f32_avx2<4>(s_, p); };
#else
  const std::nullptr_t four = nullptr;
#endif
  fill_blocks(out, buffer_f32_, used_f32_, [this](float* p) { next_block_f32(p); }, four);
}

void normal_stream::fill_complex(std::span<cf64> out, double variance) noexcept {
  // std::complex<double> is layout-compatible with double[2] ([complex.numbers]).
  const std::span<double> flat(reinterpret_cast<double*>(out.data()), 2 * out.size());
  fill(flat);
  const double sigma = std::sqrt(0.5 * variance);
  for (double& x : flat) {
    x *= sigma;
  }
}

void normal_stream::add_complex(std::span<cf64> inout, double variance) noexcept {
  constexpr std::size_t chunk = 64;  // doubles
  double tmp[chunk];
  const double sigma = std::sqrt(0.5 * variance);
  auto* flat = reinterpret_cast<double*>(inout.data());
  const std::size_t total = 2 * inout.size();
  for (std::size_t i = 0; i < total; i += chunk) {
    const std::size_t n = std::min(chunk, total - i);
    fill(std::span<double>(tmp, n));
    for (std::size_t k = 0; k < n; ++k) {
      flat[i + k] += sigma * tmp[k];
    }
  }
}

double normal_stream::next() noexcept {
  if (used_ == block) {
    next_block(buffer_);
    used_ = 0;
  }
  return buffer_[used_++];
}

}  // namespace amimo
