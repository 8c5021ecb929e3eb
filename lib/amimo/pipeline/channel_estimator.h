#pragma once
// Least-squares channel estimation on the comb pilots (numerology.h), smoothing over
// neighbouring pilots and linear interpolation in frequency to every used subcarrier; the
// noise variance from the guard bins. All buffers are sized at construction.
//
// Precision: the least-squares and smoothing arithmetic runs in double; the interpolated
// estimates are stored in single precision (cf32), the precision of the FFT outputs they
// come from (one rounding, relative 2^-24 ≈ 6e-8, i.e. about −144 dB: far below any
// estimation error or noise). They are half the bytes an f64 store writes and detection
// reads — at 64×16 that is 2.5 MB per pilot group per frame instead of 4.9 — and an FP32
// detector loads them without converting; f64 chains widen them exactly.
//
// In time: one estimate per pilot group (the front group, and the additional groups of
// numerology::additional_pilots), each dated at the centre of its pilot symbols. The data
// symbols get their channel from those estimates through time_segments(): runs of
// consecutive data symbols (never across a pilot group) that share one channel
//   Ĥ(d) = (1 − w) · Ĥ[group_before] + w · Ĥ[group_after],
// with time_interpolation
//   hold    every data symbol takes the nearest group's estimate (ties: the earlier group),
//   linear  linear interpolation in time between the two groups around the data symbol,
//           held flat beyond the last group (no extrapolation: it would amplify the noise
//           of the estimates, by (1 + 2x + 2x²) at x group spacings past the last group).
// With the front-only layout (additional_pilots = 0) both give one segment: every data
// symbol detected with the front estimate, i.e. an estimate that is outdated by the time
// since the pilots (what the README's BER-vs-speed curve shows).

#include <amimo/core/types.h>
#include <amimo/ofdm/frame.h>

#include <span>
#include <string>
#include <vector>

namespace amimo::pipeline {

enum class time_interpolation { hold, linear };
/// "hold" | "linear"; throws config_error otherwise.
time_interpolation parse_time_interpolation(const std::string& name);
const char* to_string(time_interpolation t) noexcept;

/// Data symbols [first_data, first_data + data_count), consecutive in the frame, detected
/// with (1 − weight_after) · Ĥ[group_before] + weight_after · Ĥ[group_after].
struct time_segment {
  int first_data = 0;
  int data_count = 0;
  int group_before = 0;
  int group_after = 0;
  double weight_after = 0.0;  ///< 0: group_before's estimate as it is (no blend)
};

/// The segments of a frame, in data-symbol order (see the header comment). One segment
/// when the layout has a single pilot group.
std::vector<time_segment> time_segments(const ofdm::numerology& n, time_interpolation t);

/// dst[i] = (1 − weight_after)·before[i] + weight_after·after[i] over count channel
/// entries, in double and rounded once to cf32: a blended segment's channel (time_segment).
void blend_channels(const cf32* before, const cf32* after, double weight_after, std::size_t count,
                    cf32* dst) noexcept;

class channel_estimator {
 public:
  /// smoothing: pilots averaged on each side of each pilot (0 = plain LS; a value ≥ the
  /// pilots per user, or −1, averages the whole band: right for a flat channel only). Where
  /// the band's edge clips a pilot's window, a mean over the one-sided window would turn
  /// any delay's phase slope into a bias (|Ĥ/H − 1| = 0.2 at the last subcarrier for a
  /// 300 ns path): there the pilot takes the least-squares line through its window instead
  /// (the same as the mean for a symmetric window). The subcarriers beyond the outermost
  /// pilots are extrapolated along the line through the two outermost pilots' estimates
  /// rather than held flat (which left the same kind of bias).
  channel_estimator(const ofdm::frame_layout& layout, int antennas, int smoothing,
                    time_interpolation interpolation = time_interpolation::linear);

  /// pilot_symbols[p] is pilot symbol p's FFT output (p over every group, group by group:
  /// pilot_groups() × pilot_symbols pointers, ofdm_demodulator::pilots()) as antennas rows
  /// of fft_size bins, row a at data + a · row_stride (0: fft_size;
  /// ofdm_demodulator::row_stride()). Writes estimates for every group and used subcarrier.
  void estimate(std::span<const cf32* const> pilot_symbols, std::size_t row_stride = 0);
  /// The part of estimate() for one user; different users may run on different threads
  /// at the same time (each writes only its own state and its column of the estimate).
  void estimate_user(int user, std::span<const cf32* const> pilot_symbols, std::size_t row_stride = 0);

