#include <amimo/fec/ldpc_code.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace amimo::fec {
namespace {

constexpr int kMaxZ = 384;
using block = std::array<std::uint8_t, kMaxZ>;

// acc ^= P^s x, i.e. acc[t] ^= x[(t + s) mod Z].
void xor_rotated(std::uint8_t* acc, const std::uint8_t* x, int s, int z) {
  const int head = z - s;
  for (int t = 0; t < head; ++t) {
    acc[t] ^= x[t + s];
  }
  for (int t = head; t < z; ++t) {
    acc[t] ^= x[t - head];
  }
}

// out = P^{-s} x, i.e. out[(t + s) mod Z] = x[t].
void unrotate(std::uint8_t* out, const std::uint8_t* x, int s, int z) {
  for (int t = 0; t < z; ++t) {
    const int dst = t + s < z ? t + s : t + s - z;
    out[dst] = x[t];
  }
}

}  // namespace

ldpc_code::ldpc_code(base_graph bg, int z) : bg_(bg), z_(z), shape_(shape_of(bg)) {
  const int set = lifting_set_index(z);
  if (set < 0) {
    throw std::invalid_argument("LDPC lifting size Z = " + std::to_string(z) +
                                " is not in TS 38.212 Table 5.3.2-1");
  }
  const auto entries = base_graph_entries(bg);
  edges_.reserve(entries.size());
  row_start_.assign(static_cast<std::size_t>(shape_.rows) + 1, 0);
  for (const auto& e : entries) {
    edges_.push_back({e.col, static_cast<std::uint16_t>(e.shift[static_cast<std::size_t>(set)] % z)});
    ++row_start_[static_cast<std::size_t>(e.row) + 1];
  }
  for (std::size_t r = 0; r < static_cast<std::size_t>(shape_.rows); ++r) {
    max_degree_ = std::max(max_degree_, row_start_[r + 1]);
    row_start_[r + 1] += row_start_[r];
  }

  // Core parity (block columns kb..kb+3, rows 0..3). Summing rows 0..3, every core column
  // but kb appears twice with equal shifts and cancels; column kb appears three times, two
  // with equal shifts, so the sum is P^{s*} p0 = Σ λ_i. Find s*, then solve rows one unknown
  // at a time.
  const int kb = shape_.info_cols;
  std::vector<int> kb_shifts;
  for (int r = 0; r < 4; ++r) {
    for (const auto& e : row(r)) {
      if (e.col == kb) {
        kb_shifts.push_back(e.shift);
      }
    }
  }
  if (kb_shifts.size() != 3) {
    throw std::logic_error("LDPC base graph: core parity column does not have weight 3");
  }
  if (kb_shifts[0] == kb_shifts[1]) {
    p0_shift_ = kb_shifts[2];
  } else if (kb_shifts[0] == kb_shifts[2]) {
    p0_shift_ = kb_shifts[1];
  } else {
    p0_shift_ = kb_shifts[0];
  }
  std::array<bool, 4> known = {true, false, false, false};
  std::array<bool, 4> used = {false, false, false, false};
  for (int pass = 0; pass < 4; ++pass) {
    for (int r = 0; r < 4; ++r) {
      if (used[static_cast<std::size_t>(r)]) {
        continue;
      }
      int unknown = -1;
      int unknown_count = 0;
      for (const auto& e : row(r)) {
        if (e.col >= kb && e.col < kb + 4 && !known[static_cast<std::size_t>(e.col - kb)]) {
          unknown = e.col;
          ++unknown_count;
        }
      }
      if (unknown_count == 1) {
        core_order_.push_back({r, unknown});
        known[static_cast<std::size_t>(unknown - kb)] = true;
        used[static_cast<std::size_t>(r)] = true;
      }
    }
  }
  if (core_order_.size() != 3) {
    throw std::logic_error("LDPC base graph: core parity part is not solvable row by row");
  }
}

std::span<const lifted_edge> ldpc_code::row(int block_row) const noexcept {
  const auto r = static_cast<std::size_t>(block_row);
  return std::span<const lifted_edge>(edges_).subspan(static_cast<std::size_t>(row_start_[r]),
                                                      static_cast<std::size_t>(row_start_[r + 1] - row_start_[r]));
}

