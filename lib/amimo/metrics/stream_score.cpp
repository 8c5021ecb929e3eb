#include <amimo/metrics/stream_score.h>

#include <algorithm>
#include <bit>
#include <limits>

namespace amimo::metrics {
namespace {

// An erased stream's noise variance (detect::linear_detector::kErased); NaN counts as erased.
constexpr double kErased = std::numeric_limits<double>::infinity();

// The scoring loop; reference(i, label) is symbol i's sent point (label: its known bits).
template <class Reference>
stream_score score(const modem::mapper& mapper, std::span<const cf64> equalised, std::span<const double> noise_variance,
                   std::size_t symbols, std::span<const bit> reference_bits, std::span<const float> llrs,
                   llr_quality& quality, const Reference& reference) noexcept {
  const std::size_t bps = mapper.bits_per_symbol();
  constexpr std::size_t kChunk = 256;
  unsigned labels[kChunk];
  stream_score score;
  // Runs of scored symbols: decided a chunk at a time, their bits added to the LLR quality
  // in one call per run (erasures are rare: usually one run per stream).
  std::size_t i = 0;
  while (i < symbols) {
    if (!(noise_variance[i] < kErased)) {
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < symbols && noise_variance[end] < kErased) ++end;
    quality.add(llrs.subspan(i * bps, (end - i) * bps), reference_bits.subspan(i * bps, (end - i) * bps));
    for (std::size_t c0 = i; c0 < end; c0 += kChunk) {
      const std::size_t n = std::min(kChunk, end - c0);
      mapper.decide(std::span<unsigned>(labels, n), equalised.subspan(c0, n));
      std::uint64_t errors = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const bit* rb = reference_bits.data() + (c0 + j) * bps;
        unsigned want = 0;
        for (std::size_t b = 0; b < bps; ++b) want = (want << 1U) | rb[b];
        errors += static_cast<std::uint64_t>(std::popcount(labels[j] ^ want));
        const cf64 sent = reference(c0 + j, want);
        const double dr = equalised[c0 + j].real() - sent.real();
        const double di = equalised[c0 + j].imag() - sent.imag();
        score.error_energy += dr * dr + di * di;  // in symbol order, as a plain loop would
      }
      score.bit_errors += errors;
    }
    score.scored_symbols += end - i;
    i = end;
  }
  return score;
}

}  // namespace

stream_score score_stream(const modem::mapper& mapper, std::span<const cf64> equalised,
                          std::span<const double> noise_variance, std::span<const cf64> reference_symbols,
                          std::span<const bit> reference_bits, std::span<const float> llrs,
                          llr_quality& quality) noexcept {
  const std::size_t bps = mapper.bits_per_symbol();
  const std::size_t symbols =
      std::min({equalised.size(), noise_variance.size(), reference_symbols.size(), reference_bits.size() / bps,
                llrs.size() / bps});
  return score(mapper, equalised, noise_variance, symbols, reference_bits, llrs, quality,
               [&](std::size_t i, unsigned) { return reference_symbols[i]; });
}

stream_score score_stream(const modem::mapper& mapper, std::span<const cf64> equalised,
                          std::span<const double> noise_variance, std::span<const bit> reference_bits,
                          std::span<const float> llrs, llr_quality& quality) noexcept {
  const std::size_t bps = mapper.bits_per_symbol();
  const std::size_t symbols =
      std::min({equalised.size(), noise_variance.size(), reference_bits.size() / bps, llrs.size() / bps});
  const auto points = mapper.constellation();
  return score(mapper, equalised, noise_variance, symbols, reference_bits, llrs, quality,
               [points](std::size_t, unsigned label) { return points[label]; });
}

}  // namespace amimo::metrics