  /// Estimated channel of pilot group g (0: the front group) on used subcarrier u
  /// (antennas × users).
  Eigen::Map<const Eigen::MatrixXcf> response(int u, int group = 0) const noexcept {
    const auto block = static_cast<std::size_t>(antennas_ * users_);
    const auto at = (static_cast<std::size_t>(group) * used_ + static_cast<std::size_t>(u)) * block;
    return {estimate_.data() + at, antennas_, users_};
  }
  /// Every group's estimate: groups × used × (antennas × users), response(u, g) at
  /// (g·used + u)·antennas·users.
  std::span<const cf32> responses() const noexcept { return estimate_; }
  /// Mean |Ĥ|² per (antenna, user) entry of the front group's estimate over every
  /// kPowerStride-th used subcarrier (0, 4, 8, …), as estimate() last wrote it (summed per
  /// user while the estimate is written, then over the users in order): with the noise
  /// variance, the receiver's Es/N0 estimate, which holds behind any receive gain.
  double channel_power() const noexcept;
  static constexpr std::size_t kPowerStride = 4;

  /// How the data symbols take their channel from the groups' estimates.
  std::span<const time_segment> segments() const noexcept { return segments_; }

  /// Mean |Y|² over the guard bins (DC excluded) of the given symbols: the noise variance
  /// per subcarrier (measured). Symbols and row_stride as in estimate().
  double noise_variance(std::span<const cf32* const> symbols, std::size_t row_stride = 0) const noexcept;
  /// The FFT bins noise_variance() averages over (outside the used band, DC excluded).
  std::span<const int> guard_bins() const noexcept { return guard_bins_; }

 private:
  const ofdm::frame_layout& layout_;
  int antennas_;
  int users_;
  int smoothing_;
  std::size_t used_;
  std::vector<time_segment> segments_;
  // Per user: used-subcarrier positions carrying its pilots (ascending, unique) and, per
  // position, the pilot symbols that carry it there.
  std::vector<std::vector<int>> positions_;
  std::vector<std::vector<std::vector<int>>> position_symbols_;
  // Interpolation per user per used subcarrier: left position index and weight of right.
  std::vector<std::vector<int>> left_;
  std::vector<std::vector<double>> weight_;
  std::vector<std::vector<std::size_t>> pilot_bins_;  // per user, per position: its FFT bin
  std::vector<std::vector<cf64>> pilot_gains_;        // per user, per position: 1 / (pilot · symbols)
  std::vector<double> power_;                // per user: channel_power()'s sum
  std::vector<std::vector<cf64>> ls_;        // per user: positions × antennas
  std::vector<std::vector<cf64>> smoothed_;  // per user: positions × antennas
  // Per user: the smoothing windows the band's edges clip (first and last `smoothing`
  // pilots), each a least-squares line over its pilots evaluated at the pilot: `first`
  // pilot, the pilot it replaces, and offset into edge_coeffs_ of count weights.
  struct edge_fit {
    std::size_t pilot, first, count, offset;
  };
  std::vector<std::vector<edge_fit>> edge_fits_;
  std::vector<std::vector<double>> edge_coeffs_;
  std::vector<cf32> estimate_;               // groups × used × (antennas × users)
  std::vector<int> guard_bins_;
};

/// Half-width of the frequency span the default ("auto") smoothing averages over. Averaging
/// a channel whose phase turns across the span biases the estimate (by the Dirichlet kernel
/// of the path delays): ±120 kHz keeps that bias below −30 dB for paths up to ≈ 300 ns
/// (TDL-A/B nominal), while still averaging ±2 pilots at 4 users and 15 kHz spacing.
inline constexpr double kAutoSmoothingHz = 120e3;

/// Pilots averaged on each side under "auto": ⌊kAutoSmoothingHz / pilot spacing⌋, with the
/// pilot spacing of one user K / min(P, K) subcarriers (K users, P pilot symbols). 16×4 →
/// 2, 32×8 and 128×8 → 1, 64×16 → 0 (a fixed ±2 pilots at 16 users averaged ±480 kHz:
/// BER 5e-4 at 25 dB on TDL-A).
int auto_smoothing(const ofdm::numerology& n, int users) noexcept;

}  // namespace amimo::pipeline
