// Layered normalised min-sum decoder with int8 messages, 32 checks per vector: layers of
// degree ≤ 8 one vector at a time with the extrinsic values in registers, larger layers two
// vectors (64 checks) at a time with the extrinsic values in a small work buffer.
//
// A block row (layer) with edges (column c_j, shift P_j) relates check t of the layer to bit
// (t + P_j) mod Z of column c_j. Lane t of a vector holds check t, so edge j needs column c_j
// cyclically rotated by P_j. Instead of copying columns into rotated work rows and back, each
// column is kept in the order of the layer that last wrote it: position p of column c holds bit
// (p + o_c) mod Z, o_c its current offset. A layer reads column c_j at start (P_j − o_c) mod Z
// with unaligned loads, and writes it back in its own lane order with aligned stores into the
// column's other buffer (then o_c = P_j and the buffers swap roles). A load that runs past position Z − 1 wraps because every column carries, at
// positions Z..Z+63, a copy of its positions 0..63 (for Z < 64, the periodic continuation);
// the layer refreshes that copy with extra stores of its first group of vectors.
//
// Lanes t ≥ Z of the last group (Z not a multiple of 64) read bit (t + P_j) mod Z, the same
// bit as lane t − Z, so they compute exactly what lane t − Z computes: stored at positions
// ≥ Z they are the copy above. A layer reads one buffer and writes the other, so these
// duplicate lanes never see a value the same layer already updated.
//
// Arithmetic (identical in the AVX2 and the portable build): extrinsic t_j = sat(APP_j − msg_j)
// with sat() clamping to ±127; min1, min2 and the sign product of the t_j; msg_j = ±α·(min2 if
// |t_j| = min1 else min1) (with two edges at min1, min2 = min1, so which one is "the" minimum
// does not matter), α·m = (m·α16 + 8) >> 4; APP_j = sat(t_j + msg_j).
#include <amimo/fec/ldpc_decoder.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace amimo::fec {
namespace {

constexpr int kLanes = 32;
// A layer works on groups of kGroup vectors: more independent work per edge pointer loaded
// (measured on BG1, Z = 384: 2 and 3 vectors about equally fast, 1 and 4 slower).
constexpr std::size_t kGroup = 2;
constexpr std::size_t kGroupLanes = kGroup * kLanes;
constexpr int kMaxMag = 127;
// Channel LLRs are quantised into ±kMaxInput, well inside the ±kMaxMag range of the APP and
// message arithmetic: an APP that saturates at the channel value alone loses the extrinsic
// information subtracted from it in later layers (an error floor at high SNR, where every
// channel LLR is large).
constexpr int kMaxInput = 31;

int round_up(int v, int m) { return (v + m - 1) / m * m; }

// 32 int8 lanes: AVX2 registers, or a plain array with the same lane-wise semantics.
#if defined(__AVX2__)
struct lanes8 {
  __m256i v;
  static lanes8 load(const std::int8_t* p) { return {_mm256_load_si256(reinterpret_cast<const __m256i*>(p))}; }
  static lanes8 loadu(const std::int8_t* p) { return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))}; }
  static lanes8 splat(int x) { return {_mm256_set1_epi8(static_cast<char>(x))}; }
  void store(std::int8_t* p) const { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
  void storeu(std::int8_t* p) const { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
};
// sat(a − b), sat(a + b): saturating int8 arithmetic, then −128 raised to −127.
inline lanes8 sat_sub(lanes8 a, lanes8 b) { return {_mm256_max_epi8(_mm256_subs_epi8(a.v, b.v), _mm256_set1_epi8(-kMaxMag))}; }
inline lanes8 sat_add(lanes8 a, lanes8 b) { return {_mm256_max_epi8(_mm256_adds_epi8(a.v, b.v), _mm256_set1_epi8(-kMaxMag))}; }
inline lanes8 abs(lanes8 a) { return {_mm256_abs_epi8(a.v)}; }
inline lanes8 min(lanes8 a, lanes8 b) { return {_mm256_min_epi8(a.v, b.v)}; }
inline lanes8 max(lanes8 a, lanes8 b) { return {_mm256_max_epi8(a.v, b.v)}; }
inline lanes8 operator^(lanes8 a, lanes8 b) { return {_mm256_xor_si256(a.v, b.v)}; }
// Lanes where |t| == min1 take s2, the others s1.
inline lanes8 select_magnitude(lanes8 t, lanes8 min1, lanes8 s1, lanes8 s2) {
  return {_mm256_blendv_epi8(s1.v, s2.v, _mm256_cmpeq_epi8(_mm256_abs_epi8(t.v), min1.v))};
}
// mag negated where sign_of has its top bit set (| 1 so that _mm256_sign_epi8 never sees 0).
inline lanes8 apply_sign(lanes8 mag, lanes8 sign_of) {
  return {_mm256_sign_epi8(mag.v, _mm256_or_si256(sign_of.v, _mm256_set1_epi8(1)))};
}
// α·m = (m·alpha16 + 8) >> 4 for m in [0, 127]. With m = 16h + l that is
// h·alpha16 + ((l·alpha16 + 8) >> 4) exactly: two 16-entry table look-ups.
class scaler {
 public:
  explicit scaler(int alpha16) {
    std::array<std::int8_t, 32> lo{};
    std::array<std::int8_t, 32> hi{};
    for (int i = 0; i < 16; ++i) {
      lo[static_cast<std::size_t>(i)] = lo[static_cast<std::size_t>(i + 16)] = static_cast<std::int8_t>((i * alpha16 + 8) >> 4);
      // High nibbles above 7 do not occur (m ≤ 127).
      hi[static_cast<std::size_t>(i)] = hi[static_cast<std::size_t>(i + 16)] = static_cast<std::int8_t>(i < 8 ? i * alpha16 : 0);
    }
    lo_ = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo.data()));
    hi_ = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi.data()));
  }
  lanes8 operator()(lanes8 m) const {
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    const __m256i l = _mm256_and_si256(m.v, nibble);
    const __m256i h = _mm256_and_si256(_mm256_srli_epi16(m.v, 4), nibble);
    return {_mm256_add_epi8(_mm256_shuffle_epi8(lo_, l), _mm256_shuffle_epi8(hi_, h))};
  }

 private:
  __m256i lo_;
  __m256i hi_;
};
inline bool any_negative(lanes8 a) { return _mm256_movemask_epi8(a.v) != 0; }
#else
struct lanes8 {
  std::array<std::int8_t, kLanes> v;
  static lanes8 load(const std::int8_t* p) { return loadu(p); }
  static lanes8 loadu(const std::int8_t* p) {
    lanes8 r;
    std::memcpy(r.v.data(), p, kLanes);
    return r;
  }
  static lanes8 splat(int x) {
    lanes8 r;
    r.v.fill(static_cast<std::int8_t>(x));
    return r;
  }
  void store(std::int8_t* p) const { std::memcpy(p, v.data(), kLanes); }
  void storeu(std::int8_t* p) const { std::memcpy(p, v.data(), kLanes); }
};
template <class Op>
inline lanes8 lanewise(lanes8 a, lanes8 b, Op op) {
  lanes8 r;
  for (std::size_t i = 0; i < kLanes; ++i) {
    r.v[i] = static_cast<std::int8_t>(op(int{a.v[i]}, int{b.v[i]}));
  }
  return r;
}
inline lanes8 sat_sub(lanes8 a, lanes8 b) {
  return lanewise(a, b, [](int x, int y) { return std::clamp(x - y, -kMaxMag, kMaxMag); });
}
inline lanes8 sat_add(lanes8 a, lanes8 b) {
  return lanewise(a, b, [](int x, int y) { return std::clamp(x + y, -kMaxMag, kMaxMag); });
}
inline lanes8 abs(lanes8 a) {
  return lanewise(a, a, [](int x, int) { return x < 0 ? -x : x; });
}
inline lanes8 min(lanes8 a, lanes8 b) {
  return lanewise(a, b, [](int x, int y) { return std::min(x, y); });
}
inline lanes8 max(lanes8 a, lanes8 b) {
  return lanewise(a, b, [](int x, int y) { return std::max(x, y); });
}
inline lanes8 operator^(lanes8 a, lanes8 b) {
  return lanewise(a, b, [](int x, int y) { return x ^ y; });
}
inline lanes8 select_magnitude(lanes8 t, lanes8 min1, lanes8 s1, lanes8 s2) {
  lanes8 r;
  for (std::size_t i = 0; i < kLanes; ++i) {
    r.v[i] = (t.v[i] < 0 ? -t.v[i] : t.v[i]) == min1.v[i] ? s2.v[i] : s1.v[i];
  }
  return r;
}
inline lanes8 apply_sign(lanes8 mag, lanes8 sign_of) {
  return lanewise(mag, sign_of, [](int m, int s) { return s < 0 ? -m : m; });
}
// α·m = (m·alpha16 + 8) >> 4 for m in [0, 127].
class scaler {
 public:
  explicit scaler(int alpha16) : alpha16_(alpha16) {}
  lanes8 operator()(lanes8 m) const {
    return lanewise(m, m, [a = alpha16_](int x, int) { return (x * a + 8) >> 4; });
  }

