#include <amimo/metrics/stream_score.h>

#include <algorithm>
#include <bit>
#include <limits>

namespace amimo::metrics {
namespace {

// An erased stream's noise variance (detect::linear_detector::kErased); NaN counts as erased.
constexpr double kErased = std::numeric_limits<double>::infinity();

// labels[j] = bits j·bps … j·bps + bps − 1, most significant first; bps a compile-time
// constant for the modulations amimo has, so the loop unrolls.
template <std::size_t Bps>
void pack_fixed(unsigned* labels, const bit* bits, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    unsigned label = 0;
    for (std::size_t b = 0; b < Bps; ++b) label = (label << 1U) | bits[j * Bps + b];
    labels[j] = label;
  }
}

void pack_labels(unsigned* labels, const bit* bits, std::size_t n, std::size_t bps) noexcept {
  switch (bps) {
    case 1: return pack_fixed<1>(labels, bits, n);
    case 2: return pack_fixed<2>(labels, bits, n);
    case 4: return pack_fixed<4>(labels, bits, n);
    case 6: return pack_fixed<6>(labels, bits, n);
    case 8: return pack_fixed<8>(labels, bits, n);
    default: break;
  }
  for (std::size_t j = 0; j < n; ++j) {
    unsigned label = 0;
    for (std::size_t b = 0; b < bps; ++b) label = (label << 1U) | bits[j * bps + b];
    labels[j] = label;
  }
}

// The scoring loop; reference(i, label) is symbol i's sent point (label: its known bits).
template <class Reference>
stream_score score(const modem::mapper& mapper, std::span<const cf64> equalised, std::span<const double> noise_variance,
                   std::size_t symbols, std::span<const bit> reference_bits, std::span<const float> llrs,
                   llr_quality& quality, const Reference& reference) noexcept {
  const std::size_t bps = mapper.bits_per_symbol();
  constexpr std::size_t kChunk = 256;
  unsigned labels[kChunk];
  unsigned wanted[kChunk];  // the reference bits' labels
  stream_score score;
  // Four running sums of the error energy (one chain of dependent additions per symbol set
  // the loop's pace), symbol j of each chunk into sum j mod 4, in registers (an array
  // indexed by j mod 4 went through memory: a store-to-load chain per symbol), added in a
  // fixed order at the end: deterministic, within rounding of the plain sum.
  double e0 = 0.0, e1 = 0.0, e2 = 0.0, e3 = 0.0;
  const auto term = [&](std::size_t at, unsigned label) {
    const cf64 sent = reference(at, label);
    const double dr = equalised[at].real() - sent.real();
    const double di = equalised[at].imag() - sent.imag();
    return dr * dr + di * di;
  };
  // Runs of scored symbols: decided a chunk at a time, their bits added to the LLR quality
  // in one call per run (erasures are rare: usually one run per stream).
  std::size_t i = 0;
  while (i < symbols) {
    if (!(noise_variance[i] < kErased)) {
      ++i;
      continue;
    }
    // The run's end: eight variances tested at a time (a test the compiler vectorises),
    // then one by one from the block that holds an erasure.
    std::size_t end = i + 1;
    for (; end + 8 <= symbols; end += 8) {
      unsigned scored = 1;
      for (std::size_t q = 0; q < 8; ++q) scored &= noise_variance[end + q] < kErased ? 1U : 0U;
      if (scored == 0) break;
    }
    while (end < symbols && noise_variance[end] < kErased) ++end;
    quality.add(llrs.subspan(i * bps, (end - i) * bps), reference_bits.subspan(i * bps, (end - i) * bps));
    for (std::size_t c0 = i; c0 < end; c0 += kChunk) {
      const std::size_t n = std::min(kChunk, end - c0);
      mapper.decide(std::span<unsigned>(labels, n), equalised.subspan(c0, n));
      pack_labels(wanted, reference_bits.data() + c0 * bps, n, bps);
      std::uint64_t errors = 0;
      std::size_t j = 0;
      for (; j + 4 <= n; j += 4) {
        const int wrong = std::popcount(labels[j] ^ wanted[j]) + std::popcount(labels[j + 1] ^ wanted[j + 1]) +
                          std::popcount(labels[j + 2] ^ wanted[j + 2]) + std::popcount(labels[j + 3] ^ wanted[j + 3]);
        errors += static_cast<std::uint64_t>(wrong);
        e0 += term(c0 + j, wanted[j]);
        e1 += term(c0 + j + 1, wanted[j + 1]);
        e2 += term(c0 + j + 2, wanted[j + 2]);
        e3 += term(c0 + j + 3, wanted[j + 3]);
      }
      for (; j < n; ++j) {  // j mod 4 is 0, 1 or 2 here
        errors += static_cast<std::uint64_t>(std::popcount(labels[j] ^ wanted[j]));
        double& sum = j % 4 == 0 ? e0 : (j % 4 == 1 ? e1 : e2);
        sum += term(c0 + j, wanted[j]);
      }
      score.bit_errors += errors;
    }
    score.scored_symbols += end - i;
    i = end;
  }
  score.error_energy = (e0 + e1) + (e2 + e3);
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
