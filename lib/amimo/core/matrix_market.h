#pragma once
// NIST Matrix Market files (https://math.nist.gov/MatrixMarket/formats.html) for square
// system matrices: experiments can load a matrix someone else published, and write one
// back so a run can be reproduced elsewhere.
//
// Accepted: "%%MatrixMarket matrix coordinate|array real|integer|complex
// general|symmetric|hermitian|skew-symmetric", % comment lines, 1-based indices. Symmetric,
// Hermitian and skew-symmetric files store the lower triangle only (diagonal included, for
// skew-symmetric excluded) and are expanded to the full matrix. Not accepted: the pattern
// field (no values), non-square matrices (a linear solve needs a square one), duplicate
// coordinate entries, non-finite values, and sizes above the caller's cap (at most
// max_matrix_market_size), refused on the size line before anything is allocated.

#include <amimo/core/types.h>

#include <string>

namespace amimo {

/// Largest n accepted by read_matrix_market (an n×n dense matrix is read into memory).
inline constexpr int max_matrix_market_size = 4096;

/// Reads a square matrix of order at most max_size (clamped to 1..max_matrix_market_size):
/// a caller that handles smaller matrices passes its own limit, and a larger size line is
/// refused before the matrix is allocated. Throws amimo::io_error when the file cannot be
/// read (also when it is not a regular file or is larger than
/// amimo::max_matrix_market_file_bytes), and amimo::config_error naming the file and line
/// for content it cannot use (bad banner, unsupported field, non-square matrix, a size above
/// max_size, index out of range, duplicate entry, too few or too many entries, a value that
/// is not a finite number).
cmat read_matrix_market(const std::string& path, int max_size = max_matrix_market_size);

/// Writes A as "coordinate general" (nonzero entries only), field "real" when every
/// imaginary part is zero and "complex" otherwise, with round-trip exact values. The file
/// appears whole or not at all (amimo::write_file_atomically). Throws
/// amimo::io_error when it cannot be written, amimo::config_error for a non-finite entry.
void write_matrix_market(const std::string& path, cmat_cref a);

}  // namespace amimo
