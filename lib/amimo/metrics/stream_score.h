#pragma once
// Scoring one user's stream of a frame by amimo's one rule (llr_quality.h), fast enough
// for the streaming receiver: hard decisions of the equalised symbols against the known
// bits (BER), Σ|ŝ − s|² against the known symbols (EVM), erased symbols (noise variance
// +∞ or NaN) skipped, and the LLR quality of the scored bits.

#include <amimo/core/types.h>
#include <amimo/metrics/llr_quality.h>
#include <amimo/modem/mapper.h>

#include <cstdint>
#include <span>

namespace amimo::metrics {

struct stream_score {
  std::uint64_t bit_errors = 0;      ///< hard-decision errors over the scored symbols' bits
  std::uint64_t scored_symbols = 0;  ///< symbols not erased
  double error_energy = 0.0;         ///< Σ|ŝ − s|² over the scored symbols
};

/// equalised, noise_variance, reference_symbols: one per symbol; reference_bits and llrs:
/// mapper.bits_per_symbol() per symbol (sizes must agree: the shortest governs). The LLR
/// quality of the scored bits is added to `quality`. Does not allocate.
stream_score score_stream(const modem::mapper& mapper, std::span<const cf64> equalised,
                          std::span<const double> noise_variance, std::span<const cf64> reference_symbols,
                          std::span<const bit> reference_bits, std::span<const float> llrs,
                          llr_quality& quality) noexcept;
/// The same score with the reference symbols taken as the mapper's points of the reference
/// bits (mapper::map of them, exactly): no mapping pass of its own.
stream_score score_stream(const modem::mapper& mapper, std::span<const cf64> equalised,
                          std::span<const double> noise_variance, std::span<const bit> reference_bits,
                          std::span<const float> llrs, llr_quality& quality) noexcept;

}  // namespace amimo::metrics
