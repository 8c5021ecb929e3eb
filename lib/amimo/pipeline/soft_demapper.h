#pragma once
// The receiver's soft demapper stage: per user, max-log LLRs (modem::mapper::demap_soft) of
// one chain's equalised symbols with their per-stream noise variances, laid out as the
// equaliser chains write them (equaliser_chain.h: user k's symbols at k·symbols_per_user)
// into the chain's LLRs (user k's bits at k·symbols_per_user·bits_per_symbol). Different
// users may be demapped on different threads at once. Does not allocate.

#include <amimo/core/types.h>
#include <amimo/modem/mapper.h>

#include <cstddef>
#include <span>

namespace amimo::pipeline {

class soft_demapper {
 public:
  /// The mapper is borrowed and must outlive the stage.
  soft_demapper(const modem::mapper& mapper, std::size_t symbols_per_user) noexcept
      : mapper_(mapper), symbols_per_user_(symbols_per_user) {}

  /// Writes user k's LLRs in `llr` from its symbols in `equalised` and `noise_variance`
  /// (every user's, as above). Throws config_error when k's slices lie outside the spans.
  void run(std::size_t k, std::span<const cf64> equalised, std::span<const double> noise_variance,
           std::span<float> llr) const;

  std::size_t bits_per_user() const noexcept { return symbols_per_user_ * mapper_.bits_per_symbol(); }

 private:
  const modem::mapper& mapper_;
  std::size_t symbols_per_user_;
};

}  // namespace amimo::pipeline
