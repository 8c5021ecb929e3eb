#include <amimo/core/error.h>
#include <amimo/modem/liquid_constellation.h>
#include <amimo/modem/mapper.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace amimo::modem {
namespace {

// Distinct values of a coordinate, sorted, merging values closer than a tolerance.
std::vector<double> distinct_levels(const std::vector<cf64>& points, bool imaginary) {
  std::vector<double> values;
  values.reserve(points.size());
  for (const cf64& p : points) values.push_back(imaginary ? p.imag() : p.real());
  std::sort(values.begin(), values.end());
  std::vector<double> levels;
  for (const double v : values) {
    if (levels.empty() || v - levels.back() > 1e-6) levels.push_back(v);
  }
  return levels;
}

// The most levels per axis (256-QAM's 16): the vectorised decisions keep them in registers.
constexpr std::size_t kMaxLevels = 16;

std::size_t nearest_level(const std::vector<double>& levels, double x) noexcept {
  // Levels are few (at most 16) and sorted: a linear scan beats anything clever.
  std::size_t best = 0;
  for (std::size_t i = 1; i < levels.size(); ++i) {
    if (std::abs(x - levels[i]) < std::abs(x - levels[best])) best = i;
  }
  return best;
}

std::size_t level_index(const std::vector<double>& levels, double x) {
  const std::size_t i = nearest_level(levels, x);
  if (std::abs(levels[i] - x) > 1e-6) throw config_error("constellation is not a grid");
  return i;
}

}  // namespace

mapper::mapper(modulation scheme)
    : scheme_(scheme), bits_per_symbol_(amimo::modem::bits_per_symbol(scheme)), points_(liquid_constellation(scheme)) {
  if (points_.size() != (std::size_t{1} << bits_per_symbol_)) {
    throw config_error("liquid-dsp constellation for " + std::string(to_string(scheme)) +
                       " has an unexpected size");
  }
  double energy = 0.0;
  for (const cf64& p : points_) energy += std::norm(p);
  const double scale = 1.0 / std::sqrt(energy / static_cast<double>(points_.size()));
  for (cf64& p : points_) p *= scale;

  i_levels_ = distinct_levels(points_, false);
  q_levels_ = distinct_levels(points_, true);
  if (i_levels_.size() * q_levels_.size() != points_.size()) {
    throw config_error("constellation of " + std::string(to_string(scheme)) +
                       " is not a rectangular grid");
  }
  if (i_levels_.size() > kMaxLevels || q_levels_.size() > kMaxLevels) {
    throw config_error("constellation of " + std::string(to_string(scheme)) + " has more than 16 levels per axis");
  }
  grid_labels_.assign(points_.size(), 0U);
  for (unsigned label = 0; label < points_.size(); ++label) {
    const std::size_t i = level_index(i_levels_, points_[label].real());
    const std::size_t q = level_index(q_levels_, points_[label].imag());
    grid_labels_[i * q_levels_.size() + q] = label;
  }
  // liquid-dsp's points are floats, so ±level pairs differ in their last bits. Decision
  // levels of a uniform, centred axis are snapped to an exactly symmetric grid
  // ((2l − (n−1))·step/2: negation is exact): a sample exactly between two levels (0 is
  // common — an ADC-quantised analog output) is then an exact tie with a max-log LLR of
  // exactly 0, instead of a rounding residue whose sign disagrees with the hard decision.
  for (std::vector<double>* axis : {&i_levels_, &q_levels_}) {
    std::vector<double>& levels = *axis;
    const auto n = static_cast<long>(levels.size());
    if (n < 2) continue;
    const double step = (levels.back() - levels.front()) / static_cast<double>(n - 1);
    bool uniform = std::abs(levels.front() + levels.back()) <= 1e-5 * step;
    for (long l = 0; l < n; ++l) {
      uniform = uniform && std::abs(levels[static_cast<std::size_t>(l)] - (levels.front() + step * static_cast<double>(l))) <= 1e-5 * step;
    }
    if (!uniform) continue;
    for (long l = 0; l < n; ++l) levels[static_cast<std::size_t>(l)] = static_cast<double>(2 * l - (n - 1)) * step / 2.0;
  }
  // Is every label bit a function of one axis's level alone? Then max-log LLRs separate
  // per axis (the other axis's minimum cancels), √M distances per axis instead of M.
  const std::size_t ni = i_levels_.size();
  const std::size_t nq = q_levels_.size();
  separable_ = true;
  bit_axis_.assign(bits_per_symbol_, -1);
  bit_level_.assign(bits_per_symbol_, {});
  for (unsigned b = 0; b < bits_per_symbol_ && separable_; ++b) {
    const auto bit_at = [&](std::size_t i, std::size_t q) {
      return static_cast<unsigned char>((grid_labels_[i * nq + q] >> (bits_per_symbol_ - 1 - b)) & 1U);
    };
    bool by_i = true;
    bool by_q = true;
    for (std::size_t i = 0; i < ni; ++i)
      for (std::size_t q = 0; q < nq; ++q) {
        by_i = by_i && bit_at(i, q) == bit_at(i, 0);
        by_q = by_q && bit_at(i, q) == bit_at(0, q);
      }
    if (by_i) {
      bit_axis_[b] = 0;
      for (std::size_t i = 0; i < ni; ++i) bit_level_[b].push_back(bit_at(i, 0));
    } else if (by_q) {
      bit_axis_[b] = 1;
      for (std::size_t q = 0; q < nq; ++q) bit_level_[b].push_back(bit_at(0, q));
    } else {
      separable_ = false;
    }
  }
  if (ni > 16 || nq > 16 || bits_per_symbol_ > 8) separable_ = false;
  // Whether the separable demapper's register form applies: each axis has 2, 4, 8 or 16
  // levels and log2(levels) bits, or no bit at all (BPSK's quadrature axis).
  registers_fit_ = separable_;
  for (int axis = 0; axis < 2 && registers_fit_; ++axis) {
    const std::size_t levels = axis == 0 ? ni : nq;
    std::size_t bits = 0;
    for (unsigned b = 0; b < bits_per_symbol_; ++b) bits += bit_axis_[b] == axis ? 1U : 0U;
    registers_fit_ = bits == 0 || (levels == (std::size_t{1} << bits) && bits <= 4);
  }
}

