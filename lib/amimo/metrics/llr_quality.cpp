#include <amimo/metrics/llr_quality.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace amimo::metrics {

// Chunks of kChunk bits: bin indices, error flags and |L| computed with branch-free float
// arithmetic the compiler vectorises, then counted into eight interleaved local histograms
// (at high SNR most bits land in the top bin: one counter would be one long chain of
// dependent increments, and with four the chain still set the pace), runs of eight top-bin
// bits at once.
void llr_quality::add(std::span<const float> llrs, std::span<const bit> reference) noexcept {
  constexpr std::size_t kChunk = 256;
  const std::size_t n = std::min(llrs.size(), reference.size());
  constexpr std::size_t kHistograms = 8;
  std::uint32_t hist[kHistograms][2 * kBins] = {};
  alignas(32) std::uint32_t slot[kChunk];
  alignas(32) float magnitude[kChunk];
  double abs_sum[8] = {};
  constexpr std::uint32_t kTopSlot = 2U * (kBins - 1);  // the top bin's right slot; + 1 wrong
  std::uint64_t top_bits = 0;
  std::uint64_t top_wrong = 0;
  std::uint64_t wrong_total = 0;
  std::uint64_t zeros = 0;
  const float per_bin = static_cast<float>(1.0 / kBinWidth);
  const float top = static_cast<float>(kBins - 1);
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, n - c0);
    const float* l = llrs.data() + c0;
    const bit* r = reference.data() + c0;
    std::uint32_t wrong_chunk = 0;
    std::uint32_t zero_chunk = 0;
    std::uint32_t top_chunk = 0;  // bits of the chunk in the top bin, and their sign errors
    std::uint32_t top_wrong_chunk = 0;
    for (std::size_t i = 0; i < m; ++i) {
      // A zero LLR carries no decision: it is a sign error whatever the bit. A NaN LLR is
      // wrong too and lands in the top bin (its comparisons are all false). Bitwise
      // operations on the comparison results, no short circuit: the loop vectorises.
      const std::uint32_t negative = l[i] < 0.0F ? 1U : 0U;
      const std::uint32_t positive = l[i] > 0.0F ? 1U : 0U;
      const std::uint32_t one = r[i] != 0 ? 1U : 0U;
      const std::uint32_t wrong = (1U - (negative | positive)) | (negative ^ one);
      const float a = std::fabs(l[i]);
      const float b = a * per_bin < top ? a * per_bin : top;
      const std::uint32_t s = 2U * static_cast<std::uint32_t>(static_cast<std::int32_t>(b)) + wrong;
      slot[i] = s;
      const std::uint32_t in_top = s >= kTopSlot ? 1U : 0U;
      top_chunk += in_top;
      top_wrong_chunk += in_top & wrong;
      wrong_chunk += wrong;
      zero_chunk += l[i] == 0.0F ? 1U : 0U;
      magnitude[i] = a;
    }
    // A chunk all in the top bin (at high SNR, nearly every chunk) needs no histogram: its
    // counts are the sums just formed. Otherwise runs of eight bits all in the top bin are
    // counted with one sum of their error flags instead of eight increments.
    std::size_t i = 0;
    if (top_chunk == m) {
      top_bits += m;
      top_wrong += top_wrong_chunk;
      i = m;
    }
    for (; i + kHistograms <= m; i += kHistograms) {
      std::uint32_t all_top = 1;
      std::uint32_t wrong_top = 0;
      for (std::size_t q = 0; q < kHistograms; ++q) {
        all_top &= slot[i + q] >= kTopSlot ? 1U : 0U;
        wrong_top += slot[i + q] & 1U;
      }
      if (all_top != 0) {
        top_bits += kHistograms;
        top_wrong += wrong_top;
        continue;
      }
      for (std::size_t q = 0; q < kHistograms; ++q) ++hist[q][slot[i + q]];
    }
    for (; i < m; ++i) ++hist[i % kHistograms][slot[i]];
    i = 0;
    for (; i + 8 <= m; i += 8) {  // eight running sums in registers (two vectors of doubles)
      for (std::size_t q = 0; q < 8; ++q) abs_sum[q] += static_cast<double>(magnitude[i + q]);
    }
    for (; i < m; ++i) abs_sum[0] += static_cast<double>(magnitude[i]);
    wrong_total += wrong_chunk;
    zeros += zero_chunk;
  }
  for (std::size_t b = 0; b < static_cast<std::size_t>(kBins); ++b) {
    std::uint64_t right = 0;
    std::uint64_t wrong = 0;
    for (const auto& h : hist) {
      right += h[2 * b];
      wrong += h[2 * b + 1];
    }
    counts_[b] += right + wrong;
    errors_[b] += wrong;
  }
  counts_[static_cast<std::size_t>(kBins - 1)] += top_bits;
  errors_[static_cast<std::size_t>(kBins - 1)] += top_wrong;
  bits_ += n;
  sign_errors_ += wrong_total;
  zero_llrs_ += zeros;
  abs_sum_ += ((abs_sum[0] + abs_sum[1]) + (abs_sum[2] + abs_sum[3])) + ((abs_sum[4] + abs_sum[5]) + (abs_sum[6] + abs_sum[7]));
}

void llr_quality::merge(const llr_quality& other) noexcept {
  for (int b = 0; b < kBins; ++b) {
    counts_[static_cast<std::size_t>(b)] += other.counts_[static_cast<std::size_t>(b)];
    errors_[static_cast<std::size_t>(b)] += other.errors_[static_cast<std::size_t>(b)];
  }
  bits_ += other.bits_;
  sign_errors_ += other.sign_errors_;
  zero_llrs_ += other.zero_llrs_;
  abs_sum_ += other.abs_sum_;
}

double llr_quality::sign_ber() const noexcept {
  return bits_ == 0 ? 0.0 : static_cast<double>(sign_errors_) / static_cast<double>(bits_);
}

double llr_quality::mean_abs_llr() const noexcept {
  return bits_ == 0 ? 0.0 : abs_sum_ / static_cast<double>(bits_);
}

double llr_quality::claimed_errors() const noexcept {
  double claimed = 0.0;
  for (int b = 0; b < kBins; ++b) {
    const double mid = b == kBins - 1 ? 16.0 : (b + 0.5) * kBinWidth;
    claimed += static_cast<double>(counts_[static_cast<std::size_t>(b)]) / (1.0 + std::exp(mid));
  }
  return claimed;
}

double llr_quality::calibration_ratio() const noexcept {
  if (bits_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const double claimed = claimed_errors();
  if (claimed <= 0.0) return sign_errors_ == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  return static_cast<double>(sign_errors_) / claimed;
}

}  // namespace amimo::metrics
