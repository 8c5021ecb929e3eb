#pragma once
// IT++ (Debian libitpp-dev) as an independent belief-propagation decoder and parity checker for
// amimo's 5G NR LDPC codes. Only compiled where CMake found IT++ (AMIMO_HAVE_ITPP).
//
// The IT++ code is the sub-code of the lifted H that a transmission uses: block rows 0..rows−1
// and block columns 0..kb+rows−1 (a row r ≥ 4 of either base graph touches only the columns
// below kb + 4 and its own degree-1 parity column kb + r, so dropping the later rows and their
// parity columns leaves a valid code). Block (r, j) with shift P is the Z×Z identity shifted so
// that check r·Z + t involves bit j·Z + (t + P) mod Z — amimo's convention (ldpc_code.h).
// LLRs are ln P(0)/P(1) on both sides (IT++'s QLLR convention too).
#include <amimo/fec/ldpc_code.h>

#include <itpp/comm/ldpc.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace amimo::fec::testing {

class itpp_nr_ldpc {
 public:
  // rows: block rows used (4 .. block_rows()). check_each_iteration: stop on a valid codeword.
  itpp_nr_ldpc(const ldpc_code& code, int rows, int max_iterations, bool check_each_iteration = true)
      : z_(code.z()), rows_(rows), cols_(code.info_block_cols() + rows),
        parity_(rows * code.z(), (code.info_block_cols() + rows) * code.z()) {
    for (int r = 0; r < rows; ++r) {
      for (const lifted_edge& e : code.row(r)) {
        for (int t = 0; t < z_; ++t) {
          parity_.set(r * z_ + t, e.col * z_ + (t + e.shift) % z_, 1);
        }
      }
    }
    code_ = std::make_unique<itpp::LDPC_Code>(&parity_, nullptr, false);
    code_->set_exit_conditions(max_iterations, check_each_iteration, false);
    unit_ = code_->get_llrcalc();
    llr_in_.set_size(cols_ * z_);
    llr_out_.set_size(cols_ * z_);
  }

  [[nodiscard]] int bits() const noexcept { return cols_ * z_; }

  // H·c = 0 over the first bits() bits of a full codeword.
  [[nodiscard]] bool parity_ok(std::span<const std::uint8_t> full_codeword) const {
    itpp::bvec b(bits());
    for (int i = 0; i < bits(); ++i) b[i] = full_codeword[static_cast<std::size_t>(i)];
    return code_->syndrome_check(b);
  }

  // d_llr: amimo's N transmitted-bit LLRs (d_k = c_{k+2Z}); the punctured c_0..c_{2Z−1} get 0.
  // Writes hard decisions on c_0..c_{K−1} into info_out; returns the BP iterations (negative
  // when BP ended without a valid codeword, as IT++ reports it).
  int decode(std::span<std::uint8_t> info_out, std::span<const float> d_llr) {
    for (int i = 0; i < bits(); ++i) {
      const double l = i < 2 * z_ ? 0.0 : std::clamp(static_cast<double>(d_llr[static_cast<std::size_t>(i - 2 * z_)]), -1e3, 1e3);
      llr_in_[i] = unit_.to_qllr(l);
    }
    const int iterations = code_->bp_decode(llr_in_, llr_out_);
    for (std::size_t i = 0; i < info_out.size(); ++i) info_out[i] = llr_out_[static_cast<int>(i)] < 0 ? 1 : 0;
    return iterations;
  }

 private:
  int z_;
  int rows_;
  int cols_;
  itpp::LDPC_Parity parity_;
  std::unique_ptr<itpp::LDPC_Code> code_;
  itpp::LLR_calc_unit unit_;
  itpp::QLLRvec llr_in_;
  itpp::QLLRvec llr_out_;
};

// The block rows a rate-matched transmission exercises: as amimo's layered decoder decides —
// rows 0..3 always, row r ≥ 4 when its parity column kb + r (or a later one) got an LLR.
inline int used_block_rows(const ldpc_code& code, std::span<const float> d_llr) {
  const auto last = std::find_if(d_llr.rbegin(), d_llr.rend(), [](float v) { return v != 0.0f; });
  if (last == d_llr.rend()) return 4;
  const int index = static_cast<int>(d_llr.rend() - last) - 1;
  const int col = index / code.z() + 2;
  return std::clamp(col - code.info_block_cols() + 1, 4, code.block_rows());
}

}  // namespace amimo::fec::testing
