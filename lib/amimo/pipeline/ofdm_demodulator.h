#pragma once
// The receiver's OFDM demodulator stage: per frame, CP removal and FFT of every (symbol,
// antenna), with the FFT window `fft_backoff` samples inside the CP and that shift's phase
// ramp removed, into a grid of symbols × antennas rows of fft_size bins (row_stride()
// apart); and the noise variance N0 from the energy of the guard bins (the mean |Y|² over
// every guard bin, symbol and antenna). The work is split into `parts` contiguous ranges of
// (symbol, antenna) transforms, each run by one worker with its own FFT plan (transform_part
// may run concurrently for distinct parts and workers). Buffers are sized at construction:
// no allocation per frame.
//
// One pass over the samples per transform: the window is copied into the plan's input
// rotated by the back-off (a circular shift by `fft_backoff` is exactly the removal of that
// shift's phase ramp) and scaled by 1/√fft_size (unitary), and FFTW writes the bins straight
// into the grid (its rows are SIMD-aligned); only the guard bins are read back, for N0, as
// runs of consecutive bins.

#include <amimo/core/types.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/numerology.h>

#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace amimo::pipeline {

class ofdm_demodulator {
 public:
  /// workers: FFT plans (one per worker); parts: ranges a frame is split into.
  ofdm_demodulator(const ofdm::numerology& n, int antennas, int fft_backoff, std::vector<int> guard_bins, int workers,
                   int parts);

  /// Where antenna a's frame starts (its first sample, the preamble's CP), set before transform_part.
  std::span<const cf32*> frame_rows() noexcept { return rows_; }
  /// Transforms part `part` of the frame with worker `worker`'s FFT plan.
  void transform_part(int worker, std::size_t part) noexcept;
  /// N0 of the frame transformed (after every part), at least 1e-12.
  double noise_variance() const noexcept;

  /// FFT outputs: symbols × antennas rows of fft_size bins, row_stride() apart (symbol s,
  /// antenna a at (s·antennas + a)·row_stride()).
  const cf32* grid() const noexcept { return grid_.get(); }
  /// Samples from one row of the grid to the next: fft_size + kRowPad. With a power-of-two
  /// row the same bin of every antenna (what the detector and the estimator gather) would
  /// fall in one cache set and evict itself; a row one 64-byte line longer spreads them over
  /// every set (and keeps rows SIMD-aligned for FFTW).
  std::size_t row_stride() const noexcept { return row_stride_; }
  static constexpr std::size_t kRowPad = 8;
  /// Per OFDM symbol of the frame (0 = preamble), its block of antennas rows.
  std::span<const cf32* const> symbols() const noexcept { return symbol_ptrs_; }
  /// The pilot symbols' blocks, every pilot group in order (numerology::pilot_symbol_index).
  std::span<const cf32* const> pilots() const noexcept { return pilot_ptrs_; }
  int parts() const noexcept { return static_cast<int>(guard_energy_.size()); }

 private:
  ofdm::numerology n_;
  std::size_t antennas_;
  std::size_t row_stride_;
  int fft_backoff_;
  std::vector<int> guard_bins_;
  std::vector<std::pair<std::size_t, std::size_t>> guard_runs_;  // (first bin, bins) of consecutive guard bins
  std::vector<std::unique_ptr<ofdm::fft_plan>> ffts_;
  struct aligned_delete {
    void operator()(cf32* p) const noexcept;
  };
  std::unique_ptr<cf32[], aligned_delete> grid_;  // 64-byte aligned (FFTW writes rows in place)
  std::vector<const cf32*> symbol_ptrs_;
  std::vector<const cf32*> pilot_ptrs_;
  std::vector<double> guard_energy_;  // per part: Σ|Y|² over the guard bins
  std::vector<const cf32*> rows_;     // per antenna: the frame's first sample
};

}  // namespace amimo::pipeline
