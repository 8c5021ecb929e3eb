#include <amimo/pipeline/scoring_sink.h>

#include <amimo/detect/linear_detector.h>
#include <amimo/metrics/stream_score.h>

#include <bit>

namespace amimo::pipeline {

scoring_sink::scoring_sink(const modem::mapper& mapper, int users, std::size_t symbols_per_user,
                           std::vector<chain_stats>& chains)
    : mapper_(mapper), users_(static_cast<std::size_t>(users)), per_user_(symbols_per_user), chains_(chains) {
  const std::size_t n = chains_.size() * users_;
  errors_.assign(n, 0);
  scored_.assign(n, 0);
  known_.assign(n, 0);
  energy_.assign(n, 0.0);
  llr_.assign(n, metrics::llr_quality{});
}

// Hard decisions of the equalised symbols for BER and EVM, erased streams skipped and
// counted, LLR sign errors and calibration over the scored bits (the one rule of
// metrics/llr_quality.h); the reference symbols are the mapper's points of the known bits.
void scoring_sink::consume(const user_frame_view& v) {
  const std::size_t bps = v.bits_per_symbol;
  const std::size_t known = std::min(per_user_, v.reference.size() / bps);
  const auto k = static_cast<std::size_t>(v.user);
  const auto c = static_cast<std::size_t>(v.chain);
  auto& quality = llr_[c * users_ + k];
  quality.reset();
  const metrics::stream_score score = metrics::score_stream(
      mapper_, v.equalised.first(known), v.noise_variance.first(known), v.reference.first(known * bps),
      v.llr.first(known * bps), quality);
  const std::uint64_t errors = score.bit_errors;
  const std::uint64_t scored = score.scored_symbols;
  const double energy = score.error_energy;
  errors_[c * users_ + k] = errors;
  scored_[c * users_ + k] = scored;
  known_[c * users_ + k] = known;
  energy_[c * users_ + k] = energy;
}

void scoring_sink::end_frame(const frame_info& info) {
  const std::uint64_t bps = mapper_.bits_per_symbol();
  for (std::size_t c = 0; c < chains_.size() && c < static_cast<std::size_t>(info.chains); ++c) {
    auto& cs = chains_[c];
    for (std::size_t k = 0; k < users_; ++k) {
      const std::size_t i = c * users_ + k;
      const std::uint64_t erased = (known_[i] - scored_[i]) * bps;
      cs.user_bits[k] += scored_[i] * bps;
      cs.user_errors[k] += errors_[i];
      cs.user_erased_bits[k] += erased;
      cs.user_error_energy[k] += energy_[i];
      cs.user_symbols[k] += scored_[i];
      cs.bits += scored_[i] * bps;
      cs.bit_errors += errors_[i];
      cs.erased_bits += erased;
      cs.llr.merge(llr_[i]);
    }
  }
}

}  // namespace amimo::pipeline
