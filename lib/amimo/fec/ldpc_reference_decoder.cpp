// Reference decoder: flooding belief propagation (sum-product, tanh rule) in double precision
// on the lifted graph, one message per edge and lane. Written for clarity, not speed; it shares
// nothing with the min-sum kernel but the parity-check description (ldpc_code).
#include <amimo/fec/ldpc_decoder.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace amimo::fec {
namespace {

constexpr double kMaxLlr = 60.0;

class reference_bp_decoder final : public ldpc_decoder {
 public:
  reference_bp_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg) : code_(bg, z), cfg_(cfg) {
    const auto zs = static_cast<std::size_t>(z);
    const auto edges = static_cast<std::size_t>(code_.edge_count());
    channel_.assign(static_cast<std::size_t>(code_.block_cols()) * zs, 0.0);
    total_.assign(channel_.size(), 0.0);
    v2c_.assign(edges * zs, 0.0);
    c2v_.assign(edges * zs, 0.0);
    const auto deg = static_cast<std::size_t>(code_.max_row_degree());
    tanh_.assign(deg, 0.0);
    prefix_.assign(deg + 1, 0.0);
    suffix_.assign(deg + 1, 0.0);
  }

  const ldpc_code& code() const noexcept override { return code_; }

  ldpc_decode_result decode(std::span<std::uint8_t> info_out, std::span<const float> llr) override {
    if (static_cast<int>(llr.size()) != code_.codeword_bits() || static_cast<int>(info_out.size()) != code_.info_bits()) {
      throw std::invalid_argument("ldpc reference decoder: llr must hold N = " + std::to_string(code_.codeword_bits()) +
                                  " values and info_out K = " + std::to_string(code_.info_bits()));
    }
    const int z = code_.z();
    const auto zs = static_cast<std::size_t>(z);
    // Rows whose degree-1 parity bit got no LLR contribute nothing: skip them (as the
    // min-sum decoder does), so both decode the same graph.
    int last_col = 2;
    for (std::size_t i = llr.size(); i-- > 0;) {
      if (llr[i] != 0.0f) {
        last_col = static_cast<int>(i / zs) + 2;
        break;
      }
    }
    const int rows = std::clamp(last_col - code_.info_block_cols() + 1, 4, code_.block_rows());
    std::fill(channel_.begin(), channel_.end(), 0.0);
    for (std::size_t i = 0; i < llr.size(); ++i) {
      // A NaN LLR carries no information (0): clamped it would spread through tanh and
      // every NaN < 0 test would pass the parity checks.
      const double v = static_cast<double>(llr[i]);
      channel_[2 * zs + i] = std::isnan(v) ? 0.0 : std::clamp(v, -kMaxLlr, kMaxLlr);
    }
    // v2c starts as the channel LLR of the variable each edge-lane reaches.
    for (int r = 0; r < rows; ++r) {
      const int base = code_.row_edge_offset(r);
      int j = 0;
      for (const auto& e : code_.row(r)) {
        for (int t = 0; t < z; ++t) {
          v2c_[edge_lane(base + j, t)] = channel_[var_index(e, t)];
        }
        ++j;
      }
    }
    ldpc_decode_result result;
    result.read_values = static_cast<int>(std::count_if(channel_.begin(), channel_.end(), [](double v) { return v != 0.0; }));
    for (int it = 0; it < cfg_.max_iterations; ++it) {
      check_update(rows);
      variable_update(rows);
      result.iterations = it + 1;
      result.parity_ok = parity_satisfied(rows);
      if (cfg_.early_termination && result.parity_ok) {
        break;
      }
    }
    for (int i = 0; i < code_.info_bits(); ++i) {
      info_out[static_cast<std::size_t>(i)] = total_[static_cast<std::size_t>(i)] < 0.0 ? 1 : 0;
    }
    return result;
  }

 private:
  std::size_t edge_lane(int edge, int t) const {
    return static_cast<std::size_t>(edge) * static_cast<std::size_t>(code_.z()) + static_cast<std::size_t>(t);
  }
  // Check t of a block row meets variable (col, (t + shift) mod Z).
  std::size_t var_index(const lifted_edge& e, int t) const {
    const int z = code_.z();
    return static_cast<std::size_t>(e.col) * static_cast<std::size_t>(z) + static_cast<std::size_t>((t + e.shift) % z);
  }

  void check_update(int rows) {
    const int z = code_.z();
    for (int r = 0; r < rows; ++r) {
      const int base = code_.row_edge_offset(r);
      const auto d = code_.row(r).size();
      for (int t = 0; t < z; ++t) {
        for (std::size_t j = 0; j < d; ++j) {
          tanh_[j] = std::tanh(0.5 * v2c_[edge_lane(base + static_cast<int>(j), t)]);
        }
        prefix_[0] = 1.0;
        for (std::size_t j = 0; j < d; ++j) {
          prefix_[j + 1] = prefix_[j] * tanh_[j];
        }
        suffix_[d] = 1.0;
        for (std::size_t j = d; j-- > 0;) {
          suffix_[j] = suffix_[j + 1] * tanh_[j];
        }
        for (std::size_t j = 0; j < d; ++j) {
          const double p = std::clamp(prefix_[j] * suffix_[j + 1], -1.0 + 1e-15, 1.0 - 1e-15);
          c2v_[edge_lane(base + static_cast<int>(j), t)] = std::clamp(2.0 * std::atanh(p), -kMaxLlr, kMaxLlr);
        }
      }
    }
  }

  void variable_update(int rows) {
    const int z = code_.z();
    total_ = channel_;
    for (int r = 0; r < rows; ++r) {
      const int base = code_.row_edge_offset(r);
      int j = 0;
      for (const auto& e : code_.row(r)) {
        for (int t = 0; t < z; ++t) {
          total_[var_index(e, t)] += c2v_[edge_lane(base + j, t)];
        }
        ++j;
      }
    }
    for (int r = 0; r < rows; ++r) {
      const int base = code_.row_edge_offset(r);
      int j = 0;
      for (const auto& e : code_.row(r)) {
        for (int t = 0; t < z; ++t) {
          const std::size_t k = edge_lane(base + j, t);
          v2c_[k] = std::clamp(total_[var_index(e, t)] - c2v_[k], -kMaxLlr, kMaxLlr);
        }
        ++j;
      }
    }
  }

  bool parity_satisfied(int rows) const {
    const int z = code_.z();
    for (int r = 0; r < rows; ++r) {
      for (int t = 0; t < z; ++t) {
        int parity = 0;
        for (const auto& e : code_.row(r)) {
          parity ^= total_[var_index(e, t)] < 0.0 ? 1 : 0;
        }
        if (parity != 0) {
          return false;
        }
      }
    }
    return true;
  }

  ldpc_code code_;
  ldpc_decoder_config cfg_;
  std::vector<double> channel_;
  std::vector<double> total_;
  std::vector<double> v2c_;
  std::vector<double> c2v_;
  std::vector<double> tanh_;
  std::vector<double> prefix_;
  std::vector<double> suffix_;
};

}  // namespace

std::unique_ptr<ldpc_decoder> make_reference_bp_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg) {
  return std::make_unique<reference_bp_decoder>(bg, z, cfg);
}

}  // namespace amimo::fec
