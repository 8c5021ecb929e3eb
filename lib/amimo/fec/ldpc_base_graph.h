#pragma once
// 5G NR LDPC base graphs (TS 38.212 §5.3.2): Tables 5.3.2-1 (lifting sizes), 5.3.2-2 (BG1)
// and 5.3.2-3 (BG2) as data.
//
// A base graph entry (i, j) with shift V_ij says: the Z×Z block of H at block row i, block
// column j is the identity cyclically shifted right by P_ij = V_ij mod Z, i.e. row t of that
// block has its one at column (t + P_ij) mod Z. The set index i_LS (0..7) picks the column of
// V_ij; it is the set of Table 5.3.2-1 that holds Z.
#include <array>
#include <cstdint>
#include <span>

namespace amimo::fec {

enum class base_graph : std::uint8_t { bg1 = 1, bg2 = 2 };

struct base_graph_entry {
  std::uint8_t row;
  std::uint8_t col;
  std::array<std::uint16_t, 8> shift;  // V_ij per set index i_LS = 0..7
};

struct base_graph_shape {
  int rows;         // mb: 46 (BG1), 42 (BG2)
  int cols;         // nb: 68 (BG1), 52 (BG2)
  int info_cols;    // kb: 22 (BG1), 10 (BG2) — the systematic columns of H
  int max_info_bits_per_z;  // 22 (BG1), 10 (BG2): K = this × Z
};

[[nodiscard]] base_graph_shape shape_of(base_graph bg) noexcept;

// Every non-empty entry, sorted by row then column (316 for BG1, 197 for BG2).
[[nodiscard]] std::span<const base_graph_entry> base_graph_entries(base_graph bg) noexcept;

// Table 5.3.2-1: the 51 lifting sizes, ascending.
[[nodiscard]] std::span<const int> lifting_sizes() noexcept;

// The set index i_LS of Table 5.3.2-1 holding z; -1 when z is not a lifting size.
[[nodiscard]] int lifting_set_index(int z) noexcept;

// The smallest lifting size Z with min_bits_per_z × Z ≥ k; throws std::invalid_argument
// when none does (k > 384 × min_bits_per_z).
[[nodiscard]] int smallest_lifting_size(int k, int min_bits_per_z);

}  // namespace amimo::fec