namespace {
// Label = the symbol's Bits bits, most significant first.
template <unsigned Bits>
void map_labels(std::span<cf64> symbols, std::span<const bit> bits, const cf64* points) noexcept {
  const bit* b = bits.data();
  for (std::size_t s = 0; s < symbols.size(); ++s, b += Bits) {
    unsigned label = 0;
    for (unsigned j = 0; j < Bits; ++j) label = (label << 1U) | (b[j] & 1U);
    symbols[s] = points[label];
  }
}
}  // namespace

void mapper::map(std::span<cf64> symbols, std::span<const bit> bits) const {
  if (bits.size() != symbols.size() * bits_per_symbol_) {
    throw std::invalid_argument("mapper::map: bit count does not match symbol count");
  }
  // The label loop unrolled for each constellation size (the emulator maps every user's
  // frame, ~15k bits per user per 1 ms frame at 16-QAM).
  switch (bits_per_symbol_) {
    case 1: map_labels<1>(symbols, bits, points_.data()); break;
    case 2: map_labels<2>(symbols, bits, points_.data()); break;
    case 4: map_labels<4>(symbols, bits, points_.data()); break;
    case 6: map_labels<6>(symbols, bits, points_.data()); break;
    case 8: map_labels<8>(symbols, bits, points_.data()); break;
    default:
      for (std::size_t s = 0; s < symbols.size(); ++s) {
        unsigned label = 0;
        for (unsigned b = 0; b < bits_per_symbol_; ++b) label = (label << 1U) | (bits[s * bits_per_symbol_ + b] & 1U);
        symbols[s] = points_[label];
      }
  }
}

unsigned mapper::decide(cf64 sample) const noexcept {
  const std::size_t i = nearest_level(i_levels_, sample.real());
  const std::size_t q = nearest_level(q_levels_, sample.imag());
  return grid_labels_[i * q_levels_.size() + q];
}

