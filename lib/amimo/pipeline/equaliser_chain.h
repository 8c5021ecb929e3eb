#pragma once
// The receiver's equaliser stage: one detector × backend chain (ZF or MMSE through one
// solver backend) over ranges of used subcarriers of a frame. The receiver runs one chain
// per configured detector × backend pair on the same frames, side by side.
//
// A chain owns, per worker thread, its accounting solver and detector (backends are not
// thread-safe): chains whose backend has a native batch form (solver::has_native_batch:
// digital, remote) detect through batch_detector on views straight into the frame grid,
// the channel estimates and the output arrays, one call per run of consecutive FFT bins;
// the others (analog) through linear_detector one subcarrier at a time. With several pilot
// groups (numerology::additional_pilots) the data symbols come in time segments
// (channel_estimator.h), each detected with its own channel: a blended segment's channel
// is formed per worker over the range (no allocation), and each segment is its own
// detect()/set_channel(), so per-block mode solves one filter per segment per subcarrier
// (the solver stats count them) and per-vector mode still solves one system per received
// vector, with the segment's channel. run() reseeds the
// worker's backend with the seed it is given, so results depend only on (seed, inputs),
// never on which worker runs a range. Buffers are sized at construction: run() does not
// allocate.

#include <amimo/core/types.h>
#include <amimo/detect/batch_detector.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/ofdm/numerology.h>
#include <amimo/pipeline/channel_estimator.h>
#include <amimo/solver/accounting_solver.h>
#include <amimo/solver/solver_factory.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace amimo::pipeline {

struct chain_spec {
  detect::detector_kind detector = detect::detector_kind::mmse;
  solver::solver_spec solver{"digital-f64", {}};
  std::string solver_label;   ///< as entered ("analog:iters=2"); empty: the backend name
  std::string label() const;  ///< "mmse/digital-f64", "mmse/analog:iters=2"
};

/// Inputs of one frame, as the OFDM demodulator and channel estimator lay them out.
struct equaliser_input {
  /// FFT outputs, symbols × antennas rows of fft_size bins, grid_row_stride apart (symbol 0
  /// the preamble, then pilot and data symbols as numerology.h lays them out):
  /// ofdm_demodulator::grid().
  const cf32* grid = nullptr;
  /// Channel estimates per pilot group, groups × used_subcarriers × (antennas × users),
  /// each column-major, in single precision: channel_estimator::responses().
  std::span<const cf32> estimates;
  double noise_variance = 1.0;  ///< N0 per subcarrier (Es = 1)
  /// Which channel each data symbol is detected with: channel_estimator::segments().
  /// Empty: time_segments(layout, hold).
  std::span<const time_segment> segments;
  /// Samples from one antenna's row of the grid to the next (0: fft_size;
  /// ofdm_demodulator::row_stride()).
  std::size_t grid_row_stride = 0;
};

/// Outputs of one frame, per user k, data symbol d, used subcarrier u at
/// k·(data_symbols·used) + d·used + u.
struct equaliser_output {
  std::span<cf64> equalised;
  std::span<double> noise_variance;  ///< per stream, repeated over the data symbols (+∞: erased)
};

/// Counted per time segment: with several segments a subcarrier counts once per segment
/// whose channel failed.
struct equaliser_counts {
  std::uint64_t unresolved_subcarriers = 0;  ///< singular channel or failed solve
  std::uint64_t erased_streams = 0;          ///< (subcarrier, user) streams erased
  /// The backend's accounting of this run alone. Callers add runs up in a fixed order
  /// (the receiver: per frame, by block), so floating-point totals such as modelled
  /// joules do not depend on which worker ran which range.
  solver::solver_stats accounting;
};

class equaliser_chain {
 public:
  /// workers: participants that may call run() concurrently (distinct worker indices);
  /// max_range: the most subcarriers one run() covers; seed: the backends' construction seed.
  /// Throws config_error for bad sizes or specs.
  equaliser_chain(const chain_spec& spec, const ofdm::numerology& n, int antennas, int users,
                  detect::detection_mode mode, int workers, int max_range, std::uint64_t seed);
  ~equaliser_chain();
  equaliser_chain(const equaliser_chain&) = delete;
  equaliser_chain& operator=(const equaliser_chain&) = delete;

  /// Equalises used subcarriers [u0, u1) (u1 − u0 ≤ max_range) with worker `worker`'s
  /// backend reseeded to `seed`, writing their entries of `out`. Distinct workers may run
  /// disjoint ranges at the same time.
  equaliser_counts run(int worker, const equaliser_input& in, std::size_t u0, std::size_t u1, std::uint64_t seed,
                       const equaliser_output& out);

  /// Whether the chain detects through batch_detector (else linear_detector).
  bool batched() const noexcept { return batched_; }

 private:
  struct worker_state;
  // One segment's place in the frame: its first data symbol's grid symbol, its data-symbol
  // count, where its outputs start, and the estimates of [u0, u1) it is detected with.
  struct segment_view {
    std::size_t grid_symbol = 0;
    std::size_t data = 0;
    cf64* equalised = nullptr;
    double* noise_variance = nullptr;
    const cf32* estimates = nullptr;
  };
  segment_view view_of(worker_state& w, const equaliser_input& in, const time_segment& seg, std::size_t u0,
                       std::size_t u1, const equaliser_output& out) const noexcept;
  equaliser_counts run_batched(worker_state& w, const equaliser_input& in, const segment_view& view, std::size_t u0,
                               std::size_t u1);
  equaliser_counts run_linear(worker_state& w, const equaliser_input& in, const segment_view& view, std::size_t u0,
                              std::size_t u1);
  // The estimates of subcarriers [u0, u1) for segment seg: a view into in.estimates, or
  // the blend of two groups written to w's scratch (indexed from u0).
  const cf32* segment_estimates(worker_state& w, const equaliser_input& in, const time_segment& seg, std::size_t u0,
                                std::size_t u1) const noexcept;

  ofdm::numerology n_;
  int antennas_;
  int users_;
  int max_range_;
  bool batched_;
  std::vector<time_segment> default_segments_;  // time_segments(n, hold)
  std::vector<std::unique_ptr<worker_state>> workers_;
};

}  // namespace amimo::pipeline
