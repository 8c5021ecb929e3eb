#pragma once
// The uncoded scoring sink: BER from hard decisions of the equalised symbols, EVM
// (data-aided) and LLR quality (metrics/llr_quality.h), per chain and user, against the
// known reference bits the receiver hands on (every data bit in PRBS mode; the header bits
// with user payloads). Erased streams (noise variance +∞) are never scored as decisions:
// their bits are counted beside. Accumulates into chain_stats (receiver.h); no allocation
// per frame.

#include <amimo/modem/mapper.h>
#include <amimo/pipeline/frame_sink.h>
#include <amimo/pipeline/receiver.h>

#include <vector>

namespace amimo::pipeline {

class scoring_sink final : public frame_sink {
 public:
  /// chains: the receiver's chain_stats (label and per-user vectors already sized).
  scoring_sink(const modem::mapper& mapper, int users, std::size_t symbols_per_user, std::vector<chain_stats>& chains);

  void consume(const user_frame_view& v) override;
  void end_frame(const frame_info& info) override;

 private:
  const modem::mapper& mapper_;
  std::size_t users_;
  std::size_t per_user_;
  std::vector<chain_stats>& chains_;
  std::vector<std::uint64_t> errors_;   // per chain × user, this frame
  std::vector<std::uint64_t> scored_;   // symbols scored
  std::vector<std::uint64_t> known_;    // known symbols
  std::vector<double> energy_;          // Σ|ŝ − s|²
  std::vector<metrics::llr_quality> llr_;
};

}  // namespace amimo::pipeline