void mapper::decide(std::span<unsigned> labels, std::span<const cf64> samples) const noexcept {
  // nearest_level() per axis over a chunk: the same comparisons (strictly closer wins, so a
  // tie keeps the lower level), vectorised across the chunk's samples.
  constexpr std::size_t kChunk = 64;
  alignas(32) double x[2][kChunk];
#if !defined(__AVX2__)
  alignas(32) double best[kChunk];
#endif
  alignas(32) double index[2][kChunk];  // level indices as doubles: one vector width throughout
  const std::vector<double>* axes[2] = {&i_levels_, &q_levels_};
  const std::size_t count = std::min(labels.size(), samples.size());
  for (std::size_t s0 = 0; s0 < count; s0 += kChunk) {
    const std::size_t n = std::min(kChunk, count - s0);
    for (std::size_t i = 0; i < n; ++i) {
      x[0][i] = samples[s0 + i].real();
      x[1][i] = samples[s0 + i].imag();
    }
    for (std::size_t i = n; i < kChunk; ++i) x[0][i] = x[1][i] = 0.0;
    for (int axis = 0; axis < 2; ++axis) {
      const std::vector<double>& levels = *axes[axis];
      const double* xa = x[axis];
      double* idx = index[axis];
#if defined(__AVX2__)
      // Four samples per vector, the running best distance and index in registers.
      // Samples outermost, levels innermost: the levels and their indices are vectors set up
      // once per chunk (an integer-to-double conversion per level and sample had a false
      // dependency on its destination register).
      const __m256d sign = _mm256_set1_pd(-0.0);
      const std::size_t count_levels = std::min(levels.size(), kMaxLevels);
      __m256d level_v[kMaxLevels];
      __m256d index_v[kMaxLevels];
      for (std::size_t l = 0; l < count_levels; ++l) {
        level_v[l] = _mm256_set1_pd(levels[l]);
        index_v[l] = _mm256_set1_pd(static_cast<double>(l));
      }
      for (std::size_t i = 0; i < kChunk; i += 4) {
        const __m256d xv = _mm256_load_pd(xa + i);
        __m256d best_v = _mm256_andnot_pd(sign, _mm256_sub_pd(xv, level_v[0]));
        __m256d idx_v = _mm256_setzero_pd();
        for (std::size_t l = 1; l < count_levels; ++l) {
          const __m256d dist = _mm256_andnot_pd(sign, _mm256_sub_pd(xv, level_v[l]));
          const __m256d closer = _mm256_cmp_pd(dist, best_v, _CMP_LT_OQ);
          best_v = _mm256_blendv_pd(best_v, dist, closer);
          idx_v = _mm256_blendv_pd(idx_v, index_v[l], closer);
        }
        _mm256_store_pd(idx + i, idx_v);
      }
#else
      for (std::size_t i = 0; i < kChunk; ++i) {
        best[i] = std::abs(xa[i] - levels[0]);
        idx[i] = 0.0;
      }
      for (std::size_t l = 1; l < levels.size(); ++l) {
        const double level = levels[l];
        const auto at = static_cast<double>(l);
        for (std::size_t i = 0; i < kChunk; ++i) {
          const double dist = std::abs(xa[i] - level);
          const bool closer = dist < best[i];
          best[i] = closer ? dist : best[i];
          idx[i] = closer ? at : idx[i];
        }
      }
#endif
    }
    const std::size_t nq = q_levels_.size();
#if defined(__AVX2__)
    // The grid positions i·nq + q formed and converted four at a time (exact: small
    // integers), then looked up.
    alignas(16) std::int32_t at[kChunk];
    const __m256d nq_v = _mm256_set1_pd(static_cast<double>(nq));
    for (std::size_t i = 0; i < kChunk; i += 4) {
      const __m256d c = _mm256_add_pd(_mm256_mul_pd(_mm256_load_pd(index[0] + i), nq_v), _mm256_load_pd(index[1] + i));
      _mm_store_si128(reinterpret_cast<__m128i*>(at + i), _mm256_cvttpd_epi32(c));
    }
    for (std::size_t i = 0; i < n; ++i) labels[s0 + i] = grid_labels_[static_cast<std::size_t>(at[i])];
#else
    for (std::size_t i = 0; i < n; ++i) {
      labels[s0 + i] = grid_labels_[static_cast<std::size_t>(index[0][i]) * nq + static_cast<std::size_t>(index[1][i])];
    }
#endif
  }
}

void mapper::demap_hard(std::span<bit> bits, std::span<const cf64> samples) const {
  if (bits.size() != samples.size() * bits_per_symbol_) {
    throw std::invalid_argument("mapper::demap_hard: bit count does not match sample count");
  }
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const unsigned label = decide(samples[s]);
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      bits[s * bits_per_symbol_ + b] = static_cast<bit>((label >> (bits_per_symbol_ - 1 - b)) & 1U);
    }
  }
}

