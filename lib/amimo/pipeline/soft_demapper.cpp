#include <amimo/pipeline/soft_demapper.h>

#include <amimo/core/error.h>

#include <string>

namespace amimo::pipeline {

void soft_demapper::run(std::size_t k, std::span<const cf64> equalised, std::span<const double> noise_variance,
                        std::span<float> llr) const {
  const std::size_t n = symbols_per_user_;
  const std::size_t bits = bits_per_user();
  if ((k + 1) * n > equalised.size() || (k + 1) * n > noise_variance.size() || (k + 1) * bits > llr.size()) {
    throw config_error("soft_demapper::run: user " + std::to_string(k) + " lies outside the buffers");
  }
  mapper_.demap_soft(llr.subspan(k * bits, bits), equalised.subspan(k * n, n), noise_variance.subspan(k * n, n));
}

}  // namespace amimo::pipeline