 private:
  int alpha16_;
};
inline bool any_negative(lanes8 a) {
  return std::any_of(a.v.begin(), a.v.end(), [](std::int8_t x) { return x < 0; });
}
#endif

// int8 storage whose first byte is 32-byte aligned.
class aligned_bytes {
 public:
  explicit aligned_bytes(std::size_t n) : raw_(n + kLanes, 0) {
    const auto addr = reinterpret_cast<std::uintptr_t>(raw_.data());
    data_ = raw_.data() + (kLanes - addr % kLanes) % kLanes;
  }
  std::int8_t* data() noexcept { return data_; }

 private:
  std::vector<std::int8_t> raw_;
  std::int8_t* data_ = nullptr;
};

class layered_min_sum_decoder final : public ldpc_decoder {
 public:
  layered_min_sum_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg)
      : code_(bg, z),
        cfg_(cfg),
        z_(z),
        lanes_(round_up(z, static_cast<int>(kGroupLanes))),
        groups_(lanes_ / static_cast<int>(kGroupLanes)),
        stride_(round_up(z + static_cast<int>(kGroupLanes), kLanes)),
        scale_(std::clamp(static_cast<int>(std::lround(cfg.normalisation * 16.0f)), 1, 16)),
        app_(2 * static_cast<std::size_t>(code_.block_cols()) * static_cast<std::size_t>(stride_)),
        msg_(static_cast<std::size_t>(code_.edge_count()) * static_cast<std::size_t>(lanes_)),
        work_(static_cast<std::size_t>(code_.max_row_degree()) * kGroupLanes),
        offset_(static_cast<std::size_t>(code_.block_cols()), 0),
        current_(static_cast<std::size_t>(code_.block_cols()), 0),
        column_(static_cast<std::size_t>(code_.max_row_degree()), nullptr),
        next_column_(static_cast<std::size_t>(code_.max_row_degree()), nullptr),
        start_(static_cast<std::size_t>(code_.max_row_degree()), 0) {}

  const ldpc_code& code() const noexcept override { return code_; }

  ldpc_decode_result decode(std::span<std::uint8_t> info_out, std::span<const float> llr) override {
    if (static_cast<int>(llr.size()) != code_.codeword_bits() || static_cast<int>(info_out.size()) != code_.info_bits()) {
      throw std::invalid_argument("ldpc decoder: llr must hold N = " + std::to_string(code_.codeword_bits()) +
                                  " values and info_out K = " + std::to_string(code_.info_bits()));
    }
    const int rows = decoded_rows(llr);
    const int cols = code_.info_block_cols() + rows;
    load_channel(llr, cols);

    ldpc_decode_result result;
    result.read_values = nonzero_channel_values(cols);
    for (int it = 0; it < cfg_.max_iterations; ++it) {
      for (int r = 0; r < rows; ++r) {
        if (it == 0) {
          process_layer<true>(r);
        } else {
          process_layer<false>(r);
        }
      }
      result.iterations = it + 1;
      if (cfg_.early_termination && parity_satisfied(rows)) {
        result.parity_ok = true;
        break;
      }
    }
    if (!cfg_.early_termination) {
      result.parity_ok = parity_satisfied(rows);
    }
    // Bit b of column c sits at position (b − o_c) mod Z.
    const auto zs = static_cast<std::size_t>(z_);
    for (int c = 0; c < code_.info_block_cols(); ++c) {
      const std::int8_t* a = column(c);
      std::uint8_t* o = info_out.data() + static_cast<std::size_t>(c) * zs;
      const auto off = static_cast<std::size_t>(offset_[static_cast<std::size_t>(c)]);
      for (std::size_t b = 0; b < off; ++b) {
        o[b] = a[b + zs - off] < 0 ? 1 : 0;
      }
      for (std::size_t b = off; b < zs; ++b) {
        o[b] = a[b - off] < 0 ? 1 : 0;
      }
    }
    return result;
  }

 private:
  // Column c's current buffer and the one the next layer touching it writes.
  std::int8_t* column(int c) {
    return app_.data() + (2 * static_cast<std::ptrdiff_t>(c) + current_[static_cast<std::size_t>(c)]) * stride_;
  }
  std::int8_t* next_column(int c) {
    return app_.data() + (2 * static_cast<std::ptrdiff_t>(c) + 1 - current_[static_cast<std::size_t>(c)]) * stride_;
  }

  // Rows 0..3 always; row r ≥ 4 only when its parity column kb + r (or a later one) got an LLR.
  int decoded_rows(std::span<const float> llr) const {
    const auto last = std::find_if(llr.rbegin(), llr.rend(), [](float v) { return v != 0.0f; });
    if (last == llr.rend()) {
      return 4;
    }
    const auto index = static_cast<int>(llr.rend() - last) - 1;
    const int col = index / code_.z() + 2;
    return std::clamp(col - code_.info_block_cols() + 1, 4, code_.block_rows());
  }

  // Non-zero loaded channel values (columns 2..cols−1; 0 and 1 are punctured).
  int nonzero_channel_values(int cols) {
    const auto zs = static_cast<std::size_t>(z_);
    int n = 0;
    for (int c = 2; c < cols; ++c) {
      const std::int8_t* p = column(c);
      n += static_cast<int>(std::count_if(p, p + zs, [](std::int8_t v) { return v != 0; }));
    }
    return n;
  }

  // Quantised channel LLRs into columns 0..cols−1 in natural order (offset 0), the punctured
  // columns 0 and 1 at 0, and each column's wrap copy at positions Z..Z+kGroupLanes−1.
  void load_channel(std::span<const float> llr, int cols) {
    const auto zs = static_cast<std::size_t>(z_);
    const float scale = cfg_.llr_scale;
    const float lim = static_cast<float>(kMaxInput);
    for (int c = 0; c < cols; ++c) {
      offset_[static_cast<std::size_t>(c)] = 0;
      current_[static_cast<std::size_t>(c)] = 0;
      std::int8_t* out = column(c);
      if (c < 2) {
        std::fill(out, out + zs, std::int8_t{0});
      } else {
        const float* in = llr.data() + static_cast<std::size_t>(c - 2) * zs;
        std::size_t t = 0;
#if defined(__AVX2__)
        t = quantise_vectors(out, in, zs, scale, lim);
#endif
        for (; t < zs; ++t) {
          // Round half away from zero after clamping; a NaN LLR is no information (0): its
          // int8 cast was undefined, and the vector path's max/min made it a full-scale "1".
          const float v = in[t] * scale;
          const float q = std::clamp(v == v ? v : 0.0f, -lim, lim);
          out[t] = static_cast<std::int8_t>(q + std::copysign(0.5f, q));
        }
      }
      for (std::size_t p = zs; p < zs + kGroupLanes; ++p) {
        out[p] = out[p - zs];
      }
    }
  }

