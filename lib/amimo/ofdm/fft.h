#pragma once
// Unitary FFT of one size on cf32 samples (FFTW, single precision; FFTW_FORWARD = e^{−j}).
// A plan owns its buffers; one per thread. execute() does not allocate.

#include <amimo/core/types.h>

#include <span>

namespace amimo::ofdm {

class fft_plan {
 public:
  enum class direction { forward, inverse };
  fft_plan(int size, direction dir);
  ~fft_plan();
  fft_plan(const fft_plan&) = delete;
  fft_plan& operator=(const fft_plan&) = delete;

  int size() const noexcept { return size_; }
  /// The input buffer to fill before execute().
  std::span<cf32> input() noexcept { return {in_, static_cast<std::size_t>(size_)}; }
  /// The output, valid after execute(); scaled by 1/√size (unitary).
  std::span<const cf32> output() const noexcept { return {out_, static_cast<std::size_t>(size_)}; }
  void execute() noexcept;
  /// Transforms input() into out[0, size()) *without* the 1/√size scaling (callers that fold
  /// the scale into a pass of their own, e.g. the input copy). Straight into `out` when its
  /// SIMD alignment matches the plan's buffers (FFTW's new-array execute), else through
  /// output() and a copy; output() is unspecified afterwards.
  void execute_unscaled(cf32* out) noexcept;
  /// The same transform of `in` (size() values, left unchanged) instead of input(): with
  /// FFTW's new-array execute when both alignments match the plan's buffers, else through them.
  void execute_unscaled(const cf32* in, cf32* out) noexcept;

 private:
  int size_;
  cf32* in_ = nullptr;
  cf32* out_ = nullptr;
  void* plan_ = nullptr;
};

}  // namespace amimo::ofdm
