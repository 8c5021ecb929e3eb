#pragma once
// The receiver's synchroniser stage: it owns the antenna sample buffer and finds frames in
// it. Samples go in through input()/commit(); each step() decides one thing and says what
// (a sync_verdict): more samples are needed, a frame of samples was searched without a
// preamble, lock was acquired, lock was lost, a frame is ready (where it starts, per
// antenna), or a frame slot was dropped (channels out of step, or NaN/Inf samples in it).
//
// Acquisition searches one frame length of lags for the peak of the normalised preamble
// cross-correlation summed over antennas (a coarse FFT correlation on the first antennas,
// refined ±8 lags with the full metric, then the earliest path within half a CP that
// reaches half the peak). Once locked, a frame is released when the next frame's preamble
// is found at the expected lag ±2 samples (a drift is followed only when the peak clearly
// moved). When it is missing, either the signal stopped after this frame (the end of a
// burst: the next preamble's window holds under a quarter of the frame's mean power while
// the frame's last samples hold their share) and the frame is released, the lock dropped
// (counted as a burst end); or the lock is lost (counted) and acquisition starts again past
// this frame's preamble: samples lost inside a frame drop that frame instead of decoding it
// as errors. Every antenna's preamble must sit where the FFT window takes no other symbol's
// samples: from `fft_backoff` samples early to CP − `fft_backoff` samples late. A channel
// clearly elsewhere is realigned by dropping samples at the head of the lagging channels
// (per-antenna offsets, counted), and the frame in which that was found is dropped.
//
// NaN/Inf samples are zeroed as they are committed (so correlations stay finite) and their
// runs remembered: a frame overlapping one is dropped and counted. Runs less than a frame
// apart are kept as one span (no frame fits between them), so the spans inside the buffer
// are few (at most one per frame it holds) and none is forgotten before its frame is checked.
// The buffer holds 4 to 16 frames; compaction (in input()) keeps the unprocessed tail.
// A released frame's samples stay valid until the next input(). No allocation per frame.