void mapper::demap_soft(std::span<float> llrs, std::span<const cf64> samples,
                       std::span<const double> noise_variance) const {
  if (llrs.size() != samples.size() * bits_per_symbol_ || noise_variance.size() != samples.size()) {
    throw std::invalid_argument("mapper::demap_soft: buffer sizes do not match");
  }
  if (separable_) {
    demap_soft_separable(llrs, samples, noise_variance);
    return;
  }
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (std::size_t s = 0; s < samples.size(); ++s) {
    float* out = llrs.data() + s * bits_per_symbol_;
    const double variance = noise_variance[s];
    if (!std::isfinite(variance) || !std::isfinite(samples[s].real()) ||
        !std::isfinite(samples[s].imag())) {
      std::fill(out, out + bits_per_symbol_, 0.0F);
      continue;
    }
    const double inv_var = 1.0 / std::max(variance, 1e-300);
    if (std::abs(samples[s].real()) > kFar || std::abs(samples[s].imag()) > kFar) {
      demap_soft_far(out, samples[s], inv_var);
      continue;
    }
    double min0[8];
    double min1[8];
    std::fill(min0, min0 + 8, inf);
    std::fill(min1, min1 + 8, inf);
    for (unsigned label = 0; label < points_.size(); ++label) {
      const double d = std::norm(samples[s] - points_[label]);
      for (unsigned b = 0; b < bits_per_symbol_; ++b) {
        const bool one = ((label >> (bits_per_symbol_ - 1 - b)) & 1U) != 0U;
        double& slot = one ? min1[b] : min0[b];
        slot = std::min(slot, d);
      }
    }
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      out[b] = static_cast<float>((min1[b] - min0[b]) * inv_var);
    }
  }
}

// Far from the constellation a squared distance loses the LLR to rounding (|x|² ≫ the
// difference of two of them; at |x| ≈ 1e15 the LLR was off by ~10%) and overflows from
// |x| ≈ 1.3e154 (∞ − ∞: NaN). There the difference of the two squared distances is taken in
// closed form, |p1|² − |p0|² − 2·Re(conj(y)·(p1 − p0)), with p0, p1 the nearest points of
// each bit value, and the LLR kept finite. The nearest point maximises Re(conj(y)·p) − |p|²/2
// (|y − p|² without the common |y|², which |y − p| itself cannot resolve: at |y| = 3e17 its
// ulp is 64 while the points differ by less than 2).
void mapper::demap_soft_far(float* out, cf64 sample, double inv_var) const noexcept {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double top = std::numeric_limits<float>::max();
  for (unsigned b = 0; b < bits_per_symbol_; ++b) {
    double best[2] = {-inf, -inf};
    cf64 nearest[2] = {};
    for (unsigned label = 0; label < points_.size(); ++label) {
      const unsigned one = (label >> (bits_per_symbol_ - 1 - b)) & 1U;
      const cf64 p = points_[label];
      const double score = sample.real() * p.real() + sample.imag() * p.imag() - 0.5 * std::norm(p);
      if (score > best[one]) {
        best[one] = score;
        nearest[one] = p;
      }
    }
    const cf64 step = nearest[1] - nearest[0];
    const double diff = std::norm(nearest[1]) - std::norm(nearest[0]) -
                        2.0 * (sample.real() * step.real() + sample.imag() * step.imag());
    out[b] = static_cast<float>(std::clamp(diff * inv_var, -top, top));
  }
}

