#include <amimo/ofdm/fft.h>

#include <amimo/core/error.h>

#include <complex>
// <complex> must come before liquid.h so liquid_float_complex is std::complex<float>.
#include <liquid/liquid.h>

#include <cmath>
#include <string>

namespace amimo::ofdm {

fft_plan::fft_plan(int size, direction dir) : size_(size) {
  if (size < 2) throw config_error("FFT size must be at least 2, got " + std::to_string(size));
  const auto n = static_cast<unsigned>(size);
  in_ = static_cast<cf32*>(fft_malloc(n * static_cast<unsigned>(sizeof(cf32))));  // bytes
  out_ = static_cast<cf32*>(fft_malloc(n * static_cast<unsigned>(sizeof(cf32))));
  if (in_ == nullptr || out_ == nullptr) throw std::bad_alloc();
  for (int i = 0; i < size; ++i) in_[i] = out_[i] = cf32{};
  plan_ = fft_create_plan(n, in_, out_,
                          dir == direction::forward ? LIQUID_FFT_FORWARD : LIQUID_FFT_BACKWARD, 0);
}

fft_plan::~fft_plan() {
  if (plan_ != nullptr) fft_destroy_plan(static_cast<fftplan>(plan_));
  fft_free(in_);
  fft_free(out_);
}

void fft_plan::execute() noexcept {
  fft_execute(static_cast<fftplan>(plan_));
  const float scale = 1.0F / std::sqrt(static_cast<float>(size_));
  for (int i = 0; i < size_; ++i) out_[i] *= scale;
}

}  // namespace amimo::ofdm
