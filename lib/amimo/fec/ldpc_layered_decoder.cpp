// Layered normalised min-sum decoder with int8 messages.
//
// Layout: one row of Zp = round_up(Z, 32) int8 lanes per block column (APP LLRs) and per base
// graph edge (check-to-variable messages). A block row (layer) is processed by first copying
// each of its columns cyclically rotated by the edge's shift into a contiguous work row
// (work[t] = APP[(t + P) mod Z]), so that lane t of every work row belongs to check t of the
// layer; the min-sum update is then lane-wise (32 lanes per AVX2 vector), and the rows are
// rotated back. Lanes Z..Zp−1 are padding, computed but never copied back.
#include <amimo/fec/ldpc_decoder.h>

#include <algorithm>
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
constexpr int kMaxMag = 127;
// Channel LLRs are quantised into ±kMaxInput, well inside the ±kMaxMag range of the APP and
// message arithmetic: an APP that saturates at the channel value alone loses the extrinsic
// information subtracted from it in later layers (an error floor at high SNR, where every
// channel LLR is large).
constexpr int kMaxInput = 31;
// Every row (APP column, message row, work row) is round_up(Z, 32) lanes plus this slack, so
// that the vector copies of the cyclic rotations may overrun (see rotate_in).
constexpr int kSlack = kLanes;

int round_up(int v, int m) { return (v + m - 1) / m * m; }