// Max-log per axis, exactly: LLR_b = (min_{l: bit 1} (x − l)² − min_{l: bit 0} (x − l)²)/σ²
// over the levels of bit b's axis (the other axis's minimum is common to both and cancels).
// Samples go in chunks of kChunk, split into per-axis arrays; a sample that is not finite
// or whose variance is not finite is replaced by 0 with scale 0, so its LLRs are exactly 0.
void mapper::demap_soft_separable(std::span<float> llrs, std::span<const cf64> samples,
                                  std::span<const double> noise_variance) const noexcept {
  constexpr std::size_t kChunk = kDemapChunk;
  constexpr double inf = std::numeric_limits<double>::infinity();
  alignas(32) double x[2][kChunk];
  alignas(32) double scale[kChunk];
  alignas(32) double d[kChunk];
  alignas(32) double m[8][2][kChunk];  // per bit: min distance to a level with bit 0 / bit 1
  alignas(32) float result[8][kChunk];   // per bit: the LLRs of the chunk
  const unsigned bps = bits_per_symbol_;
  const std::vector<double>* axes[2] = {&i_levels_, &q_levels_};
  std::size_t far_at[kChunk];  // the chunk's samples far from the constellation
  for (std::size_t s0 = 0; s0 < samples.size(); s0 += kChunk) {
    const std::size_t n = std::min(kChunk, samples.size() - s0);
    std::size_t far_count = 0;
    const auto redo_far = [&] {
      for (std::size_t k = 0; k < far_count; ++k) {
        const std::size_t i = far_at[k];
        demap_soft_far(llrs.data() + (s0 + i) * bps, samples[s0 + i], scale[i]);
      }
    };
    for (std::size_t i = 0; i < n; ++i) {
      const double re = samples[s0 + i].real();
      const double im = samples[s0 + i].imag();
      const double v = noise_variance[s0 + i];
      // |v| < ∞ is false for NaN and ±∞: comparisons combined bitwise, no branch.
      const bool finite = (std::abs(re) < inf) & (std::abs(im) < inf) & (std::abs(v) < inf);
      const bool far = finite & ((std::abs(re) > kFar) | (std::abs(im) > kFar));
      x[0][i] = finite & !far ? re : 0.0;
      x[1][i] = finite & !far ? im : 0.0;
      scale[i] = finite ? 1.0 / std::max(v, 1e-300) : 0.0;
      far_at[far_count] = i;  // kept only when far (rare): redone after the chunk
      far_count += far ? 1U : 0U;
    }
    for (std::size_t i = n; i < kChunk; ++i) x[0][i] = x[1][i] = scale[i] = 0.0;  // padding
#if defined(__AVX2__)
    if (registers_fit_) {
      axis_llrs_in_registers(x, scale, result);
      interleave_llrs(llrs.data() + s0 * bps, result, n, bps);
      redo_far();
      continue;
    }
#endif
    for (unsigned b = 0; b < bps; ++b) {
      for (std::size_t i = 0; i < kChunk; ++i) m[b][0][i] = m[b][1][i] = inf;
    }
    for (int axis = 0; axis < 2; ++axis) {
      const std::vector<double>& levels = *axes[axis];
      for (std::size_t l = 0; l < levels.size(); ++l) {
        const double level = levels[l];
        for (std::size_t i = 0; i < kChunk; ++i) {
          const double e = x[axis][i] - level;
          d[i] = e * e;
        }
        for (unsigned b = 0; b < bps; ++b) {
          if (bit_axis_[b] != axis) continue;
          double* slot = m[b][bit_level_[b][l]];
          for (std::size_t i = 0; i < kChunk; ++i) slot[i] = std::min(slot[i], d[i]);
        }
      }
    }
    for (unsigned b = 0; b < bps; ++b) {  // fixed length, branch-free
#if defined(__AVX2__)
      for (std::size_t i = 0; i < kChunk; i += 4) {
        const __m256d sc = _mm256_load_pd(scale + i);
        const __m256d llr = _mm256_mul_pd(_mm256_sub_pd(_mm256_load_pd(m[b][1] + i), _mm256_load_pd(m[b][0] + i)), sc);
        const __m256d keep = _mm256_cmp_pd(sc, _mm256_setzero_pd(), _CMP_GT_OQ);
        _mm_store_ps(result[b] + i, _mm256_cvtpd_ps(_mm256_and_pd(llr, keep)));
      }
#else
      for (std::size_t i = 0; i < kChunk; ++i) {
        const double llr = (m[b][1][i] - m[b][0][i]) * scale[i];
        result[b][i] = scale[i] > 0.0 ? static_cast<float>(llr) : 0.0F;
      }
#endif
    }
    float* out = llrs.data() + s0 * bps;
    interleave_llrs(out, result, n, bps);
    redo_far();
  }
}