template <class BlockOf>
void ldpc_code::encode_parity(BlockOf blk) const {
  const int z = z_;
  const int kb = shape_.info_cols;
  // λ_i for the four core rows: the information part of each.
  std::array<block, 4> lambda{};
  block sum{};
  for (int r = 0; r < 4; ++r) {
    auto& l = lambda[static_cast<std::size_t>(r)];
    for (const auto& e : row(r)) {
      if (e.col < kb) {
        xor_rotated(l.data(), blk(e.col), e.shift, z);
      }
    }
    for (int t = 0; t < z; ++t) {
      sum[static_cast<std::size_t>(t)] ^= l[static_cast<std::size_t>(t)];
    }
  }
  unrotate(blk(kb), sum.data(), p0_shift_, z);  // P^{s*} p0 = Σ λ_i

  block acc{};
  for (const auto& step : core_order_) {
    std::copy_n(lambda[static_cast<std::size_t>(step.row)].begin(), z, acc.begin());
    int unknown_shift = 0;
    for (const auto& e : row(step.row)) {
      if (e.col == step.col) {
        unknown_shift = e.shift;
      } else if (e.col >= kb) {
        xor_rotated(acc.data(), blk(e.col), e.shift, z);
      }
    }
    unrotate(blk(step.col), acc.data(), unknown_shift, z);
  }

  // Extension rows: row r ≥ 4 has its own degree-1 parity column kb + r (shift 0).
  for (int r = 4; r < shape_.rows; ++r) {
    std::uint8_t* p = blk(kb + r);
    for (const auto& e : row(r)) {
      if (e.col != kb + r) {
        xor_rotated(p, blk(e.col), e.shift, z);
      }
    }
  }
}

void ldpc_code::encode_full(std::span<std::uint8_t> c, std::span<const std::uint8_t> info) const {
  if (static_cast<int>(c.size()) != full_codeword_bits() || static_cast<int>(info.size()) != info_bits()) {
    throw std::invalid_argument("ldpc_code::encode_full: codeword must hold " + std::to_string(full_codeword_bits()) +
                                " bits and info " + std::to_string(info_bits()) + " bits");
  }
  std::copy(info.begin(), info.end(), c.begin());
  std::fill(c.begin() + info_bits(), c.end(), std::uint8_t{0});
  const auto zs = static_cast<std::size_t>(z_);
  encode_parity([&](int col) { return c.data() + static_cast<std::size_t>(col) * zs; });
}

void ldpc_code::encode(std::span<std::uint8_t> d, std::span<const std::uint8_t> info) const {
  if (static_cast<int>(d.size()) != codeword_bits() || static_cast<int>(info.size()) != info_bits()) {
    throw std::invalid_argument("ldpc_code::encode: d must hold N = " + std::to_string(codeword_bits()) +
                                " bits and info K = " + std::to_string(info_bits()) + " bits");
  }
  // The two punctured systematic blocks live in a small head buffer; the rest goes to d.
  const int z = z_;
  const auto zs = static_cast<std::size_t>(z);
  std::array<std::uint8_t, 2 * kMaxZ> head{};
  std::copy_n(info.begin(), 2 * z, head.begin());
  std::copy(info.begin() + 2 * z, info.end(), d.begin());
  std::fill(d.begin() + (info_bits() - 2 * z), d.end(), std::uint8_t{0});
  encode_parity([&](int col) -> std::uint8_t* {
    return col < 2 ? head.data() + static_cast<std::size_t>(col) * zs : d.data() + static_cast<std::size_t>(col - 2) * zs;
  });
}

int ldpc_code::unsatisfied_checks(std::span<const std::uint8_t> c) const {
  if (static_cast<int>(c.size()) != full_codeword_bits()) {
    throw std::invalid_argument("ldpc_code::unsatisfied_checks: codeword must hold " +
                                std::to_string(full_codeword_bits()) + " bits");
  }
  const auto zs = static_cast<std::size_t>(z_);
  int failed = 0;
  block acc{};
  for (int r = 0; r < shape_.rows; ++r) {
    std::fill_n(acc.begin(), z_, std::uint8_t{0});
    for (const auto& e : row(r)) {
      xor_rotated(acc.data(), c.data() + static_cast<std::size_t>(e.col) * zs, e.shift, z_);
    }
    failed += static_cast<int>(std::count(acc.begin(), acc.begin() + z_, std::uint8_t{1}));
  }
  return failed;
}

}  // namespace amimo::fec
