#pragma once
// The streaming base-station receiver (amimo-bs's engine): antenna samples in; frame
// synchronisation on the preamble, CP removal, FFT, LS channel estimation with
// interpolation, ZF/MMSE detection through the solver interface (one or several
// detector × backend chains on the same frames, side by side), max-log soft demapping,
// and per frame the LLRs, equalised symbols and noise variances handed to frame sinks
// (frame_sink.h): the scoring sink (per-user BER/EVM against the regenerated PRBS) always,
// others (the LDPC decoder of the coded link) added with add_sink().
//
// Stages: the synchroniser (synchroniser.h: the sample buffer, acquisition on the preamble,
// tracking, per-antenna alignment, NaN/Inf intervals; it releases frames), ofdm_demodulator
// (CP removal, FFT with the window `fft_backoff` samples inside the CP and that shift's
// phase ramp removed, guard-bin N0), channel_estimator, one equaliser_chain per detector ×
// backend chain, soft_demapper (per user and chain), frame_identifier (the frame index:
// the expected one when its known bits match, otherwise found by searching forward), then
// the frame sinks. Stage timings: sync (the step that releases a frame slot), fft,
// estimate, detect, demap (with identification) and sink delivery run through one timing
// decorator (run_stage).
//
// Threads: subcarriers are split into a fixed number of blocks per chain (subcarrier_blocks;
// remote_subcarrier_blocks, when set, for a remote chain; a chain on the compact SIMD kernels has its
// block bounds rounded to multiples of 16 subcarriers, so its lane groups are full), each
// (chain, block) one item on a thread pool, the remote chains' items first so their round
// trips overlap the others' arithmetic;
// every chain owns one backend per worker (backends are not thread-safe) and backends are
// reseeded per (frame, block, chain), so results do not depend on the thread count.
// Frames overlap (pipeline_frames, with two or more threads): the front end (sync, CP
// removal/FFT, channel estimation) of frame n+1 runs on the calling thread while the back
// end (detection, demapping, identification, sinks) of frame n runs as a task of the pool,
// through a ring of two pre-allocated frame slots. Back ends run one at a time in frame
// order; a thread waiting for pool work runs any pool items meanwhile (thread_pool::help),
// so when the pool's workers are busy the calling thread runs the queued back end itself.
// Results are bit-identical with and without overlap and for any thread count. The caller
// sees the last frame's results after flush() (finish(), stats() and add_sink() flush); an
// exception from the back end (a sink's, say) is rethrown by the next commit(), finish()
// or flush(). No allocation per frame.

#include <amimo/core/thread_pool.h>
#include <amimo/core/types.h>
#include <amimo/metrics/llr_quality.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/frame.h>
#include <amimo/pipeline/channel_estimator.h>
#include <amimo/pipeline/equaliser_chain.h>
#include <amimo/pipeline/frame_identifier.h>
#include <amimo/pipeline/frame_sink.h>
#include <amimo/pipeline/soft_demapper.h>
#include <amimo/pipeline/synchroniser.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace amimo::pipeline {

struct receiver_config {
  static constexpr int kAutoSmoothing = -2;  ///< estimation_smoothing chosen from the pilot spacing
  ofdm::numerology layout;
  int antennas = 16;
  int users = 4;
  modem::modulation modulation = modem::modulation::qam16;
  detect::detection_mode mode = detect::detection_mode::per_block;
  std::vector<chain_spec> chains{chain_spec{}};
  std::uint64_t seed = 1;       ///< the transmitter's PRBS seed; also seeds the backends
  int threads = 0;              ///< 0: one per core
  int subcarrier_blocks = 12;   ///< blocks per frame of each chain (fixed: results independent of threads)
  /// Subcarrier blocks per frame of chains whose backend answers over the network
  /// (solver::latency_bound: remote). Each block is one solve call, sent as batch-chunk
  /// requests with `window` in flight, and a thread waits for its round trips: fewer,
  /// larger blocks mean fewer round trips per frame (2: about twice the loopback real-time
  /// factor of 12, README). 0: subcarrier_blocks. Fixed like it (default 2). With two
  /// items per frame one worker may get its first remote item long after the first frames;
  /// its remote solver made its connection's first round trip at construction (reserve()),
  /// so that first item does not allocate either.
  int remote_subcarrier_blocks = 2;
  int estimation_smoothing = kAutoSmoothing; ///< pilots averaged each side (−1: whole band; auto:
                                             ///< auto_smoothing(), ±120 kHz of pilots)
  /// Channel per data symbol from the pilot groups' estimates (channel_estimator.h); with
  /// the front-only layout (layout.additional_pilots = 0) both modes are the same.
  time_interpolation interpolation = time_interpolation::linear;
  int fft_backoff = 4;          ///< FFT window start inside the CP, samples
  double sync_threshold = 0.1;  ///< normalised preamble correlation to accept a frame
  int frame_search = 4096;      ///< frames searched forward for the PRBS frame index (≤ kMaxFrameSearch,
                                ///< and at most 2^18 / users candidates are tried)
  std::size_t known_bits = 0;   ///< leading data bits per user that are the PRBS (0: all, PRBS mode;
                                ///< the coded link's frame header otherwise; a multiple of bits/symbol)
  bool pipeline_frames = true;  ///< overlap frame n's back end with frame n+1's front end (≥ 2 threads)
};