class layered_min_sum_decoder final : public ldpc_decoder {
 public:
  layered_min_sum_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg)
      : code_(bg, z), cfg_(cfg), lanes_(round_up(z, kLanes)), zp_(lanes_ + kSlack) {
    alpha16_ = static_cast<int>(std::lround(cfg.normalisation * 16.0f));
    alpha16_ = std::clamp(alpha16_, 1, 16);
    const auto zp = static_cast<std::size_t>(zp_);
    app_.assign(static_cast<std::size_t>(code_.block_cols()) * zp, 0);
    msg_.assign(static_cast<std::size_t>(code_.edge_count()) * zp, 0);
    work_.assign(static_cast<std::size_t>(code_.max_row_degree()) * zp, 0);
    check_.assign(zp, 0);
  }

  const ldpc_code& code() const noexcept override { return code_; }

  ldpc_decode_result decode(std::span<std::uint8_t> info_out, std::span<const float> llr) override {
    const int z = code_.z();
    if (static_cast<int>(llr.size()) != code_.codeword_bits() || static_cast<int>(info_out.size()) != code_.info_bits()) {
      throw std::invalid_argument("ldpc decoder: llr must hold N = " + std::to_string(code_.codeword_bits()) +
                                  " values and info_out K = " + std::to_string(code_.info_bits()));
    }
    const int rows = decoded_rows(llr);
    const int cols = code_.info_block_cols() + rows;
    const auto zp = static_cast<std::size_t>(zp_);
    const auto zs = static_cast<std::size_t>(z);
    std::fill(app_.begin(), app_.begin() + static_cast<std::ptrdiff_t>(2 * zp), std::int8_t{0});
    const float scale = cfg_.llr_scale;
    const float lim = static_cast<float>(kMaxInput);
    for (int c = 2; c < cols; ++c) {
      const float* in = llr.data() + static_cast<std::size_t>(c - 2) * zs;
      std::int8_t* out = app_.data() + static_cast<std::size_t>(c) * zp;
      std::size_t t = 0;
#if defined(__AVX2__)
      t = quantise_vectors(out, in, zs, scale, lim);
#endif
      for (; t < zs; ++t) {
        // Round half away from zero after clamping.
        const float q = std::clamp(in[t] * scale, -lim, lim);
        out[t] = static_cast<std::int8_t>(q + std::copysign(0.5f, q));
      }
    }
    std::fill(msg_.begin(), msg_.begin() + static_cast<std::ptrdiff_t>(code_.row_edge_offset(rows)) * zp_,
              std::int8_t{0});

    ldpc_decode_result result;
    for (int it = 0; it < cfg_.max_iterations; ++it) {
      for (int r = 0; r < rows; ++r) {
        process_layer(r);
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
    for (int c = 0; c < code_.info_block_cols(); ++c) {
      const std::int8_t* a = app_.data() + static_cast<std::size_t>(c) * zp;
      std::uint8_t* o = info_out.data() + static_cast<std::size_t>(c) * zs;
      for (std::size_t t = 0; t < zs; ++t) {
        o[t] = a[t] < 0 ? 1 : 0;
      }
    }
    return result;
  }

 private:
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

#if defined(__AVX2__)
  // The scalar quantisation of decode() on 32 values at a time (same float operations, so the
  // same int8 values); returns how many it did (a multiple of 32).
  static std::size_t quantise_vectors(std::int8_t* out, const float* in, std::size_t n, float scale, float lim) {
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 hi = _mm256_set1_ps(lim);
    const __m256 lo = _mm256_set1_ps(-lim);
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const auto q = [&](const float* p) {
      const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(p), vscale), lo), hi);
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

  // Copies of Z bytes in 32-byte vectors. Each part may read and write up to 31 bytes past
  // its end: rows carry kSlack bytes of slack, and the parts are ordered so that the overrun
  // of the first is overwritten by the second.
  static void copy_vectors(std::int8_t* dst, const std::int8_t* src, std::size_t n) {
    for (std::size_t i = 0; i < n; i += kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    }
  }
  void rotate_in(std::int8_t* dst, const std::int8_t* src, int s) const {
    const auto z = static_cast<std::size_t>(code_.z());
    const auto su = static_cast<std::size_t>(s);
    copy_vectors(dst, src + su, z - su);       // dst[0, Z−s) ← src[s, Z); overrun into dst[Z−s, …)
    copy_vectors(dst + (z - su), src, su);     // dst[Z−s, Z) ← src[0, s); overrun into padding
  }
  void rotate_out(std::int8_t* dst, const std::int8_t* src, int s) const {
    const auto z = static_cast<std::size_t>(code_.z());
    const auto su = static_cast<std::size_t>(s);
    copy_vectors(dst, src + (z - su), su);     // dst[0, s) ← src[Z−s, Z); overrun into dst[s, …)
    copy_vectors(dst + su, src, z - su);       // dst[s, Z) ← src[0, Z−s); overrun into slack
  }
#else
  void rotate_in(std::int8_t* dst, const std::int8_t* src, int s) const {
    const auto z = static_cast<std::size_t>(code_.z());
    const auto su = static_cast<std::size_t>(s);
    std::memcpy(dst, src + su, z - su);
    std::memcpy(dst + (z - su), src, su);
  }
  void rotate_out(std::int8_t* dst, const std::int8_t* src, int s) const {
    const auto z = static_cast<std::size_t>(code_.z());
    const auto su = static_cast<std::size_t>(s);
    std::memcpy(dst + su, src, z - su);
    std::memcpy(dst, src + (z - su), su);
  }
#endif

  void process_layer(int r) {
    const auto edges = code_.row(r);
    const auto zp = static_cast<std::size_t>(zp_);
    const int d = static_cast<int>(edges.size());
    for (int j = 0; j < d; ++j) {
      rotate_in(work_.data() + static_cast<std::size_t>(j) * zp,
                app_.data() + static_cast<std::size_t>(edges[static_cast<std::size_t>(j)].col) * zp,
                edges[static_cast<std::size_t>(j)].shift);
    }
    std::int8_t* msg = msg_.data() + static_cast<std::size_t>(code_.row_edge_offset(r)) * zp;
    update_layer(msg, d);
    for (int j = 0; j < d; ++j) {
      rotate_out(app_.data() + static_cast<std::size_t>(edges[static_cast<std::size_t>(j)].col) * zp,
                 work_.data() + static_cast<std::size_t>(j) * zp, edges[static_cast<std::size_t>(j)].shift);
    }
  }

#if defined(__AVX2__)
  __m256i scale(__m256i m) const {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i a = _mm256_set1_epi16(static_cast<short>(alpha16_));
    const __m256i round = _mm256_set1_epi16(8);
    __m256i lo = _mm256_unpacklo_epi8(m, zero);
    __m256i hi = _mm256_unpackhi_epi8(m, zero);
    lo = _mm256_srli_epi16(_mm256_add_epi16(_mm256_mullo_epi16(lo, a), round), 4);
    hi = _mm256_srli_epi16(_mm256_add_epi16(_mm256_mullo_epi16(hi, a), round), 4);
    return _mm256_packus_epi16(lo, hi);
  }

  // Per lane: pass 1 forms the extrinsic values t_j = APP_j − msg_j and tracks min1, min2 and
  // the sign product; pass 2 gives edge j the magnitude min2 if |t_j| == min1 else min1
  // (with two edges at min1, min2 == min1, so which one "is" the minimum does not matter),
  // signed by the product of the other edges' signs, and writes APP_j = t_j + msg_j.
  void update_layer(std::int8_t* msg, int d) {
    const auto zp = static_cast<std::size_t>(zp_);
    const __m256i floor = _mm256_set1_epi8(-kMaxMag);
    const __m256i one = _mm256_set1_epi8(1);
    const auto lanes = static_cast<std::size_t>(lanes_);
    for (std::size_t v = 0; v < lanes; v += kLanes) {
      __m256i min1 = _mm256_set1_epi8(kMaxMag);
      __m256i min2 = min1;
      __m256i sgn = _mm256_setzero_si256();
      std::int8_t* w = work_.data() + v;
      const std::int8_t* m = msg + v;
      for (int j = 0; j < d; ++j, w += zp, m += zp) {
        const __m256i t = _mm256_max_epi8(
            _mm256_subs_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m))),
            floor);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), t);
        const __m256i a = _mm256_abs_epi8(t);
        min2 = _mm256_min_epi8(min2, _mm256_max_epi8(min1, a));
        min1 = _mm256_min_epi8(min1, a);
        sgn = _mm256_xor_si256(sgn, t);
      }
      const __m256i s1 = scale(min1);
      const __m256i s2 = scale(min2);
      w = work_.data() + v;
      std::int8_t* mo = msg + v;
      for (int j = 0; j < d; ++j, w += zp, mo += zp) {
        const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
        const __m256i mag = _mm256_blendv_epi8(s1, s2, _mm256_cmpeq_epi8(_mm256_abs_epi8(t), min1));
        // Sign of the product of the other edges' values: the top bit of sgn ^ t (| 1 so that
        // _mm256_sign_epi8 never sees 0).
        const __m256i out = _mm256_sign_epi8(mag, _mm256_or_si256(_mm256_xor_si256(sgn, t), one));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(mo), out);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), _mm256_max_epi8(_mm256_adds_epi8(t, out), floor));
      }
    }
  }
