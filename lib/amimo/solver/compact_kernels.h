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

/// Antennas per pass of gram() and adjoint_multiply(): a block of rows of H over this many
/// antennas stays in L1 while the columns stream past it.
inline constexpr int kAntennaSlice = 32;

// Register tiles sized to the target's vector registers: AVX-512 has 32, a 4×2 tile of
// adjoint_tile (16 sums, 8 H values, 2 X values) and two rows by two columns in
// cholesky_solve (16 sums, 4 L values, 2 X values) fit; AVX2 and below have 16, so 6×1 (12
// sums, H read from memory) and two rows by one column (8 sums).
#if HWY_TARGET == HWY_AVX3
inline constexpr int kTileRows = 4, kTileColumns = 2, kSolveColumns = 2;
#else
inline constexpr int kTileRows = 6, kTileColumns = 1, kSolveColumns = 1;
#endif

/// Entries (i … i+R−1) × (j … j+C−1) of Hᴴ X after antennas [a0, a1): out[2(c·ldo + q)] and
/// out[… + 1] hold entry (i + q, j + c) (out at entry (i, j), ldo its column stride), x is
/// X's column j (n values, the next column 2n vectors on). Each entry is one running sum
/// Σ_a conj(h_{a,i+q}) x_{a,j+c} in antenna order, started at zero for the first range
/// (a0 = 0), else from the partial sums already in out: the tile shape and the ranges never
/// change a result (and two equal columns of H give bit-equal entries wherever the same sum
/// is formed from each). An R×C tile loads 2R + 2C vectors per antenna for 4RC fused
/// multiply-adds; 4×2 keeps its 16 sums and the 8 H values in registers.
template <int R, int C, typename V>
HWY_INLINE void adjoint_tile(V* out, int ldo, const V* h, int n, int i, const V* x, int a0, int a1) noexcept {
  V re[C][R], im[C][R];
  for (int c = 0; c < C; ++c) {
    for (int q = 0; q < R; ++q) {
      re[c][q] = a0 == 0 ? V::zero() : out[2 * (c * ldo + q)];
      im[c][q] = a0 == 0 ? V::zero() : out[2 * (c * ldo + q) + 1];
    }
  }
  const V* h0 = h + 2 * i * n;
  for (int a = a0; a < a1; ++a) {
    V hr[R], hi[R];
    for (int q = 0; q < R; ++q) {
      hr[q] = h0[2 * (q * n + a)];
      hi[q] = h0[2 * (q * n + a) + 1];
    }
    for (int c = 0; c < C; ++c) {
      const V xr = x[2 * (c * n + a)], xi = x[2 * (c * n + a) + 1];
      for (int q = 0; q < R; ++q) {
        re[c][q] = fma(hr[q], xr, re[c][q]);
        re[c][q] = fma(hi[q], xi, re[c][q]);
        im[c][q] = fma(hr[q], xi, im[c][q]);
        im[c][q] = fnma(hi[q], xr, im[c][q]);
      }
    }
  }
  for (int c = 0; c < C; ++c) {
    for (int q = 0; q < R; ++q) {
      out[2 * (c * ldo + q)] = re[c][q];
      out[2 * (c * ldo + q) + 1] = im[c][q];
    }
  }
}

/// adjoint_tile with 1 ≤ rows ≤ MaxRows (≤ 6) chosen at run time.
template <int MaxRows, int C, typename V>
HWY_INLINE void adjoint_tile_rows(int rows, V* out, int ldo, const V* h, int n, int i, const V* x, int a0,
                                  int a1) noexcept {
  static_assert(MaxRows >= 1 && MaxRows <= 6);
  switch (rows) {
    case 6:
      if constexpr (MaxRows >= 6) return adjoint_tile<6, C>(out, ldo, h, n, i, x, a0, a1);
      [[fallthrough]];
    case 5:
      if constexpr (MaxRows >= 5) return adjoint_tile<5, C>(out, ldo, h, n, i, x, a0, a1);
      [[fallthrough]];
    case 4:
      return adjoint_tile<4, C>(out, ldo, h, n, i, x, a0, a1);
    case 3:
      return adjoint_tile<3, C>(out, ldo, h, n, i, x, a0, a1);
    case 2:
      return adjoint_tile<2, C>(out, ldo, h, n, i, x, a0, a1);
    default:
      return adjoint_tile<1, C>(out, ldo, h, n, i, x, a0, a1);
  }
}