/// Upper bound of receiver_config::frame_search (about 16 s of 1 ms frames): the search is
/// bounded work per frame whatever the configuration says.
inline constexpr int kMaxFrameSearch = 16384;

/// The estimation smoothing the receiver uses: config.estimation_smoothing, or for
/// kAutoSmoothing auto_smoothing() of the layout (channel_estimator.h).
int resolved_smoothing(const receiver_config& config) noexcept;

/// Validates sizes and chains (throws config_error naming the problem).
void validate(const receiver_config& config);

enum class stage : int { sync, fft, estimate, detect, demap, sink, count };
std::string_view to_string(stage s) noexcept;

/// Measured latency samples of one stage (seconds per frame), kept in a fixed ring.
class latency_record {
 public:
  explicit latency_record(std::size_t capacity = 8192) : samples_(capacity, 0.0) {}
  void add(double seconds) noexcept;
  /// Quantile q in [0, 1] of the kept samples (allocates: for reporting, not the hot path).
  double quantile(double q) const;
  std::uint64_t count() const noexcept { return count_; }
  double total() const noexcept { return total_; }

 private:
  std::vector<double> samples_;
  std::uint64_t count_ = 0;
  double total_ = 0.0;
};

/// Per chain, scored by amimo's one rule (metrics/llr_quality.h): BER from hard decisions
/// over the bits of streams that were not erased; erased bits counted beside it; LLR
/// quality (sign BER, calibration) separately.
struct chain_stats {
  std::string label;
  std::uint64_t frames = 0;           ///< frames identified (scored and handed to the sinks)
  /// Frames this chain detected, identified or not: `solver` holds the costs of all of them
  /// (an unmatched frame is solved before it can be known unmatched), so per-frame solver
  /// time and energy divide by this count, never by `frames`.
  std::uint64_t detected_frames = 0;
  std::uint64_t bits = 0;         ///< bits scored (not erased)
  std::uint64_t bit_errors = 0;   ///< hard-decision errors among them
  std::uint64_t erased_bits = 0;  ///< bits of erased streams: never scored as decisions
  std::vector<std::uint64_t> user_bits;
  std::vector<std::uint64_t> user_errors;
  std::vector<std::uint64_t> user_erased_bits;
  std::vector<double> user_error_energy;  ///< Σ|ŝ − s|² (Es = 1) over scored symbols: EVM² × symbols
  std::vector<std::uint64_t> user_symbols;
  std::uint64_t unresolved_subcarriers = 0;  ///< singular channel or failed solve
  std::uint64_t erased_streams = 0;          ///< (subcarrier, user) streams erased, summed over frames
  metrics::llr_quality llr;                  ///< soft-output quality over the scored bits
  solver::solver_stats solver;               ///< merged over workers
  double ber() const noexcept;
  double user_ber(int k) const noexcept;
  double user_evm(int k) const noexcept;  ///< RMS EVM (fraction, data-aided)
  double evm() const noexcept;            ///< RMS EVM over all users
};

/// The synchroniser's counters (sync_stats: samples, acquisitions, sync losses, discarded,
/// NaN/Inf samples and frames, misaligned channels, unaligned frames, last sync metric) and
/// the receiver's own.
struct receiver_stats : sync_stats {
  std::uint64_t frames = 0;             ///< frames detected and counted
  std::uint64_t unmatched_frames = 0;   ///< frames whose PRBS index could not be found
  std::uint64_t missed_frames = 0;      ///< frame indices skipped (lost in transport)
  std::uint64_t last_frame_index = 0;
  double noise_variance = 0.0;          ///< last estimate from the guard bins (measured)
  double snr_estimate = 0.0;            ///< last Es/N0 estimate (linear): mean |Ĥ|² from the
                                        ///< pilots over the guard-bin N0 (measured; gain-free)
  double busy_seconds = 0.0;            ///< processing time (measured, wall)
  std::vector<chain_stats> chains;
  std::array<latency_record, static_cast<int>(stage::count)> latency;
};

