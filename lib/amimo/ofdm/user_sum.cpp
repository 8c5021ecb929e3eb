#include <amimo/ofdm/user_sum.h>

#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace amimo::ofdm {

namespace {

// Subcarriers [from, to) of every antenna, one at a time: the definition.
void user_sum_scalar(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
                     std::ptrdiff_t offset, std::ptrdiff_t from, std::ptrdiff_t to) noexcept {
  for (int i = 0; i < antennas; ++i) {
    for (std::ptrdiff_t j = from; j < to; ++j) {
      float p_re = 0.0F;
      float p_im = 0.0F;
      float q_re = 0.0F;
      float q_im = 0.0F;
      for (int m = 0; m < users; ++m) {
        const cf32 a = h[i * users + m][offset + j];
        const cf32 b = x[m][offset + j];
        p_re = std::fma(a.real(), b.real(), p_re);
        p_im = std::fma(a.imag(), b.real(), p_im);
        q_re = std::fma(a.imag(), b.imag(), q_re);
        q_im = std::fma(a.real(), b.imag(), q_im);
      }
      dst[i][j] = cf32(p_re - q_re, p_im + q_im);
    }
  }
}

}  // namespace

void user_sum_portable(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
                       std::ptrdiff_t offset, std::ptrdiff_t length) noexcept {
  user_sum_scalar(dst, antennas, h, x, users, offset, 0, length);
}

#if defined(__AVX2__) && defined(__FMA__)

namespace {

// Four subcarriers (one 256-bit register of cf32) of `Antennas` antennas: x's real and
// imaginary parts broadcast within each complex lane once per user, then per antenna
// p += h · x_re and q += swap(h) · x_im; y = addsub(p, q) = (p_re − q_re, p_im + q_im).
template <int Antennas>
void user_sum_avx2(cf32* const* dst, const cf32* const* h, const cf32* const* x, int users, std::ptrdiff_t offset,
                   std::ptrdiff_t length) noexcept {
  std::ptrdiff_t j = 0;
  for (; j + 4 <= length; j += 4) {
    __m256 p[Antennas];
    __m256 q[Antennas];
    for (int i = 0; i < Antennas; ++i) p[i] = q[i] = _mm256_setzero_ps();
    for (int m = 0; m < users; ++m) {
      const __m256 xv = _mm256_loadu_ps(reinterpret_cast<const float*>(x[m] + offset + j));
      const __m256 x_re = _mm256_moveldup_ps(xv);
      const __m256 x_im = _mm256_movehdup_ps(xv);
      for (int i = 0; i < Antennas; ++i) {
        const __m256 hv = _mm256_loadu_ps(reinterpret_cast<const float*>(h[i * users + m] + offset + j));
        p[i] = _mm256_fmadd_ps(hv, x_re, p[i]);
        q[i] = _mm256_fmadd_ps(_mm256_permute_ps(hv, 0xB1), x_im, q[i]);
      }
    }
    for (int i = 0; i < Antennas; ++i) _mm256_storeu_ps(reinterpret_cast<float*>(dst[i] + j), _mm256_addsub_ps(p[i], q[i]));
  }
  user_sum_scalar(dst, Antennas, h, x, users, offset, j, length);
}

}  // namespace

void user_sum(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
              std::ptrdiff_t offset, std::ptrdiff_t length) noexcept {
  switch (antennas) {
    case 1: user_sum_avx2<1>(dst, h, x, users, offset, length); break;
    case 2: user_sum_avx2<2>(dst, h, x, users, offset, length); break;
    case 3: user_sum_avx2<3>(dst, h, x, users, offset, length); break;
    case 4: user_sum_avx2<4>(dst, h, x, users, offset, length); break;
    default: user_sum_scalar(dst, antennas, h, x, users, offset, 0, length); break;
  }
}

#else

void user_sum(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
              std::ptrdiff_t offset, std::ptrdiff_t length) noexcept {
  user_sum_scalar(dst, antennas, h, x, users, offset, 0, length);
}

#endif

}  // namespace amimo::ofdm
