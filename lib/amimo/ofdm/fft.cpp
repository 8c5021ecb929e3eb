#include <amimo/ofdm/fft.h>

#include <amimo/core/error.h>

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <new>
#include <string>

namespace amimo::ofdm {
namespace {

// FFTW's planner is not thread-safe; execution of distinct plans is.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

fft_plan::fft_plan(int size, direction dir) : size_(size) {
  if (size < 2) throw config_error("FFT size must be at least 2, got " + std::to_string(size));
  const auto bytes = static_cast<std::size_t>(size) * sizeof(cf32);
  std::lock_guard<std::mutex> lock(planner_mutex());
  in_ = static_cast<cf32*>(fftwf_malloc(bytes));
  out_ = static_cast<cf32*>(fftwf_malloc(bytes));
  if (in_ == nullptr || out_ == nullptr) {
    fftwf_free(in_);
    fftwf_free(out_);
    throw std::bad_alloc();
  }
  // FFTW_ESTIMATE: deterministic plans, no timing at start-up.
  plan_ = fftwf_plan_dft_1d(size, reinterpret_cast<fftwf_complex*>(in_), reinterpret_cast<fftwf_complex*>(out_),
                            dir == direction::forward ? FFTW_FORWARD : FFTW_BACKWARD, FFTW_ESTIMATE);
  for (int i = 0; i < size; ++i) in_[i] = out_[i] = cf32{};
}

fft_plan::~fft_plan() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  if (plan_ != nullptr) fftwf_destroy_plan(static_cast<fftwf_plan>(plan_));
  fftwf_free(in_);
  fftwf_free(out_);
}

void fft_plan::execute_unscaled(cf32* out) noexcept {
  auto* dst = reinterpret_cast<fftwf_complex*>(out);
  if (fftwf_alignment_of(reinterpret_cast<float*>(out)) == fftwf_alignment_of(reinterpret_cast<float*>(out_))) {
    fftwf_execute_dft(static_cast<fftwf_plan>(plan_), reinterpret_cast<fftwf_complex*>(in_), dst);
    return;
  }
  fftwf_execute(static_cast<fftwf_plan>(plan_));
  std::copy(out_, out_ + size_, out);
}

void fft_plan::execute_unscaled(const cf32* in, cf32* out) noexcept {
  const auto aligned = [](const cf32* a, const cf32* b) {
    return fftwf_alignment_of(reinterpret_cast<float*>(const_cast<cf32*>(a))) ==
           fftwf_alignment_of(reinterpret_cast<float*>(const_cast<cf32*>(b)));
  };
  if (aligned(in, in_) && aligned(out, out_)) {
    // An out-of-place complex plan preserves its input (FFTW's default for these plans).
    fftwf_execute_dft(static_cast<fftwf_plan>(plan_), reinterpret_cast<fftwf_complex*>(const_cast<cf32*>(in)),
                      reinterpret_cast<fftwf_complex*>(out));
    return;
  }
  std::copy(in, in + size_, in_);
  execute_unscaled(out);
}

void fft_plan::execute() noexcept {
  fftwf_execute(static_cast<fftwf_plan>(plan_));
  const float scale = 1.0F / std::sqrt(static_cast<float>(size_));
  for (int i = 0; i < size_; ++i) out_[i] *= scale;
}

}  // namespace amimo::ofdm