#include <amimo/core/types.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/numerology.h>

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace amimo::pipeline {

/// The synchroniser's counters (measured): the receiver reports them among its own.
struct sync_stats {
  std::uint64_t samples = 0;              ///< samples per antenna taken in
  std::uint64_t acquisitions = 0;         ///< times the synchroniser locked
  std::uint64_t sync_losses = 0;          ///< expected preamble missing after lock, or the
                                          ///< stream ended inside a locked frame (cut off)
  std::uint64_t burst_ends = 0;           ///< the signal stopped after a locked frame: that frame
                                          ///< released, the lock dropped (not a sync loss)
  std::uint64_t discarded_samples = 0;    ///< searched without finding a preamble
  std::uint64_t nonfinite_samples = 0;    ///< NaN/Inf samples (zeroed)
  std::uint64_t nonfinite_frames = 0;     ///< frames dropped because they held NaN/Inf samples
  std::uint64_t misaligned_channels = 0;  ///< antenna channels found off the common preamble
                                          ///< lag by more than the CP and realigned
  std::uint64_t unaligned_frames = 0;     ///< frames dropped because a channel was off and could not
                                          ///< be realigned (or its skew changed inside the frame)
  std::uint64_t slipped_frames = 0;       ///< frames dropped because the next preamble came ≥ 2
                                          ///< samples early or late: samples lost or repeated
                                          ///< inside the frame (a 1-sample move is followed as
                                          ///< clock drift: it cannot be told from one)
  double last_sync_metric = 0.0;          ///< normalised preamble correlation of the last search
};

struct sync_verdict {
  enum class kind {
    need_more,       ///< nothing to decide until more samples come
    searching,       ///< acquisition without lock: a frame of samples had no usable preamble
                     ///< (or its channels could not be aligned); search goes on
    acquired,        ///< locked on a preamble: frames follow
    lost_lock,       ///< the next preamble was missing (and the signal did not stop): this
                     ///< frame dropped, searching again
    unaligned,       ///< a frame slot dropped: a channel fell out of step (realigned, or lock lost)
    bad_samples,     ///< a frame slot dropped: NaN/Inf samples inside it
    slipped,         ///< a frame slot dropped: the next preamble moved by ≥ 2 samples (samples
                     ///< lost or repeated inside the frame); the lock follows the new position
    frame,           ///< a frame: rows, first_sample (after the last frame of a burst, the
                     ///< lock is dropped: locked() is false)
  };
  kind what = kind::need_more;
  /// Absolute index (samples since the first commit) of the frame's first sample on an
  /// antenna with offset 0; antenna a's frame starts at first_sample + offsets[a]. frame,
  /// bad_samples, unaligned, lost_lock: the frame slot released or dropped; acquired: the
  /// first locked frame; searching: where the search goes on; need_more: the locked frame
  /// (else where the search goes on).
  std::uint64_t first_sample = 0;
  std::span<const std::size_t> offsets;  ///< per antenna: samples dropped to align it
  std::span<const cf32* const> rows;     ///< frame: antenna a's first sample (valid until input())
  double metric = 0.0;                   ///< the preamble metric of the last search
  /// Whether this step released a frame slot (decoded or refused): the per-frame sync work.
  bool frame_slot() const noexcept { return what == kind::frame || what == kind::bad_samples; }
};

/// Copies n samples and says whether every one is finite (receiver::push): each piece is
/// checked as it is copied, while it is in the cache, instead of commit()'s later scan.
bool copy_checking_finite(const cf32* from, std::size_t n, cf32* to) noexcept;

class synchroniser {
 public:
  /// preamble: the preamble's time-domain body (n.fft_size samples, as one user sends it);
  /// threshold: normalised preamble correlation in (0, 1) to accept a frame; fft_backoff:
  /// where the demodulator's FFT window starts, samples inside the CP (0 … CP), which bounds
  /// the per-antenna skew tolerated without realignment.
  synchroniser(const ofdm::numerology& n, std::span<const cf32> preamble, int antennas, double threshold,
               int fft_backoff);
  ~synchroniser();
  synchroniser(const synchroniser&) = delete;
  synchroniser& operator=(const synchroniser&) = delete;

  /// Room for up to `max` new samples per antenna: pointers to write into, then commit().
  /// max is clipped to the free space (at least one frame is always available).
  std::span<cf32* const> input(std::size_t& max);
  /// Takes `count` written samples (NaN/Inf zeroed and remembered). `known_finite`: the
  /// caller has checked every new sample while writing it (copy_checking_finite), so the
  /// scan is skipped.
  void commit(std::size_t count, bool known_finite = false);
  /// Decides the next thing: call until it says need_more.
  sync_verdict step();
  /// End of stream: releases every whole frame left while locked (without waiting for the
  /// next preamble), one per call; need_more (and no lock) when none is left. When not
  /// locked with a frame's worth of samples left, silence (zeros, not counted) is appended
  /// so that a last frame the search had not reached yet is found and, if whole, released
  /// (a one-frame stream); from then on drain() returns step()'s verdicts. Call input() no
  /// more after drain().
  sync_verdict drain();

  bool locked() const noexcept { return locked_; }
  const sync_stats& stats() const noexcept { return stats_; }

 private:
  enum class alignment { ok, realigned, wait, failed };
  double preamble_metric(std::size_t lag) const noexcept;
  double antenna_metric(std::size_t a, std::size_t lag) const noexcept;
  double antenna_window_metric(std::size_t a, std::size_t lag, bool& peak_outside) const noexcept;
  alignment check_alignment(std::size_t& lag);
  sync_verdict acquire();
  sync_verdict track();
  sync_verdict release(std::size_t start);
  sync_verdict verdict(sync_verdict::kind what, std::size_t start) const noexcept;
  std::size_t coarse_preamble_search(std::size_t first_antenna, std::size_t antennas, std::size_t from);
  /// Row a as aligned: aligned index i is buffer_[a][i + offset_[a]].
  const cf32* row(std::size_t a) const noexcept { return buffer_[a].data() + offset_[a]; }
  /// Samples available on every antenna, in aligned indices.
  std::size_t aligned_tail() const noexcept { return tail_ - max_offset_; }
  bool frame_has_bad_samples(std::uint64_t first, std::uint64_t last) const noexcept;
  void pad_with_silence();
  void count_discarded(std::size_t from, std::size_t to) noexcept;
  void note_bad_samples(std::uint64_t first, std::uint64_t last) noexcept;
  double mean_power(std::size_t from, std::size_t n) const noexcept;
  bool signal_ends_after_frame() const noexcept;
  void compact();

  std::vector<cf32> preamble_;  // the preamble's time-domain body (fft_size samples)
  double threshold_;
  std::size_t frame_len_;
  std::size_t sym_len_;
  std::size_t cp_;
  std::size_t fft_len_;
  std::size_t backoff_;  // FFT window start inside the CP
  double preamble_energy_ = 0.0;  // Σ|p|² of the preamble body

  // Sample buffer: antennas rows; [head_, tail_) valid; absolute index of buffer index 0 kept.
  std::size_t capacity_;
  std::vector<std::vector<cf32>> buffer_;
  std::vector<cf32*> write_ptrs_;
  std::vector<const cf32*> frame_rows_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::uint64_t head_abs_ = 0;  // absolute sample index of buffer index 0
  bool locked_ = false;
  bool padded_ = false;             // drain() appended silence: the stream is over
  std::uint64_t padding_from_ = 0;  // absolute index of the first appended zero
  std::size_t frame_start_ = 0;  // buffer index of the locked frame's first sample
  // NaN/Inf runs [a, b) in absolute buffer indices, sorted, at least a frame apart.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> bad_;
  // Per-antenna alignment: samples dropped at the head of each channel so that every
  // antenna's preamble sits at the same aligned index (0 for the latest channel).
  std::vector<std::size_t> offset_;
  std::vector<std::size_t> offset_backup_;
  std::size_t max_offset_ = 0;
  std::vector<double> antenna_metric_;  // per antenna, scratch

  // Acquisition: coarse preamble correlation over a frame of lags by FFT (overlap-save).
  std::unique_ptr<ofdm::fft_plan> search_forward_;
  std::unique_ptr<ofdm::fft_plan> search_inverse_;
  std::vector<cf32> search_template_;  // conj(FFT(first preamble samples, zero-padded))
  std::vector<double> search_corr_;    // per lag: Σ_antennas |correlation|²
  std::vector<double> search_energy_;  // per lag: Σ_antennas window energy

  sync_stats stats_;
};

}  // namespace amimo::pipeline