#else
  static int sat(int v) { return std::clamp(v, -kMaxMag, kMaxMag); }
  int scale(int m) const { return (m * alpha16_ + 8) >> 4; }

  void update_layer(std::int8_t* msg, int d) {
    const auto zp = static_cast<std::size_t>(zp_);
    const auto lanes = static_cast<std::size_t>(lanes_);
    for (std::size_t t = 0; t < lanes; ++t) {
      int min1 = kMaxMag;
      int min2 = kMaxMag;
      int idx = 0;
      bool negative = false;
      for (int j = 0; j < d; ++j) {
        const std::size_t at = static_cast<std::size_t>(j) * zp + t;
        const int v = sat(work_[at] - msg[at]);
        work_[at] = static_cast<std::int8_t>(v);
        const int a = v < 0 ? -v : v;
        if (a < min1) {
          min2 = min1;
          min1 = a;
          idx = j;
        } else if (a < min2) {
          min2 = a;
        }
        negative ^= v < 0;
      }
      const int s1 = scale(min1);
      const int s2 = scale(min2);
      for (int j = 0; j < d; ++j) {
        const std::size_t at = static_cast<std::size_t>(j) * zp + t;
        const int v = work_[at];
        const int mag = j == idx ? s2 : s1;
        const int out = (negative != (v < 0)) ? -mag : mag;
        msg[at] = static_cast<std::int8_t>(out);
        work_[at] = static_cast<std::int8_t>(sat(v + out));
      }
    }
  }
#endif

  // Hard decisions (sign of the APP) against every decoded check: per block row, the XOR of
  // its columns rotated into check order; a check fails where the sign bit is set.
  bool parity_satisfied(int rows) {
    const auto z = static_cast<std::size_t>(code_.z());
    const auto zp = static_cast<std::size_t>(zp_);
#if defined(__AVX2__)
    const auto lanes = static_cast<std::size_t>(lanes_);
    // Lanes Z..lanes−1 of the last vector are padding: masked out of the test.
    const std::size_t tail = z % kLanes;
    const unsigned last_mask = tail == 0 ? 0xffffffffU : (1U << tail) - 1U;
    for (int r = 0; r < rows; ++r) {
      std::fill(check_.begin(), check_.end(), std::int8_t{0});
      for (const auto& e : code_.row(r)) {
        rotate_in(work_.data(), app_.data() + static_cast<std::size_t>(e.col) * zp, e.shift);
        for (std::size_t v = 0; v < lanes; v += kLanes) {
          auto* c = reinterpret_cast<__m256i*>(check_.data() + v);
          _mm256_storeu_si256(c, _mm256_xor_si256(_mm256_loadu_si256(c),
                                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(work_.data() + v))));
        }
      }
      unsigned any = 0;
      for (std::size_t v = 0; v < lanes; v += kLanes) {
        auto bits = static_cast<unsigned>(
            _mm256_movemask_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(check_.data() + v))));
        if (v + kLanes >= lanes) bits &= last_mask;
        any |= bits;
      }
      if (any != 0) {
        return false;
      }
    }
    return true;
#else
    for (int r = 0; r < rows; ++r) {
      std::fill(check_.begin(), check_.end(), std::int8_t{0});
      for (const auto& e : code_.row(r)) {
        const std::int8_t* a = app_.data() + static_cast<std::size_t>(e.col) * zp;
        const std::size_t s = e.shift;
        const std::size_t head = z - s;
        for (std::size_t t = 0; t < head; ++t) {
          check_[t] = static_cast<std::int8_t>(check_[t] ^ a[t + s]);
        }
        for (std::size_t t = head; t < z; ++t) {
          check_[t] = static_cast<std::int8_t>(check_[t] ^ a[t - head]);
        }
      }
      bool any_negative = false;
      for (std::size_t t = 0; t < z; ++t) {
        any_negative |= check_[t] < 0;
      }
      if (any_negative) {
        return false;
      }
    }
    return true;
#endif
  }

  ldpc_code code_;
  ldpc_decoder_config cfg_;
  int lanes_;  // Z rounded up to whole vectors: the lanes the min-sum update runs on
  int zp_;     // row stride: lanes_ + kSlack
  int alpha16_ = 12;
  std::vector<std::int8_t> app_;
  std::vector<std::int8_t> msg_;
  std::vector<std::int8_t> work_;
  std::vector<std::int8_t> check_;
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
