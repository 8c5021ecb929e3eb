// Kernels on "compact" groups of small complex matrices: a group holds V::size systems
// (one SIMD lane each, one subcarrier each) of the same shape, interleaved so that every
// complex element is two vectors — the real parts of all lanes, then the imaginary parts:
//
//   element (i, j) of a rows×cols group:  re = g[2(j·rows + i)],  im = g[2(j·rows + i) + 1]
//
// (column-major, like Intel MKL's compact format). Every operation is the same arithmetic
// on every lane, so a loop over one matrix is a loop over V::size matrices at once, with
// no shuffles and no per-lane branches. Lanes that must not be used (padding, a matrix
// that failed) carry finite stand-in values and are masked by the caller.

#include <amimo/solver/simd_lanes.h>

#include <limits>
#include <type_traits>

// Per-target header (see simd_lanes.h): the kernels live in
// amimo::solver::compact::HWY_NAMESPACE, once per compiled target.

#if defined(AMIMO_SOLVER_COMPACT_KERNELS_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AMIMO_SOLVER_COMPACT_KERNELS_H_
#undef AMIMO_SOLVER_COMPACT_KERNELS_H_
#else
#define AMIMO_SOLVER_COMPACT_KERNELS_H_
#endif

HWY_BEFORE_NAMESPACE();
namespace amimo::solver::compact::HWY_NAMESPACE {

template <typename V>
inline const V& re(const V* g, int rows, int i, int j) noexcept {
  return g[2 * (j * rows + i)];
}
template <typename V>
inline const V& im(const V* g, int rows, int i, int j) noexcept {
  return g[2 * (j * rows + i) + 1];
}

/// A = Hᴴ H (+ reg on the diagonal), H n×k, A k×k (both triangles written).
template <typename V>
void gram(V* out, const V* h, int n, int k, V reg) noexcept {
  // Entries (i … i+R−1, j) of the lower triangle, each one sum over the antennas in
  // registers: conj(h_ai) · h_aj, mirrored to the upper triangle. Every entry is summed the
  // same way whatever R (so the blocking never changes a result, and equal columns of H
  // still give bit-equal entries: an exactly singular Gram stays exactly singular).
  const auto rows = [&](int i, int j, auto count) HWY_ATTR {
    constexpr int R = decltype(count)::value;
    V r[R], m[R];
    for (int q = 0; q < R; ++q) r[q] = m[q] = V::zero();
    const V* hj = h + 2 * j * n;
    const V* h0 = h + 2 * i * n;
    for (int a = 0; a < n; ++a) {
      const V jr = hj[2 * a], ji = hj[2 * a + 1];
      for (int q = 0; q < R; ++q) {
        const V* hq = h0 + 2 * q * n;
        r[q] = fma(hq[2 * a], jr, r[q]);
        r[q] = fma(hq[2 * a + 1], ji, r[q]);
        m[q] = fma(hq[2 * a], ji, m[q]);
        m[q] = fnma(hq[2 * a + 1], jr, m[q]);
      }
    }
    for (int q = 0; q < R; ++q) {
      out[2 * (j * k + i + q)] = r[q];
      out[2 * (j * k + i + q) + 1] = m[q];
      out[2 * ((i + q) * k + j)] = r[q];
      out[2 * ((i + q) * k + j) + 1] = V::zero() - m[q];
    }
  };
  // The rows j … i_end − 1 of column j (1 to 5 of them) in one pass.
  const auto tail = [&](int j, int i_end) HWY_ATTR {
    switch (i_end - j) {
      case 5: return rows(j, j, std::integral_constant<int, 5>{});
      case 4: return rows(j, j, std::integral_constant<int, 4>{});
      case 3: return rows(j, j, std::integral_constant<int, 3>{});
      case 2: return rows(j, j, std::integral_constant<int, 2>{});
      default: return rows(j, j, std::integral_constant<int, 1>{});
    }
  };
  // Row blocks of H outside, its columns inside: a block (six rows of 64 antennas: 48 KiB
  // at 16 lanes) stays in L1 while the columns j ≤ its first row stream past it; a column
  // inside the block takes the block's rows at or below it in one pass. (Columns outside,
  // every column read its rows from L2.)
  const auto block = [&](int i0, auto count) HWY_ATTR {
    constexpr int R = decltype(count)::value;
    for (int j = 0; j <= i0; ++j) rows(i0, j, count);
    for (int j = i0 + 1; j < i0 + R; ++j) tail(j, i0 + R);
  };
  int i = 0;
  for (; i + 6 <= k; i += 6) block(i, std::integral_constant<int, 6>{});
  for (; i + 4 <= k; i += 4) block(i, std::integral_constant<int, 4>{});
  for (; i < k; ++i) block(i, std::integral_constant<int, 1>{});
  for (int j = 0; j < k; ++j) {
    out[2 * (j * k + j)] = out[2 * (j * k + j)] + reg;
    out[2 * (j * k + j) + 1] = V::zero();
  }
}

/// C = Hᴴ B, H n×k, B n×m, C k×m: gram()'s dot-product form (each element one sum over n
/// in registers, six rows of C at a time sharing B's column), so no transposed copy of H.
template <typename V>
void adjoint_multiply(V* c, const V* h, const V* b, int n, int k, int m) noexcept {
  const auto rows = [&](const V* bj, V* cj, int i, auto count) HWY_ATTR {
    constexpr int R = decltype(count)::value;
    V r[R], q[R];
    for (int p = 0; p < R; ++p) r[p] = q[p] = V::zero();
    const V* h0 = h + 2 * i * n;
    for (int a = 0; a < n; ++a) {  // conj(h_ai) · b_aj
      const V br = bj[2 * a], bi = bj[2 * a + 1];
      for (int p = 0; p < R; ++p) {
        const V* hp = h0 + 2 * p * n;
        r[p] = fma(hp[2 * a], br, r[p]);
        r[p] = fma(hp[2 * a + 1], bi, r[p]);
        q[p] = fma(hp[2 * a], bi, q[p]);
        q[p] = fnma(hp[2 * a + 1], br, q[p]);
      }
    }
    for (int p = 0; p < R; ++p) {
      cj[2 * (i + p)] = r[p];
      cj[2 * (i + p) + 1] = q[p];
    }
  };
  // Row blocks outside, B's columns inside: a block of H (six rows of 64 antennas: 48 KiB
  // at 16 lanes) stays in L1 while every column of B streams past it; with the columns
  // outside, all of H came from L2 once per column. Each entry is the same sum either way.
  const auto block = [&](int i, auto count) HWY_ATTR {
    for (int j = 0; j < m; ++j) rows(b + 2 * j * n, c + 2 * j * k, i, count);
  };
  int i = 0;
  for (; i + 6 <= k; i += 6) block(i, std::integral_constant<int, 6>{});
  for (; i + 4 <= k; i += 4) block(i, std::integral_constant<int, 4>{});
  for (; i < k; ++i) block(i, std::integral_constant<int, 1>{});
}

/// In-place Cholesky A = L Lᴴ of the lower triangle of a k×k group; 1/L_jj into inv_diag.
/// failed gets 1 in every lane where a pivot was not positive (that lane continues on a
/// stand-in pivot 1 so its arithmetic stays finite); min_root and max_root give the pivot
/// range for the singularity test.
template <typename V>
void cholesky(V* a, V* inv_diag, int k, V& failed, V& min_root, V& max_root) noexcept {
  const V one = V::broadcast(1), zero = V::zero();
  failed = zero;
  min_root = V::broadcast(std::numeric_limits<float>::max());
  max_root = zero;
  for (int j = 0; j < k; ++j) {
    V d = a[2 * (j * k + j)];
    for (int q = 0; q < j; ++q) {
      const V lr = a[2 * (q * k + j)], li = a[2 * (q * k + j) + 1];
      d = fnma(lr, lr, d);
      d = fnma(li, li, d);
    }
    failed = max(failed, select_greater(d, zero, zero, one));
    d = select_greater(d, zero, d, one);
    const V root = sqrt(d);
    const V inv = one / root;
    min_root = min(min_root, root);
    max_root = max(max_root, root);
    a[2 * (j * k + j)] = root;
    a[2 * (j * k + j) + 1] = zero;
    inv_diag[j] = inv;
    for (int i = j + 1; i < k; ++i) {
      V r = a[2 * (j * k + i)], m = a[2 * (j * k + i) + 1];
      for (int q = 0; q < j; ++q) {  // − L_iq · conj(L_jq)
        const V pr = a[2 * (q * k + i)], pi = a[2 * (q * k + i) + 1];
        const V qr = a[2 * (q * k + j)], qi = a[2 * (q * k + j) + 1];
        r = fnma(pr, qr, r);
        r = fnma(pi, qi, r);
        m = fnma(pi, qr, m);
        m = fma(pr, qi, m);
      }
      a[2 * (j * k + i)] = r * inv;
      a[2 * (j * k + i) + 1] = m * inv;
    }
  }
}

/// Solves L Lᴴ X = B in place for the m columns of x (k×m), L from cholesky().
template <typename V>
void cholesky_solve(V* x, const V* l, const V* inv_diag, int k, int m) noexcept {
  int c = 0;
  // Each complex update is two FMAs into the real and two into the imaginary part; they go
  // to separate accumulators (a: the L_re products, b: the L_im products), summed once per
  // element, so a column keeps four independent FMA chains instead of two dependent pairs
  // (the FMA latency, not the FMA units, bounded the substitution).
  const auto columns = [&](auto count) HWY_ATTR {
    constexpr int C = decltype(count)::value;
    V* v[C];
    for (int q = 0; q < C; ++q) v[q] = x + 2 * (c + q) * k;
    for (int i = 0; i < k; ++i) {  // L z = b
      V ra[C], rb[C], ia[C], ib[C];
      for (int q = 0; q < C; ++q) { ra[q] = v[q][2 * i]; ia[q] = v[q][2 * i + 1]; rb[q] = V::zero(); ib[q] = V::zero(); }
      for (int p = 0; p < i; ++p) {  // z_i −= L_ip z_p
        const V lr = l[2 * (p * k + i)], li = l[2 * (p * k + i) + 1];
        for (int q = 0; q < C; ++q) {
          const V pr = v[q][2 * p], pi = v[q][2 * p + 1];
          ra[q] = fnma(lr, pr, ra[q]);
          rb[q] = fma(li, pi, rb[q]);
          ia[q] = fnma(lr, pi, ia[q]);
          ib[q] = fnma(li, pr, ib[q]);
        }
      }
      for (int q = 0; q < C; ++q) {
        v[q][2 * i] = (ra[q] + rb[q]) * inv_diag[i];
        v[q][2 * i + 1] = (ia[q] + ib[q]) * inv_diag[i];
      }
    }
    for (int i = k - 1; i >= 0; --i) {  // Lᴴ x = z
      V ra[C], rb[C], ia[C], ib[C];
      for (int q = 0; q < C; ++q) { ra[q] = v[q][2 * i]; ia[q] = v[q][2 * i + 1]; rb[q] = V::zero(); ib[q] = V::zero(); }
      for (int p = i + 1; p < k; ++p) {  // x_i −= conj(L_pi) x_p
        const V lr = l[2 * (i * k + p)], li = l[2 * (i * k + p) + 1];
        for (int q = 0; q < C; ++q) {
          const V pr = v[q][2 * p], pi = v[q][2 * p + 1];
          ra[q] = fnma(lr, pr, ra[q]);
          rb[q] = fnma(li, pi, rb[q]);
          ia[q] = fnma(lr, pi, ia[q]);
          ib[q] = fma(li, pr, ib[q]);
        }
      }
      for (int q = 0; q < C; ++q) {
        v[q][2 * i] = (ra[q] + rb[q]) * inv_diag[i];
        v[q][2 * i + 1] = (ia[q] + ib[q]) * inv_diag[i];
      }
    }
  };
  // Three columns at a time (twelve accumulators, L's two vectors: within the sixteen
  // registers): every element of L loaded feeds twelve FMAs.
  for (; c + 3 <= m; c += 3) columns(std::integral_constant<int, 3>{});
  for (; c + 2 <= m; c += 2) columns(std::integral_constant<int, 2>{});
  for (; c < m; ++c) columns(std::integral_constant<int, 1>{});
}

/// C = A B, A r×n, B n×m, C r×m (C must not alias A or B).
///
/// Rows of C in blocks of three (two where a lone row would remain), each complex
/// accumulator split in two (products with B's real part and with its imaginary part):
/// twelve independent FMA chains, so the FMA units, not their latency, set the pace. The
/// inner dimension goes in slices of kSlice: a slice of B (kSlice × m) and of A stay in L1
/// while every row block and column uses them (whole, A and B are 64 KB each at 16 × 64 ×
/// 16 in f32 and would stream from L2 once per row block or column); C carries the partial
/// sums between slices.
template <typename V>
void multiply(V* c, const V* a, const V* b, int r, int n, int m) noexcept {
  constexpr int kSlice = 16;
  const auto rows = [&](int i, int p0, int p1, auto count) HWY_ATTR {
    constexpr int R = decltype(count)::value;
    for (int j = 0; j < m; ++j) {
      const V* bj = b + 2 * j * n;
      V* cj = c + 2 * (j * r + i);
      V re[R], rs[R], im[R], it[R];
      for (int q = 0; q < R; ++q) {
        re[q] = p0 == 0 ? V::zero() : cj[2 * q];
        im[q] = p0 == 0 ? V::zero() : cj[2 * q + 1];
        rs[q] = it[q] = V::zero();
      }
      for (int p = p0; p < p1; ++p) {
        const V br = bj[2 * p], bi = bj[2 * p + 1];
        const V* ap = a + 2 * (p * r + i);
        for (int q = 0; q < R; ++q) {
          const V ar = ap[2 * q], ai = ap[2 * q + 1];
          re[q] = fma(ar, br, re[q]);
          rs[q] = fnma(ai, bi, rs[q]);
          im[q] = fma(ar, bi, im[q]);
          it[q] = fma(ai, br, it[q]);
        }
      }
      for (int q = 0; q < R; ++q) {
        cj[2 * q] = re[q] + rs[q];
        cj[2 * q + 1] = im[q] + it[q];
      }
    }
  };
  for (int p0 = 0; p0 < n; p0 += kSlice) {
    const int p1 = p0 + kSlice < n ? p0 + kSlice : n;
    int i = 0;
    for (; i + 3 <= r && r - i != 4; i += 3) rows(i, p0, p1, std::integral_constant<int, 3>{});
    for (; i + 2 <= r; i += 2) rows(i, p0, p1, std::integral_constant<int, 2>{});
    for (; i < r; ++i) rows(i, p0, p1, std::integral_constant<int, 1>{});
  }
}

}  // namespace amimo::solver::compact::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