#if defined(__AVX2__)
  // The scalar quantisation of load_channel() on 32 values at a time (same float operations,
  // so the same int8 values); returns how many it did (a multiple of 32).
  static std::size_t quantise_vectors(std::int8_t* out, const float* in, std::size_t n, float scale, float lim) {
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 hi = _mm256_set1_ps(lim);
    const __m256 lo = _mm256_set1_ps(-lim);
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const auto q = [&](const float* p) {
      const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(p), vscale);
      const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)), lo), hi);
      return _mm256_cvttps_epi32(_mm256_add_ps(x, _mm256_or_ps(_mm256_and_ps(x, sign), half)));
    };
    std::size_t t = 0;
    for (; t + kLanes <= n; t += kLanes) {
      const __m256i ab = _mm256_packs_epi32(q(in + t), q(in + t + 8));
      const __m256i cd = _mm256_packs_epi32(q(in + t + 16), q(in + t + 24));
      const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + t), bytes);
    }
    return t;
  }
#endif

  // For each edge of block row r: its column and the position of the bit that lane 0 needs.
  void locate_edges(std::span<const lifted_edge> edges) {
    for (std::size_t j = 0; j < edges.size(); ++j) {
      column_[j] = column(edges[j].col);
      const int start = edges[j].shift - offset_[edges[j].col];
      start_[j] = start < 0 ? start + z_ : start;
    }
  }
  // Moves every edge's read position on by one group of vectors, wrapping at Z.
  void advance_edges(std::size_t d) {
    for (std::size_t j = 0; j < d; ++j) {
      const int next = start_[j] + kGroupLanes;
      start_[j] = next >= z_ ? next - z_ : next;
    }
  }
  // After block row r: its columns now live in the other buffer, in r's order.
  void flip_columns(std::span<const lifted_edge> edges) {
    for (const lifted_edge& e : edges) {
      offset_[e.col] = e.shift;
      current_[e.col] ^= 1;
    }
  }

  // One layer; first_iteration: every message of the layer is still 0 (not read; written).
  template <bool first_iteration>
  void process_layer(int r) {
    const auto edges = code_.row(r);
    std::int8_t* const msg = msg_.data() + static_cast<std::ptrdiff_t>(code_.row_edge_offset(r)) * lanes_;
    switch (edges.size()) {
      case 3: process_small_layer<3, first_iteration>(edges, msg); break;
      case 4: process_small_layer<4, first_iteration>(edges, msg); break;
      case 5: process_small_layer<5, first_iteration>(edges, msg); break;
      case 6: process_small_layer<6, first_iteration>(edges, msg); break;
      case 7: process_small_layer<7, first_iteration>(edges, msg); break;
      case 8: process_small_layer<8, first_iteration>(edges, msg); break;
      default: process_large_layer<first_iteration>(edges, msg); break;
    }
    flip_columns(edges);
  }

  // A layer of degree D, one vector at a time with the extrinsic values in registers.
  // Messages: [vector][edge][32 lanes].
  template <std::size_t D, bool first_iteration>
  void process_small_layer(std::span<const lifted_edge> edges, std::int8_t* m) {
    std::array<const std::int8_t*, D> src;
    std::array<std::int8_t*, D> dst;
    std::array<int, D> at;
    for (std::size_t j = 0; j < D; ++j) {
      src[j] = column(edges[j].col);
      dst[j] = next_column(edges[j].col);
      const int start = edges[j].shift - offset_[edges[j].col];
      at[j] = start < 0 ? start + z_ : start;
    }
    const int z = z_;
    const int step = kLanes % z;
    const auto vectors = static_cast<std::size_t>(lanes_) / kLanes;
    for (std::size_t v = 0; v < vectors; ++v, m += D * kLanes) {
      std::array<lanes8, D> t;
      lanes8 min1 = lanes8::splat(kMaxMag);
      lanes8 min2 = min1;
      lanes8 sgn = lanes8::splat(0);
#pragma GCC unroll 16
      for (std::size_t j = 0; j < D; ++j) {
        const lanes8 app = lanes8::loadu(src[j] + at[j]);
        t[j] = first_iteration ? app : sat_sub(app, lanes8::load(m + j * kLanes));
        const lanes8 mag = abs(t[j]);
        min2 = min(min2, max(min1, mag));
        min1 = min(min1, mag);
        sgn = sgn ^ t[j];
        const int next = at[j] + step;
        at[j] = next >= z ? next - z : next;
      }
      const lanes8 s1 = apply_sign(scale_(min1), sgn);
      const lanes8 s2 = apply_sign(scale_(min2), sgn);
#pragma GCC unroll 16
      for (std::size_t j = 0; j < D; ++j) {
        // s1, s2 carry the sign of the whole product; t's own sign takes t's part out.
        const lanes8 out = apply_sign(select_magnitude(t[j], min1, s1, s2), t[j]);
        out.store(m + j * kLanes);
        const lanes8 app = sat_add(t[j], out);
        app.store(dst[j] + v * kLanes);
        if (v < kGroup) {
          app.storeu(dst[j] + z + v * kLanes);  // the wrap copy
        }
      }
    }
  }

  // A layer of any degree, kGroup vectors at a time with the extrinsic values in work_.
  // Messages: [group][edge][kGroup][32 lanes].
  template <bool first_iteration>
  void process_large_layer(std::span<const lifted_edge> edges, std::int8_t* m) {
    const auto d = edges.size();
    const auto groups = static_cast<std::size_t>(groups_);
    locate_edges(edges);
    for (std::size_t j = 0; j < d; ++j) {
      next_column_[j] = next_column(edges[j].col);
    }
    const std::int8_t* const* const column = column_.data();
    std::int8_t* const* const dst = next_column_.data();
    const int* const start = start_.data();
    for (std::size_t g = 0; g < groups; ++g) {
      std::array<lanes8, kGroup> min1;
      std::array<lanes8, kGroup> min2;
      std::array<lanes8, kGroup> sgn;
      min1.fill(lanes8::splat(kMaxMag));
      min2.fill(lanes8::splat(kMaxMag));
      sgn.fill(lanes8::splat(0));
      std::int8_t* work = work_.data();
      const std::int8_t* mi = m;
      for (std::size_t j = 0; j < d; ++j, mi += kGroupLanes, work += kGroupLanes) {
        const std::int8_t* a = column[j] + start[j];
#pragma GCC unroll 4
        for (std::size_t u = 0; u < kGroup; ++u) {
          const lanes8 app = lanes8::loadu(a + u * kLanes);
          const lanes8 t = first_iteration ? app : sat_sub(app, lanes8::load(mi + u * kLanes));
          t.store(work + u * kLanes);
          const lanes8 mag = abs(t);
          min2[u] = min(min2[u], max(min1[u], mag));
          min1[u] = min(min1[u], mag);
          sgn[u] = sgn[u] ^ t;
        }
      }
      advance_edges(d);
      std::array<lanes8, kGroup> s1;
      std::array<lanes8, kGroup> s2;
#pragma GCC unroll 4
      for (std::size_t u = 0; u < kGroup; ++u) {
        s1[u] = apply_sign(scale_(min1[u]), sgn[u]);
        s2[u] = apply_sign(scale_(min2[u]), sgn[u]);
      }
      work = work_.data();
      for (std::size_t j = 0; j < d; ++j, m += kGroupLanes, work += kGroupLanes) {
        std::int8_t* a = dst[j] + g * kGroupLanes;
#pragma GCC unroll 4
        for (std::size_t u = 0; u < kGroup; ++u) {
          const lanes8 t = lanes8::load(work + u * kLanes);
          const lanes8 out = apply_sign(select_magnitude(t, min1[u], s1[u], s2[u]), t);
          out.store(m + u * kLanes);
          const lanes8 app = sat_add(t, out);
          app.store(a + u * kLanes);
          if (g == 0) {
            app.storeu(a + z_ + u * kLanes);  // the wrap copy
          }
        }
      }
    }
  }

  // Hard decisions (sign of the APP) against every decoded check: per block row and vector,
  // the XOR of the rotated columns; a check fails where the sign bit is set. Duplicate lanes
  // (t ≥ Z) repeat the checks of lanes t − Z.
  bool parity_satisfied(int rows) {
    for (int r = 0; r < rows; ++r) {
      const auto edges = code_.row(r);
      locate_edges(edges);
      for (int g = 0; g < groups_; ++g) {
        for (std::size_t u = 0; u < kGroup; ++u) {
          lanes8 x = lanes8::splat(0);
          for (std::size_t j = 0; j < edges.size(); ++j) {
            x = x ^ lanes8::loadu(column_[j] + start_[j] + u * kLanes);
          }
          if (any_negative(x)) {
            return false;
          }
        }
        advance_edges(edges.size());
      }
    }
    return true;
  }

  ldpc_code code_;
  ldpc_decoder_config cfg_;
  int z_;
  int lanes_;    // Z rounded up to whole vectors: the lanes a layer computes
  int groups_;   // lanes_ / kGroupLanes
  int stride_;   // bytes per column: Z positions and the wrap copy, rounded up to 32
  scaler scale_;  // α, rounded to a multiple of 1/16
  aligned_bytes app_;        // per block column two buffers of stride_ bytes
  aligned_bytes msg_;        // per base-graph edge, lanes_ check-to-variable messages (check order)
  aligned_bytes work_;       // a large layer's extrinsic values for one group, [edge][kGroupLanes]
  std::vector<int> offset_;  // per column: o_c, the layer order it is stored in
  std::vector<int> current_;  // per column: which of its two buffers holds it
  std::vector<const std::int8_t*> column_;  // per edge of the current layer: current buffer
  std::vector<std::int8_t*> next_column_;   // per edge of the current layer: buffer written
  std::vector<int> start_;                  // per edge of the current layer: read position
};

}  // namespace

std::unique_ptr<ldpc_decoder> make_layered_min_sum_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg) {
  return std::make_unique<layered_min_sum_decoder>(bg, z, cfg);
}

bool ldpc_decoder_uses_avx2() noexcept {
#if defined(__AVX2__)
  return true;
#else
  return false;
#endif
}

}  // namespace amimo::fec