/// Hᴴ X into out (column stride k) in adjoint_tiles: antenna ranges outside, blocks of
/// TileRows rows of Hᴴ (from i0) next, then the columns j < end(i0) of X, TileColumns at a
/// time and the rest one by one; after them, block(a0, a1, i0, rows) (gram()'s diagonal
/// blocks; nothing for adjoint_multiply()).
template <int TileRows, int TileColumns, typename V, typename End, typename Block>
HWY_INLINE void adjoint_blocks(V* out, const V* h, const V* x, int n, int k, End end, Block block) noexcept {
  constexpr int C = TileColumns;
  for (int a0 = 0; a0 < n; a0 += kAntennaSlice) {
    const int a1 = a0 + kAntennaSlice < n ? a0 + kAntennaSlice : n;
    for (int i0 = 0; i0 < k; i0 += TileRows) {
      const int rows = k - i0 < TileRows ? k - i0 : TileRows;
      const int columns = end(i0);
      int j = 0;
      for (; j + C <= columns; j += C)
        adjoint_tile_rows<TileRows, C>(rows, out + 2 * (j * k + i0), k, h, n, i0, x + 2 * j * n, a0, a1);
      for (; j < columns; ++j)
        adjoint_tile_rows<TileRows, 1>(rows, out + 2 * (j * k + i0), k, h, n, i0, x + 2 * j * n, a0, a1);
      block(a0, a1, i0, rows);
    }
  }
}

/// A = Hᴴ H (+ reg on the diagonal), H n×k (n ≥ 1), A k×k (both triangles written; out must
/// not overlap h: it carries partial sums). (The tile shape is the target's; tests ask for
/// others.)
template <typename V, int TileRows = kTileRows, int TileColumns = kTileColumns>
void gram(V* out, const V* h, int n, int k, V reg) noexcept {
  // The lower triangle in adjoint_tiles, then mirrored: per block of rows, the columns left
  // of it, then the block's own columns, each with the block's rows at or below it.
  adjoint_blocks<TileRows, TileColumns>(
      out, h, h, n, k, [](int i0) HWY_ATTR { return i0; },
      [&](int a0, int a1, int i0, int rows) HWY_ATTR {
        for (int j = i0; j < i0 + rows; ++j) {
          adjoint_tile_rows<TileRows, 1>(i0 + rows - j, out + 2 * (j * k + j), k, h, n, j, h + 2 * j * n, a0, a1);
        }
      });
  for (int j = 0; j < k; ++j) {
    for (int i = j + 1; i < k; ++i) {
      out[2 * (i * k + j)] = out[2 * (j * k + i)];
      out[2 * (i * k + j) + 1] = V::zero() - out[2 * (j * k + i) + 1];
    }
    out[2 * (j * k + j)] = out[2 * (j * k + j)] + reg;
    out[2 * (j * k + j) + 1] = V::zero();
  }
}

/// C = Hᴴ B, H n×k (n ≥ 1), B n×m, C k×m (c must not overlap h or b: it carries partial
/// sums): gram()'s dot products (adjoint_tile), so no transposed copy of H; a block of rows
/// of H stays in L1 while B streams past it.
template <typename V, int TileRows = kTileRows, int TileColumns = kTileColumns>
void adjoint_multiply(V* c, const V* h, const V* b, int n, int k, int m) noexcept {
  adjoint_blocks<TileRows, TileColumns>(
      c, h, b, n, k, [m](int) HWY_ATTR { return m; }, [](int, int, int, int) HWY_ATTR {});
}

