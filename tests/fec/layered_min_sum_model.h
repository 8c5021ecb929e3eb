#pragma once
// A plain scalar model of amimo's layered normalised min-sum decoder, written for tests: the
// lifted H is walked check by check with index arithmetic (bit (t + P) mod Z of block column j
// for check t of a block row), the APP and check-to-variable messages are plain ints in natural
// bit order, and the int8 arithmetic of ldpc_decoder.h is spelt out (quantisation, saturation at
// ±127, α rounded to a multiple of 1/16). No layout, rotation or vector trick of the decoder is
// shared, so the decoder's hard decisions must equal this model's bit for bit.
#include <amimo/fec/ldpc_code.h>
#include <amimo/fec/ldpc_decoder.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace amimo::fec::testing {

struct min_sum_model_result {
  int iterations = 0;
  bool parity_ok = false;
  std::vector<std::uint8_t> info;  // K hard decisions
};

inline min_sum_model_result layered_min_sum_model(const ldpc_code& code, std::span<const float> llr,
                                                  const ldpc_decoder_config& cfg) {
  const int z = code.z();
  const int kb = code.info_block_cols();
  // Decoded block rows: 0..3 always, then up to the last parity column that received an LLR.
  int rows = 4;
  for (int i = static_cast<int>(llr.size()) - 1; i >= 0; --i) {
    if (llr[static_cast<std::size_t>(i)] != 0.0f) {
      rows = std::clamp(i / z + 2 - kb + 1, 4, code.block_rows());
      break;
    }
  }
  const int cols = kb + rows;
  const auto at = [z](int col, int bit) { return static_cast<std::size_t>(col) * static_cast<std::size_t>(z) + static_cast<std::size_t>(bit); };
  std::vector<int> app(at(cols, 0), 0);
  for (int c = 2; c < cols; ++c) {
    for (int t = 0; t < z; ++t) {
      const float q = std::clamp(llr[at(c - 2, t)] * cfg.llr_scale, -31.0f, 31.0f);
      app[at(c, t)] = static_cast<int>(q + std::copysign(0.5f, q));  // round half away from zero
    }
  }
  const int alpha16 = std::clamp(static_cast<int>(std::lround(cfg.normalisation * 16.0f)), 1, 16);
  const auto sat = [](int v) { return std::clamp(v, -127, 127); };
  const auto scaled = [alpha16](int m) { return (m * alpha16 + 8) >> 4; };
  std::vector<int> msg(static_cast<std::size_t>(code.row_edge_offset(rows)) * static_cast<std::size_t>(z), 0);
  std::vector<int> extrinsic(static_cast<std::size_t>(code.max_row_degree()));

  const auto parity_ok = [&] {
    for (int r = 0; r < rows; ++r) {
      for (int t = 0; t < z; ++t) {
        bool odd = false;
        for (const lifted_edge& e : code.row(r)) {
          odd ^= app[at(e.col, (t + e.shift) % z)] < 0;
        }
        if (odd) {
          return false;
        }
      }
    }
    return true;
  };

  min_sum_model_result res;
  for (int it = 0; it < cfg.max_iterations; ++it) {
    for (int r = 0; r < rows; ++r) {
      const auto edges = code.row(r);
      const auto first = static_cast<std::size_t>(code.row_edge_offset(r));
      for (int t = 0; t < z; ++t) {
        int min1 = 127;
        int min2 = 127;
        std::size_t arg = 0;
        bool negative = false;
        for (std::size_t j = 0; j < edges.size(); ++j) {
          const int v = sat(app[at(edges[j].col, (t + edges[j].shift) % z)] - msg[(first + j) * static_cast<std::size_t>(z) + static_cast<std::size_t>(t)]);
          extrinsic[j] = v;
          const int a = std::abs(v);
          if (a < min1) {
            min2 = min1;
            min1 = a;
            arg = j;
          } else if (a < min2) {
            min2 = a;
          }
          negative ^= v < 0;
        }
        for (std::size_t j = 0; j < edges.size(); ++j) {
          const int mag = scaled(j == arg ? min2 : min1);
          const int out = negative != (extrinsic[j] < 0) ? -mag : mag;
          msg[(first + j) * static_cast<std::size_t>(z) + static_cast<std::size_t>(t)] = out;
          app[at(edges[j].col, (t + edges[j].shift) % z)] = sat(extrinsic[j] + out);
        }
      }
    }
    res.iterations = it + 1;
    if (cfg.early_termination && parity_ok()) {
      res.parity_ok = true;
      break;
    }
  }
  if (!cfg.early_termination) {
    res.parity_ok = parity_ok();
  }
  res.info.resize(static_cast<std::size_t>(code.info_bits()));
  for (std::size_t i = 0; i < res.info.size(); ++i) {
    res.info[i] = app[i] < 0 ? 1 : 0;
  }
  return res;
}

}  // namespace amimo::fec::testing
