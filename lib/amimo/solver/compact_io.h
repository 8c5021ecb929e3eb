// Moving systems between any matrix_batch view and a compact group buffer (arrays of
// simd::lanes): one pass, one conversion per element. A view that already is compact with
// the same element and lane count is copied as raw bytes.

#include <amimo/solver/batch_solver.h>
#include <amimo/solver/simd_lanes.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <variant>

// Per-target header (see simd_lanes.h): amimo::solver::compact::HWY_NAMESPACE.

#if defined(AMIMO_SOLVER_COMPACT_IO_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AMIMO_SOLVER_COMPACT_IO_H_
#undef AMIMO_SOLVER_COMPACT_IO_H_
#else
#define AMIMO_SOLVER_COMPACT_IO_H_
#endif

HWY_BEFORE_NAMESPACE();
namespace amimo::solver::compact::HWY_NAMESPACE {

/// Whether view v stores its groups exactly as V does (compact, same element and lanes).
template <typename V, typename Real>
bool same_layout(const matrix_batch<Real>& v) noexcept {
  return std::is_same_v<std::remove_const_t<Real>, typename V::value_type> && v.format == batch_format::compact &&
         v.lanes == V::size;
}

/// Systems of group g that exist in a batch of `count` (the rest are padding).
inline int lanes_used(int count, int g, int width) noexcept { return std::min(width, count - g * width); }

/// Bit l set when lane l of any of the 2·elements vectors at p is not finite: x − x is 0
/// for a finite x and NaN otherwise, and NaN survives the sum (two vector operations per
/// vector instead of a scalar test per lane).
/// Four running sums, so that the additions' latency overlaps (a NaN in any of them
/// survives the final sum just the same).
template <typename V>
unsigned nonzero_lanes(V probe) noexcept {
  using real = typename V::value_type;
  alignas(64) real v[V::size];
  probe.store(v);
  unsigned bad = 0;
  for (int l = 0; l < V::size; ++l) {
    if (!(v[l] == real(0))) bad |= 1U << l;
  }
  return bad;
}

template <typename V>
unsigned nonfinite_lanes(const V* p, int elements) noexcept {
  V acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  const int n = 2 * elements;
  int e = 0;
  for (; e + 4 <= n; e += 4) {
    for (int q = 0; q < 4; ++q) acc[q] = acc[q] + (p[e + q] - p[e + q]);
  }
  for (; e < n; ++e) acc[0] = acc[0] + (p[e] - p[e]);
  return nonzero_lanes((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

/// The same test folded into a loader: probe(x, n) adds Σ (x[q] − x[q]) over n vectors
/// already in registers to one of four running sums; lanes() gives nonfinite_lanes' mask
/// of everything probed (a NaN in any sum survives the final one).
template <typename V>
struct finite_probe {
  V acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  int next = 0;
  void add(const V* x, int n) noexcept {
    V sum = x[0] - x[0];
    for (int q = 1; q < n; ++q) sum = sum + (x[q] - x[q]);
    acc[next] = acc[next] + sum;
    next = (next + 1) & 3;
  }
  unsigned lanes() const noexcept { return nonzero_lanes((acc[0] + acc[1]) + (acc[2] + acc[3])); }
};

/// Sets the lanes in `mask` (bit l) of the 2·elements vectors at p to zero.
template <typename V>
void zero_lanes(V* p, int elements, unsigned mask) noexcept {
  using real = typename V::value_type;
  if (mask == 0) return;
  alignas(64) real keep[V::size];
  for (int l = 0; l < V::size; ++l) keep[l] = ((mask >> l) & 1U) != 0 ? real(0) : real(1);
  const V k = V::load(keep), zero = V::zero();
  // select, not a multiply: a NaN or infinity in a zeroed lane must become 0.
  for (int e = 0; e < 2 * elements; ++e) p[e] = select_greater(k, zero, p[e], zero);
}

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
// f32 groups from column-major views, eight systems at a time in 256-bit registers (an
// AVX-512 group of 16 lanes is two such halves joined per vector), partial groups included.

/// Four consecutive complex elements of one system as eight floats (re, im, re, im, …).
inline __m256 load_four_complex(const float* p) noexcept { return _mm256_loadu_ps(p); }
inline __m256 load_four_complex(const double* p) noexcept {
  return _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(p + 4)), _mm256_cvtpd_ps(_mm256_loadu_pd(p)));
}

/// The 8×8 float transpose in registers (out[c] lane l = r[l] lane c); its own inverse.
inline void transpose8(const __m256 r[8], __m256 out[8]) noexcept {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// Rows i … i+3 of column `col` of eight systems, system l at col + lane[l] reals: each
/// system's four complex elements are one vector, and transpose8 turns them into out[2r]
/// (real parts) and out[2r + 1] (imaginary parts) of row i + r across the systems.
template <typename Real>
inline void transpose_four_rows(const Real* col, const std::ptrdiff_t* lane, int i, __m256 out[8]) noexcept {
  __m256 r[8];
  for (int l = 0; l < 8; ++l) r[l] = load_four_complex(col + lane[l] + 2 * i);
  transpose8(r, out);
}

/// Eight systems one complex apart at p (re, im pairs): their real and imaginary parts.
inline void split_adjacent(const float* p, __m256& re, __m256& im) noexcept {
  const __m256 a = _mm256_loadu_ps(p);      // systems 0–3: re, im, re, im, …
  const __m256 b = _mm256_loadu_ps(p + 8);  // systems 4–7
  // Per 128-bit half: (re0 re1 re4 re5 | re2 re3 re6 re7), then the 64-bit pairs reordered.
  const __m256 r = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 i = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  re = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(r), _MM_SHUFFLE(3, 1, 2, 0)));
  im = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(i), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// One group vector from the 256-bit halves of its lanes 0–7 (lo) and 8–15 (hi).
#if HWY_TARGET == HWY_AVX3
inline void put(simd::HWY_NAMESPACE::lanes<float>& d, __m256 lo, __m256 hi) noexcept {
  d.v = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#else
inline void put(simd::HWY_NAMESPACE::lanes<float>& d, __m256 lo, __m256 /*hi*/) noexcept { d.v = lo; }
#endif

#if HWY_TARGET == HWY_AVX3
/// The 16×16 float transpose in registers (out[c] lane l = r[l] lane c; r is overwritten),
/// four rounds of sixteen shuffles: 4 per output vector, against 7 for two 8×8 transposes
/// of 256-bit halves joined. A transpose is its own inverse: the loads use it to turn
/// sixteen systems' runs into group vectors, store_group to turn group vectors back.
/// (The shuffles in their zero-masking forms under a full mask, the same instructions: GCC 12
/// reports a false maybe-uninitialized inside the unmasked intrinsics.)
inline void transpose16(__m512 r[16], __m512 out[16]) noexcept {
  constexpr __mmask16 all = 0xFFFF;
  __m512 t[16];
  // Per 128-bit lane, systems (2k, 2k+1) interleaved: floats 0,1 and 2,3 of each lane.
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_maskz_unpacklo_ps(all, r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_maskz_unpackhi_ps(all, r[2 * k], r[2 * k + 1]);
  }
  // Four systems per 128-bit lane: r[4q + c] holds float c (of each lane's four) of
  // systems 4q … 4q+3.
  for (int q = 0; q < 4; ++q) {
    r[4 * q] = _mm512_maskz_shuffle_ps(all, t[4 * q], t[4 * q + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * q + 1] = _mm512_maskz_shuffle_ps(all, t[4 * q], t[4 * q + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * q + 2] = _mm512_maskz_shuffle_ps(all, t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * q + 3] = _mm512_maskz_shuffle_ps(all, t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // 128-bit lanes regrouped: lanes 0 and 2 (0x88) or 1 and 3 (0xdd) of systems 0–3 with
  // those of systems 4–7, then of systems 8–11 with 12–15, then the two halves joined.
  for (int c = 0; c < 4; ++c) {
    t[c] = _mm512_maskz_shuffle_f32x4(all, r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_maskz_shuffle_f32x4(all, r[c], r[4 + c], 0xdd);
    t[8 + c] = _mm512_maskz_shuffle_f32x4(all, r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_maskz_shuffle_f32x4(all, r[8 + c], r[12 + c], 0xdd);
  }
  for (int c = 0; c < 8; ++c) {
    out[c] = _mm512_maskz_shuffle_f32x4(all, t[c], t[8 + c], 0x88);
    out[8 + c] = _mm512_maskz_shuffle_f32x4(all, t[c], t[8 + c], 0xdd);
  }
}

/// Rows i … i+7 of column `col` of sixteen f32 systems, system l at col + lane[l] floats:
/// each system's eight complex elements are one 512-bit vector, and transpose16 turns them
/// into out[2r] (real parts) and out[2r + 1] (imaginary parts) of row i + r across the
/// systems.
inline void transpose_eight_rows(const float* col, const std::ptrdiff_t* lane, int i, __m512 out[16]) noexcept {
  __m512 r[16];
  for (int l = 0; l < 16; ++l) r[l] = _mm512_loadu_ps(col + lane[l] + 2 * i);
  transpose16(r, out);
}
#endif

/// Group g (its `used` systems, 1 … L) of an f32 target from a column-major view whose rows
/// are contiguous (row_stride 1): four rows at a time through transpose_four_rows per eight
/// lanes (eight at a time through transpose_eight_rows for f32 views on AVX-512); rows
/// beyond go one by one. Lanes past `used` (the batch's last group) read the last system
/// again, so every read stays inside the batch; load_group pads them afterwards. Returns
/// nonfinite_lanes' mask of the loaded vectors (probed while in registers).
template <typename Real>
unsigned load_group_rows_contiguous(simd::HWY_NAMESPACE::lanes<float>* dst, const matrix_batch<Real>& src, int g,
                                    int used) noexcept {
  using VF = simd::HWY_NAMESPACE::lanes<float>;
  constexpr int L = VF::size;
  finite_probe<VF> probe;
  const std::ptrdiff_t ms = 2 * src.matrix_stride;
  const Real* base = src.data + std::ptrdiff_t{g} * L * ms;
  std::ptrdiff_t lane[L];
  for (int l = 0; l < L; ++l) lane[l] = std::min(l, used - 1) * ms;
  const int rows4 = src.rows - src.rows % 4;
  for (int j = 0; j < src.cols; ++j) {
    const Real* col = base + 2 * j * src.column_stride;
    int i = 0;
#if HWY_TARGET == HWY_AVX3
    if constexpr (std::is_same_v<Real, const float>) {
      for (; i + 8 <= src.rows; i += 8) {
        __m512 v[16];
        transpose_eight_rows(col, lane, i, v);
        VF x[16];
        for (int q = 0; q < 16; ++q) x[q].v = v[q];
        probe.add(x, 16);
        VF* d = dst + 2 * (j * src.rows + i);
        for (int q = 0; q < 16; ++q) d[q] = x[q];
      }
    }
#endif
    for (; i < rows4; i += 4) {
      __m256 lo[8];
      transpose_four_rows(col, lane, i, lo);
      VF x[8];
      if constexpr (L == 16) {
        __m256 hi[8];
        transpose_four_rows(col, lane + 8, i, hi);
        for (int q = 0; q < 8; ++q) put(x[q], lo[q], hi[q]);
      } else {
        for (int q = 0; q < 8; ++q) put(x[q], lo[q], lo[q]);
      }
      probe.add(x, 8);
      VF* d = dst + 2 * (j * src.rows + i);
      for (int q = 0; q < 8; ++q) d[q] = x[q];
    }
    for (int i = rows4; i < src.rows; ++i) {
      alignas(64) float re[L];
      alignas(64) float im[L];
      for (int l = 0; l < L; ++l) {
        re[l] = static_cast<float>(col[lane[l] + 2 * i]);
        im[l] = static_cast<float>(col[lane[l] + 2 * i + 1]);
      }
      const VF x[2] = {VF::load(re), VF::load(im)};
      probe.add(x, 2);
      dst[2 * (j * src.rows + i)] = x[0];
      dst[2 * (j * src.rows + i) + 1] = x[1];
    }
  }
  return probe.lanes();
}

/// Group g (its `used` systems, 1 … L) of an f32 target from an f32 column-major view whose
/// systems are one complex apart (FFT bins of one symbol: the receiver's samples): each
/// element's lanes are contiguous (re, im) pairs, split by shuffles eight at a time. A
/// partial group's runs are copied to a zero-padded buffer first (reading past the last
/// system could leave the batch's memory). Returns nonfinite_lanes' mask of the loaded
/// vectors (probed while in registers).
inline unsigned load_group_adjacent_systems(simd::HWY_NAMESPACE::lanes<float>* dst,
                                            const matrix_batch<const float>& src, int g, int used) noexcept {
  using VF = simd::HWY_NAMESPACE::lanes<float>;
  constexpr int L = VF::size;
  finite_probe<VF> probe;
  const float* base = src.data + std::ptrdiff_t{g} * 2 * L;
  alignas(64) float staged[2 * L] = {};
  for (int j = 0; j < src.cols; ++j) {
    for (int i = 0; i < src.rows; ++i) {
      const float* p = base + 2 * (i * src.row_stride + j * src.column_stride);
      if (used < L) {
        std::memcpy(staged, p, sizeof(float) * 2 * static_cast<std::size_t>(used));
        p = staged;
      }
      __m256 re_lo, im_lo;
      split_adjacent(p, re_lo, im_lo);
      __m256 re_hi = re_lo, im_hi = im_lo;
      if constexpr (L == 16) split_adjacent(p + 16, re_hi, im_hi);
      const int e = j * src.rows + i;
      VF x[2];
      put(x[0], re_lo, re_hi);
      put(x[1], im_lo, im_hi);
      probe.add(x, 2);
      dst[2 * e] = x[0];
      dst[2 * e + 1] = x[1];
    }
  }
  return probe.lanes();
}
#endif

/// load_group's element-by-element path (any view, any lane count).
template <typename V, typename Real>
void load_group_plain(V* dst, const matrix_batch<Real>& src, int g, int used) noexcept {
  using real = typename V::value_type;
  constexpr int L = V::size;
  if (src.format == batch_format::column_major) {
    // A group of a column-major view: plain pointer strides, no per-element format test
    // (lanes past `used`, in the batch's last group, stay 0 for load_group to pad).
    // In a full group, systems one complex apart (FFT bins of one symbol) make each
    // element's lanes one contiguous run the compiler loads as vectors.
    alignas(64) real re[L] = {};
    alignas(64) real im[L] = {};
    const std::ptrdiff_t ms = 2 * src.matrix_stride;
    const Real* base = src.data + std::ptrdiff_t{g} * L * ms;
    for (int j = 0; j < src.cols; ++j) {
      for (int i = 0; i < src.rows; ++i) {
        const Real* p = base + 2 * (i * src.row_stride + j * src.column_stride);
        if (used < L) {
          for (int l = 0; l < used; ++l) {
            re[l] = static_cast<real>(p[l * ms]);
            im[l] = static_cast<real>(p[l * ms + 1]);
          }
        } else if (ms == 2) {
          for (int l = 0; l < L; ++l) {
            re[l] = static_cast<real>(p[2 * l]);
            im[l] = static_cast<real>(p[2 * l + 1]);
          }
        } else {
          for (int l = 0; l < L; ++l) {
            re[l] = static_cast<real>(p[l * ms]);
            im[l] = static_cast<real>(p[l * ms + 1]);
          }
        }
        const int e = j * src.rows + i;
        dst[2 * e] = V::load(re);
        dst[2 * e + 1] = V::load(im);
      }
    }
  } else {
    alignas(64) real re[L] = {};
    alignas(64) real im[L] = {};
    for (int j = 0; j < src.cols; ++j) {
      for (int i = 0; i < src.rows; ++i) {
        for (int l = 0; l < used; ++l) {
          const auto v = src.get(g * L + l, i, j);
          re[l] = static_cast<real>(v.real());
          im[l] = static_cast<real>(v.imag());
        }
        const int e = j * src.rows + i;
        dst[2 * e] = V::load(re);
        dst[2 * e + 1] = V::load(im);
      }
    }
  }
}

/// Loads group g (systems g·L … g·L+L−1) of src into dst (rows×cols elements, two
/// vectors each). Padding lanes get `pad` on the diagonal and 0 elsewhere. Returns a mask
/// with bit l set when lane l held a non-finite element (that lane is then loaded as
/// padding, so later arithmetic stays finite).
template <typename V, typename Real>
unsigned load_group(V* dst, const matrix_batch<Real>& src, int g, typename V::value_type pad) noexcept {
  using real = typename V::value_type;
  constexpr int L = V::size;
  const int used = lanes_used(src.count, g, L);
  const int elements = src.rows * src.cols;
  // Finiteness per lane: probed by the register loaders as they load, else a pass over dst.
  unsigned probed = 0;
  bool checked = false;
  if (same_layout<V>(src)) {
    std::memcpy(static_cast<void*>(dst), src.data + std::ptrdiff_t{g} * 2 * L * elements,
                sizeof(V) * 2 * static_cast<std::size_t>(elements));
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
  } else if constexpr (std::is_same_v<V, simd::HWY_NAMESPACE::lanes<float>>) {
    if (src.format == batch_format::column_major && src.row_stride == 1 && src.matrix_stride != 1) {
      probed = load_group_rows_contiguous(dst, src, g, used);
      checked = true;
    } else if constexpr (std::is_same_v<Real, const float>) {
      if (src.format == batch_format::column_major && src.matrix_stride == 1) {
        probed = load_group_adjacent_systems(dst, src, g, used);
        checked = true;
      } else {
        load_group_plain(dst, src, g, used);
      }
    } else {
      load_group_plain(dst, src, g, used);
    }
#endif
  } else {
    load_group_plain(dst, src, g, used);
  }
  // Padding lanes set to pad·I (selects, whole vectors: a NaN or infinity in a padded lane
  // must go).
  unsigned bad = (checked ? probed : nonfinite_lanes(dst, elements)) & ((1U << used) - 1U);
  const unsigned pad_mask = bad | (used < L ? ((1U << L) - 1U) & ~((1U << used) - 1U) : 0U);
  if (pad_mask != 0) {
    alignas(64) real keep[L];
    for (int l = 0; l < L; ++l) keep[l] = ((pad_mask >> l) & 1U) != 0 ? real(0) : real(1);
    const V k = V::load(keep), zero = V::zero(), diagonal = V::broadcast(pad);
    for (int j = 0; j < src.cols; ++j) {
      for (int i = 0; i < src.rows; ++i) {
        const int e = j * src.rows + i;
        dst[2 * e] = select_greater(k, zero, dst[2 * e], i == j ? diagonal : zero);
        dst[2 * e + 1] = select_greater(k, zero, dst[2 * e + 1], zero);
      }
    }
  }
  return bad;
}

template <typename V>
unsigned load_group(V* dst, const batch_cref& src, int g, typename V::value_type pad) noexcept {
  return std::visit([&](const auto& view) HWY_ATTR { return load_group(dst, view, g, pad); }, src);
}

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
/// Four complex values (eight floats, re, im, …) to p, widened exactly where p is double.
inline void store_four_complex(float* p, __m256 v) noexcept { _mm256_storeu_ps(p, v); }
inline void store_four_complex(double* p, __m256 v) noexcept {
  _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}
/// The 256-bit halves of a group vector (lanes 0–7 and, on AVX-512, 8–15).
#if HWY_TARGET == HWY_AVX3
// (Extraction and widening in their zero-masking forms under a full mask, as in
// transpose16: GCC 12 warns inside the unmasked intrinsics.)
inline __m256 lower_256(__m512 v) noexcept {
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, _mm512_castps_pd(v), 0));
}
inline __m256 upper_256(__m512 v) noexcept {
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, _mm512_castps_pd(v), 1));
}
inline __m256 low_half(simd::HWY_NAMESPACE::lanes<float> v) noexcept { return lower_256(v.v); }
inline __m256 high_half(simd::HWY_NAMESPACE::lanes<float> v) noexcept { return upper_256(v.v); }
/// Eight complex values (sixteen floats) to p, widened exactly where p is double.
inline void store_eight_complex(float* p, __m512 v) noexcept { _mm512_storeu_ps(p, v); }
inline void store_eight_complex(double* p, __m512 v) noexcept {
  _mm512_storeu_pd(p, _mm512_maskz_cvtps_pd(0xFF, lower_256(v)));
  _mm512_storeu_pd(p + 8, _mm512_maskz_cvtps_pd(0xFF, upper_256(v)));
}
#else
inline __m256 low_half(simd::HWY_NAMESPACE::lanes<float> v) noexcept { return v.v; }
inline __m256 high_half(simd::HWY_NAMESPACE::lanes<float> v) noexcept { return v.v; }
#endif

/// Every used lane of f32 group g into a column-major view whose rows are contiguous and
/// whose systems are not adjacent (one matrix after another): load_group_rows_contiguous
/// backwards. The group's vectors of rows i … i+7 (AVX-512) or i … i+3 are transposed in
/// registers into one run per system, stored whole (widened exactly to double where the
/// view is double); rows beyond go lane by lane.
template <typename Real>
void store_group_rows_contiguous(const matrix_batch<Real>& dst, const simd::HWY_NAMESPACE::lanes<float>* src, int g,
                                 int used) noexcept {
  using VF = simd::HWY_NAMESPACE::lanes<float>;
  constexpr int L = VF::size;
  const std::ptrdiff_t ms = 2 * dst.matrix_stride;
  Real* base = dst.data + std::ptrdiff_t{g} * L * ms;
  for (int j = 0; j < dst.cols; ++j) {
    Real* col = base + 2 * j * dst.column_stride;
    const VF* s = src + 2 * j * dst.rows;
    int i = 0;
#if HWY_TARGET == HWY_AVX3
    for (; i + 8 <= dst.rows; i += 8) {
      __m512 r[16], out[16];
      for (int q = 0; q < 16; ++q) r[q] = s[2 * i + q].v;
      transpose16(r, out);
      for (int l = 0; l < used; ++l) store_eight_complex(col + l * ms + 2 * i, out[l]);
    }
#endif
    for (; i + 4 <= dst.rows; i += 4) {
      __m256 r[8], out[8];
      for (int q = 0; q < 8; ++q) r[q] = low_half(s[2 * i + q]);
      transpose8(r, out);
      for (int l = 0; l < std::min(used, 8); ++l) store_four_complex(col + l * ms + 2 * i, out[l]);
      if (used > 8) {
        for (int q = 0; q < 8; ++q) r[q] = high_half(s[2 * i + q]);
        transpose8(r, out);
        for (int l = 8; l < used; ++l) store_four_complex(col + l * ms + 2 * i, out[l - 8]);
      }
    }
    for (; i < dst.rows; ++i) {
      alignas(64) float re[L];
      alignas(64) float im[L];
      s[2 * i].store(re);
      s[2 * i + 1].store(im);
      for (int l = 0; l < used; ++l) {
        col[l * ms + 2 * i] = static_cast<Real>(re[l]);
        col[l * ms + 2 * i + 1] = static_cast<Real>(im[l]);
      }
    }
  }
}
#endif

/// Writes the lanes of group g selected by `write` (bit l) from src into dst; lanes in
/// `zero` are written as zeros instead.
template <typename V, typename Real>
void store_group(const matrix_batch<Real>& dst, const V* src, int g, unsigned write, unsigned zero) noexcept {
  using real = typename V::value_type;
  using out = std::remove_const_t<Real>;
  constexpr int L = V::size;
  const int used = lanes_used(dst.count, g, L);
  const unsigned all = used == L ? (L >= 32 ? ~0U : (1U << L) - 1U) : (1U << used) - 1U;
  write &= all;
  zero &= write;
  if (same_layout<V>(dst) && write == all && zero == 0) {
    const int elements = dst.rows * dst.cols;
    std::memcpy(dst.data + std::ptrdiff_t{g} * 2 * L * elements, static_cast<const void*>(src),
                sizeof(V) * 2 * static_cast<std::size_t>(elements));
    return;
  }
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
  if constexpr (std::is_same_v<V, simd::HWY_NAMESPACE::lanes<float>>) {
    if (dst.format == batch_format::column_major && write == all && zero == 0 && dst.row_stride == 1 &&
        dst.matrix_stride != 1) {
      store_group_rows_contiguous(dst, src, g, used);
      return;
    }
  }
#endif
  alignas(64) real re[L];
  alignas(64) real im[L];
  if (dst.format == batch_format::column_major && write == all && zero == 0) {
    // Every used lane of a group into a column-major view: plain pointer strides.
    const std::ptrdiff_t ms = 2 * dst.matrix_stride;
    out* base = dst.data + std::ptrdiff_t{g} * L * ms;
    for (int j = 0; j < dst.cols; ++j) {
      for (int i = 0; i < dst.rows; ++i) {
        const int e = j * dst.rows + i;
        src[2 * e].store(re);
        src[2 * e + 1].store(im);
        out* p = base + 2 * (i * dst.row_stride + j * dst.column_stride);
        if (ms == 2 && used == L) {
          // Systems one complex apart (the detector's equalised symbols): one contiguous
          // run per element, which the compiler writes as vectors.
          for (int l = 0; l < L; ++l) {
            p[2 * l] = static_cast<out>(re[l]);
            p[2 * l + 1] = static_cast<out>(im[l]);
          }
          continue;
        }
        for (int l = 0; l < used; ++l) {
          p[l * ms] = static_cast<out>(re[l]);
          p[l * ms + 1] = static_cast<out>(im[l]);
        }
      }
    }
    return;
  }
  for (int j = 0; j < dst.cols; ++j) {
    for (int i = 0; i < dst.rows; ++i) {
      const int e = j * dst.rows + i;
      src[2 * e].store(re);
      src[2 * e + 1].store(im);
      for (int l = 0; l < used; ++l) {
        if (!((write >> l) & 1U)) continue;
        const bool z = (zero >> l) & 1U;
        dst.set(g * L + l, i, j, {z ? out(0) : static_cast<out>(re[l]), z ? out(0) : static_cast<out>(im[l])});
      }
    }
  }
}

template <typename V>
void store_group(const batch_ref& dst, const V* src, int g, unsigned write, unsigned zero) noexcept {
  std::visit([&](const auto& view) HWY_ATTR { store_group(view, src, g, write, zero); }, dst);
}

/// Asks for group g (width systems per group) of a column-major view whose systems are
/// adjacent (matrix_stride 1: FFT bins of one symbol, the receiver's samples) to be
/// brought into the cache. Each element's lanes are one short contiguous run, and the runs
/// lie an antenna row apart, a stride the hardware prefetcher does not follow: issued one
/// group ahead, the loads of the next group hit. Other views do nothing (their systems
/// are contiguous and prefetched by the hardware).
template <typename Real>
void prefetch_group(const matrix_batch<Real>& v, int g, int width) noexcept {
  if (v.format != batch_format::column_major || v.matrix_stride != 1 || g < 0 || g * width >= v.count) return;
  const std::size_t last = 2 * sizeof(Real) * static_cast<std::size_t>(lanes_used(v.count, g, width)) - 1;
  for (int j = 0; j < v.cols; ++j) {
    for (int i = 0; i < v.rows; ++i) {
      const char* p = reinterpret_cast<const char*>(v.data + v.real_index(g * width, i, j));
      for (std::size_t b = 0; b < last; b += 64) __builtin_prefetch(p + b);
      __builtin_prefetch(p + last);  // the run's last line (runs need not start on a line)
    }
  }
}

template <typename V>
void prefetch_group(const batch_cref& v, int g) noexcept {
  std::visit([&](const auto& view) HWY_ATTR { prefetch_group(view, g, V::size); }, v);
}

}  // namespace amimo::solver::compact::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