/// In-place Cholesky A = L Lᴴ of the lower triangle of a k×k group; 1/L_jj into inv_diag.
/// failed gets 1 in every lane where a pivot was not positive (that lane continues on a
/// stand-in pivot 1 so its arithmetic stays finite); min_root and max_root give the pivot
/// range for the singularity test.
template <typename V>
void cholesky(V* a, V* inv_diag, int k, V& failed, V& min_root, V& max_root) noexcept {
  const V one = V::broadcast(1), zero = V::zero();
  failed = zero;
  // +∞ in either precision (float's max would cap f64 lanes' pivots at 3.4e38, so that a
  // matrix whose pivots all exceed it looked singular by the ratio test).
  min_root = V::broadcast(std::numeric_limits<float>::infinity());
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
///
/// Each complex update is two FMAs into the real and two into the imaginary part; they go
/// to separate accumulators (a: the L_re products, b: the L_im products), summed once per
/// element, so an element keeps four independent FMA chains instead of two dependent
/// pairs. Rows go in pairs sharing every loaded value of X (each complex value feeds eight
/// FMAs, each of its two vectors four, so it is loaded once, not once per FMA): at two columns, sixteen accumulators, the pair's four L
/// values and a column's two X values in registers. Within a pair the later row
/// takes the earlier one's new value last, so the order of every row's sum is the same as
/// one row at a time: forward p = 0 … i−1, backward p = k−1 … i+1 (latest value last).
/// (kSolveColumns columns at a time: two with AVX-512's 32 registers, one with 16.)
template <typename V, int SolveColumns = kSolveColumns>
void cholesky_solve(V* x, const V* l, const V* inv_diag, int k, int m) noexcept {
  // z_i −= L_ip z_p for the R rows i[0 … R−1] and one p, on C columns, into accumulator
  // slots slot … slot+R−1 (a: the L_re products, b: the L_im products). conj_l: the
  // backward pass, x_i −= conj(L_pi) x_p.
  const auto update = [&](V* const* v, auto rows, auto columns, auto conj_l, const int* i, int p, int slot, V(*ra)[2],
                          V(*rb)[2], V(*ia)[2], V(*ib)[2]) HWY_ATTR {
    constexpr int R = decltype(rows)::value, C = decltype(columns)::value;
    constexpr bool kConj = decltype(conj_l)::value;
    V lr[R], li[R];
    for (int r = 0; r < R; ++r) {
      const int at = kConj ? 2 * (i[r] * k + p) : 2 * (p * k + i[r]);
      lr[r] = l[at];
      li[r] = l[at + 1];
    }
    for (int q = 0; q < C; ++q) {
      const V pr = v[q][2 * p], pi = v[q][2 * p + 1];
      for (int r = 0; r < R; ++r) {
        const int a = slot + r;
        ra[q][a] = fnma(lr[r], pr, ra[q][a]);
        ia[q][a] = fnma(lr[r], pi, ia[q][a]);
        if constexpr (kConj) {
          rb[q][a] = fnma(li[r], pi, rb[q][a]);
          ib[q][a] = fma(li[r], pr, ib[q][a]);
        } else {
          rb[q][a] = fma(li[r], pi, rb[q][a]);
          ib[q][a] = fnma(li[r], pr, ib[q][a]);
        }
      }
    }
  };
  // One substitution pass (forward: rows 0 … k−1; backward: rows k−1 … 0) on C columns.
  const auto pass = [&](V* const* v, auto columns, auto backward) HWY_ATTR {
    constexpr int C = decltype(columns)::value;
    constexpr bool kBack = decltype(backward)::value;
    using conj_t = std::integral_constant<bool, kBack>;
    V ra[C][2], rb[C][2], ia[C][2], ib[C][2];
    const auto start = [&](int r, int i) HWY_ATTR {
      for (int q = 0; q < C; ++q) {
        ra[q][r] = v[q][2 * i];
        ia[q][r] = v[q][2 * i + 1];
        rb[q][r] = ib[q][r] = V::zero();
      }
    };
    const auto finish = [&](int r, int i) HWY_ATTR {
      for (int q = 0; q < C; ++q) {
        v[q][2 * i] = (ra[q][r] + rb[q][r]) * inv_diag[i];
        v[q][2 * i + 1] = (ia[q][r] + ib[q][r]) * inv_diag[i];
      }
    };
    // Row `step` of the pass (0 … k−1) is matrix row i = step or k − 1 − step; its terms
    // are the rows already done, in the order they were done.
    const auto row_of = [&](int step) { return kBack ? k - 1 - step : step; };
    int step = 0;
    for (; step + 2 <= k; step += 2) {
      const int i[2] = {row_of(step), row_of(step + 1)};
      start(0, i[0]);
      start(1, i[1]);
      for (int d = 0; d < step; ++d) {
        update(v, std::integral_constant<int, 2>{}, columns, conj_t{}, i, row_of(d), 0, ra, rb, ia, ib);
      }
      finish(0, i[0]);
      // The second row's last term: the first row's new value.
      update(v, std::integral_constant<int, 1>{}, columns, conj_t{}, i + 1, i[0], 1, ra, rb, ia, ib);
      finish(1, i[1]);
    }
    if (step < k) {  // a last row on its own
      const int i[1] = {row_of(step)};
      start(0, i[0]);
      for (int d = 0; d < step; ++d) {
        update(v, std::integral_constant<int, 1>{}, columns, conj_t{}, i, row_of(d), 0, ra, rb, ia, ib);
      }
      finish(0, i[0]);
    }
  };
  int c = 0;
  const auto columns = [&](auto count) HWY_ATTR {
    constexpr int C = decltype(count)::value;
    V* v[C];
    for (int q = 0; q < C; ++q) v[q] = x + 2 * (c + q) * k;
    pass(v, count, std::false_type{});  // L z = b
    pass(v, count, std::true_type{});   // Lᴴ x = z
  };
  for (; c + SolveColumns <= m; c += SolveColumns) columns(std::integral_constant<int, SolveColumns>{});
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