void mapper::interleave_llrs(float* out, const float (*result)[kDemapChunk], std::size_t n, unsigned bps) noexcept {
#if defined(__AVX2__)
  if (bps == 4) {  // 16-QAM: four symbols' four LLRs transposed in registers
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __m128 r0 = _mm_load_ps(result[0] + i), r1 = _mm_load_ps(result[1] + i);
      __m128 r2 = _mm_load_ps(result[2] + i), r3 = _mm_load_ps(result[3] + i);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(out + 4 * i, r0);
      _mm_storeu_ps(out + 4 * i + 4, r1);
      _mm_storeu_ps(out + 4 * i + 8, r2);
      _mm_storeu_ps(out + 4 * i + 12, r3);
    }
    for (; i < n; ++i) {
      for (unsigned b = 0; b < 4; ++b) out[i * 4 + b] = result[b][i];
    }
    return;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) {
    for (unsigned b = 0; b < bps; ++b) out[i * bps + b] = result[b][i];
  }
}

#if defined(__AVX2__)
namespace {

// One axis's LLRs for a chunk, Levels levels and Bits bits on the axis: for each four
// samples, the squared distance to every level and the running minimum per bit value in
// registers (the same operations as the array form, so the same bits: e = x − level,
// d = e·e, minima, (m1 − m0)·scale rounded to float once).
template <std::size_t Chunk, std::size_t Levels, std::size_t Bits>
void axis_chunk(const double* x, const double* scale, const double* levels, const unsigned* level_bits,
                float* const* result) noexcept {
  const __m256d inf = _mm256_set1_pd(std::numeric_limits<double>::infinity());
  __m256d level_v[Levels];
  for (std::size_t l = 0; l < Levels; ++l) level_v[l] = _mm256_set1_pd(levels[l]);
  for (std::size_t i = 0; i < Chunk; i += 4) {
    const __m256d xv = _mm256_load_pd(x + i);
    __m256d m0[Bits];
    __m256d m1[Bits];
    for (std::size_t j = 0; j < Bits; ++j) m0[j] = m1[j] = inf;
    for (std::size_t l = 0; l < Levels; ++l) {
      const __m256d e = _mm256_sub_pd(xv, level_v[l]);
      const __m256d d = _mm256_mul_pd(e, e);
      for (std::size_t j = 0; j < Bits; ++j) {
        if ((level_bits[l] >> j) & 1U) {
          m1[j] = _mm256_min_pd(m1[j], d);
        } else {
          m0[j] = _mm256_min_pd(m0[j], d);
        }
      }
    }
    const __m256d sc = _mm256_load_pd(scale + i);
    const __m256d keep = _mm256_cmp_pd(sc, _mm256_setzero_pd(), _CMP_GT_OQ);
    for (std::size_t j = 0; j < Bits; ++j) {
      const __m256d llr = _mm256_mul_pd(_mm256_sub_pd(m1[j], m0[j]), sc);
      _mm_store_ps(result[j] + i, _mm256_cvtpd_ps(_mm256_and_pd(llr, keep)));
    }
  }
}

}  // namespace

void mapper::axis_llrs_in_registers(const double (*x)[kDemapChunk], const double* scale,
                                    float (*result)[kDemapChunk]) const noexcept {
  const std::vector<double>* axes[2] = {&i_levels_, &q_levels_};
  for (int axis = 0; axis < 2; ++axis) {
    const std::vector<double>& levels = *axes[axis];
    float* outs[4] = {};
    std::size_t bits = 0;
    unsigned level_bits[16] = {};
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      if (bit_axis_[b] != axis) continue;
      for (std::size_t l = 0; l < levels.size(); ++l) level_bits[l] |= static_cast<unsigned>(bit_level_[b][l]) << bits;
      outs[bits++] = result[b];
    }
    switch (bits) {
      case 1: axis_chunk<kDemapChunk, 2, 1>(x[axis], scale, levels.data(), level_bits, outs); break;
      case 2: axis_chunk<kDemapChunk, 4, 2>(x[axis], scale, levels.data(), level_bits, outs); break;
      case 3: axis_chunk<kDemapChunk, 8, 3>(x[axis], scale, levels.data(), level_bits, outs); break;
      case 4: axis_chunk<kDemapChunk, 16, 4>(x[axis], scale, levels.data(), level_bits, outs); break;
      default: break;  // no bit on this axis
    }
  }
}
#endif

}  // namespace amimo::modem
