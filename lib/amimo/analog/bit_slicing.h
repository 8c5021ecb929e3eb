#pragma once
// Bit slicing (DESIGN.md §1.1 steps 2–3, 5): a normalised real matrix |Ā_ij| < 1 becomes
// S signed-digit matrices D_s with digits in −(L−1)…(L−1), L = 2^m, each the nearest
// digit to what the previous slices left (the remainder may have either sign):
//   Ā ≈ Σ_s D_s · L^−(s+1),  |Ā − Σ| ≤ L^−S.
// Nearest rather than truncated digits halve and de-bias the error of A0 = D_0/L, which
// is what sets the LP-INV contraction factor.
// Vectors entering HP-MVM are block-floating-point integers split into DAC-width chunks.

#include <amimo/core/types.h>

#include <cstdint>
#include <vector>

namespace amimo::analog {

/// The largest normalised entry the slices represent: 1 − L^−S.
double slice_full_scale(int levels, int slices) noexcept;

/// Fills digits[0…S−1] (resized to a's shape) and a_q = Σ D_s L^−(s+1) (the matrix the
/// HP-MVM really multiplies by). Entries must satisfy |a_ij| ≤ 1 − L^−S.
void slice_matrix(const rmat& a, int levels, int slices, std::vector<rmat>& digits, rmat& a_q);

/// Single-slice digits of m/scale, |m_ij/scale| ≤ (L−1)/L: D = clamp(round(m/scale·L), ±(L−1)).
void truncate_to_digits(Eigen::Ref<const rmat> m, double scale, int levels, rmat& digits);

/// Block floating point: x ≈ x_q · scale / (2^bits − 1), x_q integers with |x_q| ≤ 2^bits − 1.
/// Returns scale = max|x| (0 for a zero vector, x_q then all zero).
double quantise_input(const rvec& x, int bits, std::vector<std::int64_t>& x_q);

/// Chunk c (0 = most significant) of a quantised entry: sign · ((|v| >> shift_c) & mask),
/// with shift_c = chunk_bits·(chunks − 1 − c).
inline double input_chunk(std::int64_t v, int chunk_bits, int shift) noexcept {
  const std::int64_t mag = v < 0 ? -v : v;
  const std::int64_t mask = (std::int64_t{1} << chunk_bits) - 1;
  const auto digit = static_cast<double>((mag >> shift) & mask);
  return v < 0 ? -digit : digit;
}

}  // namespace amimo::analog