class receiver {
 public:
  explicit receiver(const receiver_config& config);
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  const receiver_config& config() const noexcept { return config_; }
  const ofdm::frame_layout& layout() const noexcept { return layout_; }

  /// Room for up to `max` new samples per antenna: pointers to write into, then commit().
  /// max is clipped to the free space (at least one frame is always available).
  std::span<cf32* const> input(std::size_t& max);
  /// Takes `count` written samples and processes every complete frame (the last one's back
  /// end may still be running on return: flush()). Rethrows a back-end exception.
  void commit(std::size_t count);
  /// Convenience: copies and commits (used by tests and file sources).
  void push(std::span<const cf32* const> channels, std::size_t count);
  /// End of stream: the last frame is decoded without waiting for a next preamble, and every
  /// frame in flight is finished (flush()).
  void finish();
  /// Finishes every frame in flight: on return every frame committed so far has reached the
  /// stats and the sinks. Rethrows an exception the back end raised (after which the
  /// receiver's results are incomplete: destroy it). Cheap when nothing is in flight.
  void flush();

  /// Adds a frame sink (borrowed: it must outlive the receiver's processing); called after
  /// the built-in scoring sink, in the order added. Flushes first.
  void add_sink(frame_sink& sink);

  /// The statistics of every frame committed so far (flushes first).
  const receiver_stats& stats();
  /// Frames identified and counted so far, without flushing (the frame in flight not yet
  /// counted): for a stop condition in a streaming loop. Any thread.
  std::uint64_t frames_counted() const noexcept { return frames_counted_.load(std::memory_order_relaxed); }

 private:
  struct frame_slot;  // one frame's front-end product: FFT grid, N0, channel estimate
  void commit_checked(std::size_t count, bool known_finite);  // known_finite: push() checked the samples
  void process();
  void take(const sync_verdict& v);
  void process_frame(std::span<const cf32* const> rows);
  void front_end(frame_slot& slot);
  void back_end(const frame_slot& slot);
  void wait_back_end();
  void detect_item(int worker, std::size_t item);
  void estimate(frame_slot& slot);
  void demap_user(std::size_t k);
  bool count_frame();
  void deliver_user(std::size_t k);
  void deliver();
  template <class F>
  void run_stage(stage s, F&& f);

  receiver_config config_;
  ofdm::frame_layout layout_;
  soft_demapper demapper_;
  std::unique_ptr<thread_pool> pool_;
  std::vector<std::unique_ptr<equaliser_chain>> chains_;  // one per chain_spec

  synchroniser sync_;  // owns the sample buffer

  // The frame ring: the front end fills slots_[front_slot_] while the back end works on
  // the other one (back_slot_).
  std::array<std::unique_ptr<frame_slot>, 2> slots_;
  std::size_t front_slot_ = 0;
  const frame_slot* back_slot_ = nullptr;
  bool pipelined_ = false;
  bool back_end_in_flight_ = false;
  thread_pool::job back_job_;
  std::function<void(int, std::size_t)> back_task_;  // back_end(*back_slot_), made once

  // Back-end working set.
  std::vector<std::vector<cf64>> equalised_;   // per chain: users × (data × used)
  std::vector<std::vector<double>> variance_;  // per chain: users × (data × used)
  std::vector<std::vector<float>> llr_;        // per chain: users × bits_per_user
  // Detection items: (chain, block), remote chains first; a chain's blocks and where its
  // per-block results start in the arrays below (chain by chain, block order).
  struct detect_unit {
    std::size_t chain = 0;
    std::size_t block = 0;
  };
  std::vector<detect_unit> detect_items_;
  std::vector<std::size_t> chain_blocks_;
  std::vector<std::size_t> chain_first_;
  std::vector<std::size_t> block_bounds_;  // per chain, blocks + 1 subcarrier bounds (at chain_first_[c] + c)
  static constexpr std::size_t kLaneAlignment = 16;  // compact chains' block bounds: multiples of this
  std::vector<std::uint64_t> block_unresolved_;  // per (chain, block)
  std::vector<std::uint64_t> block_erased_;      // per (chain, block): erased streams
  std::vector<solver::solver_stats> block_accounting_;  // per (chain, block): this frame's backend accounting
  std::uint64_t processed_frames_ = 0;  // frames detected (seeds the backends)
  receiver_stats stats_;
  std::atomic<std::uint64_t> frames_counted_{0};
  frame_identifier identifier_;
  std::unique_ptr<frame_sink> scoring_;
  std::vector<frame_sink*> sinks_;  // scoring_ first
  frame_info frame_info_;
};

}  // namespace amimo::pipeline
