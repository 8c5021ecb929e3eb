#pragma once
// A lifted 5G NR LDPC code: base graph + lifting size Z → the parity-check matrix H
// ((mb·Z) × (nb·Z)) as lists of (block column, shift mod Z) per block row, and the systematic
// encoder of TS 38.212 §5.3.2.
//
// Bit conventions (everywhere in amimo::fec): a bit is a std::uint8_t holding 0 or 1.
// The full codeword c has nb·Z bits: c_0..c_{K-1} the information bits (K = kb·Z, filler
// bits encoded as 0), then the parity bits. What is transmitted is d_k = c_{k+2Z},
// k = 0..N-1, N = (nb − 2)·Z: the first 2Z systematic bits are always punctured.
#include <amimo/fec/ldpc_base_graph.h>

#include <cstdint>
#include <span>
#include <vector>

namespace amimo::fec {

struct lifted_edge {
  std::uint16_t col;    // block column j
  std::uint16_t shift;  // P_ij = V_ij mod Z
};

class ldpc_code {
 public:
  // Throws std::invalid_argument when z is not a lifting size of Table 5.3.2-1.
  ldpc_code(base_graph bg, int z);

  [[nodiscard]] base_graph graph() const noexcept { return bg_; }
  [[nodiscard]] int z() const noexcept { return z_; }
  [[nodiscard]] int block_rows() const noexcept { return shape_.rows; }
  [[nodiscard]] int block_cols() const noexcept { return shape_.cols; }
  [[nodiscard]] int info_block_cols() const noexcept { return shape_.info_cols; }
  [[nodiscard]] int info_bits() const noexcept { return shape_.info_cols * z_; }        // K
  [[nodiscard]] int full_codeword_bits() const noexcept { return shape_.cols * z_; }   // nb·Z
  [[nodiscard]] int codeword_bits() const noexcept { return (shape_.cols - 2) * z_; }  // N
  [[nodiscard]] std::span<const lifted_edge> row(int block_row) const noexcept;
  [[nodiscard]] int max_row_degree() const noexcept { return max_degree_; }
  [[nodiscard]] int edge_count() const noexcept { return static_cast<int>(edges_.size()); }
  // Index of the first edge of block_row in the concatenation of all rows.
  [[nodiscard]] int row_edge_offset(int block_row) const noexcept { return row_start_[static_cast<std::size_t>(block_row)]; }

  // Systematic encoding: info (K bits) → full codeword (nb·Z bits). No allocation.
  void encode_full(std::span<std::uint8_t> full_codeword, std::span<const std::uint8_t> info) const;
  // Systematic encoding with the standard's puncturing: info (K bits) → d (N bits).
  void encode(std::span<std::uint8_t> d, std::span<const std::uint8_t> info) const;

  // Number of unsatisfied parity checks of H·c over the full codeword (nb·Z bits).
  [[nodiscard]] int unsatisfied_checks(std::span<const std::uint8_t> full_codeword) const;

 private:
  template <class BlockOf>
  void encode_parity(BlockOf block_of) const;

  base_graph bg_;
  int z_;
  base_graph_shape shape_;
  std::vector<lifted_edge> edges_;
  std::vector<int> row_start_;  // mb + 1
  int max_degree_ = 0;
  // Core-parity solve order (rows 0..3): which row determines which parity block column.
  struct core_step {
    int row;
    int col;
  };
  std::vector<core_step> core_order_;
  int p0_shift_ = 0;  // the shift left on column kb after summing rows 0..3
};

}  // namespace amimo::fec
