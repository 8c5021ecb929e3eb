#pragma once
// The user side of the uplink and the air in between: K users' OFDM frames through a
// frequency-selective MIMO channel, with per-user timing and carrier-frequency offsets and
// AWGN, as N antenna sample streams.
//
// The channel is applied per subcarrier, Y_n(f) = Σ_k H_nk(f) X_k(f) with
// H(f) = Σ_l G_l e^{−j2π f d_l / n} at the taps' exact (possibly fractional) delays d_l —
// the frequency response of the continuous-time channel sampled on the subcarriers, as
// Sionna and MATLAB's nrTDLChannel compute it in the frequency domain. This is exactly the
// time-domain convolution as the receiver's FFT window sees it while every delay (channel
// taps + timing offset) stays inside the cyclic prefix. Time variation: the channel takes
// model.steps_per_frame() states per frame; OFDM symbol s of S uses state ⌊s·steps/S⌋, so a
// model stepping once per symbol changes on every symbol (no inter-carrier interference is
// modelled inside a symbol), and a block-fading model holds one state for the frame. The
// responses of one state come from one matrix product per block of antennas, in single
// precision (the output is cf32): H (used × K per antenna) = Eᵀ (used × L) · G (L × K per
// antenna), E_lu = e^{−j2π f_u d_l / n} precomputed, G the block's tap gains; a time-invariant model (channel.time_invariant(), e.g.
// no Doppler) has its response computed once. Cost per channel state: antennas · users ·
// taps · used complex multiply-adds (32×8, TDL-C's 24 taps, 300 subcarriers: 1.84 M; a state
// per symbol, 14 per 1 ms frame: 25.8 M per ms — more than two cores do in real time; see
// README). A timing offset τ_k (samples, may be fractional) is the delay's phase ramp
// exp(−j2π f τ_k / n) on user k's subcarriers (applied to X_k). A
// carrier-frequency offset rotates user k's time-domain signal by exp(j2π ε_k t / fs) with
// t the absolute sample index, so the phase is continuous across frames (it causes ICI and
// a phase drift the receiver does not correct: see README). Noise: CN(0, N0) per sample,
// N0 = 10^(−snr_db/10) (unitary transforms: the same N0 per subcarrier), drawn from a stream
// seeded per (seed, frame, antenna).
//
// Threads (emulator_options::threads): fixed blocks of 4 antennas are spread over a pool,
// each block's response product, IFFTs and noise computed by one thread from data that does
// not depend on which; the output is bit-identical for any thread count.
//
// Time-domain option (emulator_options::time_domain): each user's time-domain signal (CP,
// timing ramp and CFO included) is convolved with the channel's band-limited FIR
// (channel/fractional_delay.h: windowed-sinc fractional delays, F[j] = Σ_l G_l c_l[j]), the
// FIR of the state of the OFDM symbol the output sample belongs to, continuous across
// symbols and frames (history kept; the sinc's pre-cursor reads the next frame's preamble,
// which is known). Unlike the per-subcarrier path it produces the inter-symbol interference
// of taps beyond the CP. Cost per sample: antennas × users × FIR length complex MACs. The
// FIR must meet channel/fractional_delay.h's accuracy contract on the used band
// |f| ≤ (used/2)/fft_size (single-tap error ≤ 1e-3, half-width 8 … 256): the constructor
// throws config_error otherwise (W = 16 covers used ≤ 0.84 · fft_size, W = 8 ≤ 0.69).
// last_response() and symbol_response() still give the model's H(f), which the applied FIR
// matches to that bound; they are test and genie aids, not used by the receiver.

#include <amimo/channel/fractional_delay.h>
#include <amimo/channel/selective_channel.h>
#include <amimo/core/normal_stream.h>
#include <amimo/core/rng.h>
#include <amimo/core/thread_pool.h>
#include <amimo/core/types.h>
#include <amimo/ofdm/fft.h>
#include <amimo/ofdm/frame.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace amimo::ofdm {

/// Where each user's data bits come from: by default the seeded PRBS
/// (frame_layout::data_bits); the coded link (payload/source.h) puts LDPC transport blocks
/// there instead.
class frame_data_source {
 public:
  virtual ~frame_data_source() = default;
  /// out: frame_layout::bits_per_user() bits of `user` in frame `frame_index`.
  virtual void data_bits(std::span<bit> out, int user, std::uint64_t frame_index) = 0;
};

struct user_impairments {
  std::vector<double> cfo_hz;                 ///< per user, empty = none
  std::vector<double> timing_offset_samples;  ///< per user, empty = none; ≥ 0
};

struct emulator_options {
  bool time_domain = false;                 ///< FIR in time (windowed sinc) instead of H(f) per subcarrier
  channel::fractional_delay_options fir{};  ///< the FIR's half-width and window
  /// Threads of the per-subcarrier path, the caller included (1: the caller only; 0: one per
  /// core). The output does not depend on it. The time-domain path runs on the caller.
  int threads = 1;
};

class uplink_emulator {
 public:
  /// The channel model is borrowed; its antennas()/users() must match. Throws config_error
  /// for mismatched sizes, impairment lists of the wrong length, or (time domain) an FIR
  /// that misses the used band's response (channel::validate_fractional_delay).
  uplink_emulator(const frame_layout& layout, channel::selective_channel_model& channel,
                  double snr_db, std::uint64_t seed, user_impairments impairments = {},
                  emulator_options options = {});

  int antennas() const noexcept { return antennas_; }
  /// Data bits from `source` (borrowed; null: the PRBS) from the next frame on.
  void set_data_source(frame_data_source* source) noexcept { data_source_ = source; }
  double noise_variance() const noexcept { return n0_; }

  /// Writes frame `frame_index` (frames must be generated in order for Doppler and CFO
  /// continuity) into antennas() buffers of frame_length() samples. Does not allocate.
  void generate(std::span<cf32* const> out, std::uint64_t frame_index);

  /// The channel's frequency response used for the last OFDM symbol of the last frame on
  /// used subcarrier u (antennas × users, timing-offset ramps included; double precision,
  /// computed on the first call after generate(): not thread-safe): for tests and genie
  /// comparisons. With a channel that varies within the frame, symbol_response() holds the
  /// response of every symbol when record_symbol_responses(true) was set.
  Eigen::Map<const cmat> last_response(int u) const noexcept;
  /// Keeps the response of every OFDM symbol of the next frames (tests; costs memory
  /// symbols × used × antennas × users). Allocates once here.
  void record_symbol_responses(bool on);
  /// Response of symbol s (0 = preamble) of the last frame on used subcarrier u, when
  /// recording; otherwise an empty map.
  Eigen::Map<const cmat> symbol_response(int s, int u) const noexcept;

 private:
  using cfmat = Eigen::Matrix<cf32, Eigen::Dynamic, Eigen::Dynamic>;
  static constexpr int antenna_block = 4;
  // Per-thread scratch of the per-subcarrier path.
  struct worker {
    worker(int fft_size, int symbols);
    fft_plan ifft;
    // IFFT inputs of every (symbol, antenna of a block), fft size apart from `inputs` (64-byte
    // aligned inside inputs_storage); only the used bins are ever written, the rest stay 0.
    std::vector<cf32> inputs_storage;
    cf32* inputs = nullptr;
    std::vector<cf32> body;    // one unscaled IFFT output
    cfmat response;            // used × (antenna_block · users): a block's H(f), one state
    std::vector<float> noise;  // 2 × frame length standard normals (time-domain path)
    std::vector<const cf32*> h;  // per (antenna of the block, user of a group): response column
    std::vector<const cf32*> x;  // per user of a group: its symbol row
    std::vector<bit> bits;     // one user's data bits
    std::vector<cf64> data;    // one user's data symbols
    normal_stream noise_gen;
  };

  void build_user_symbols(std::uint64_t frame_index);
  // User k's grid (preamble, pilots, data) into symbols_ and, scaled by the IFFT's 1/√n with
  // its timing ramp, into user_grid_.
  void build_user(int k, worker& w, std::uint64_t frame_index);
  // response_ (double) from taps_, timing ramps included.
  void response_from_taps();
  // taps_ from the channel's current state, then response_from_taps().
  void compute_response();
  // Walks the frame's channel states: slot_taps_ per distinct state, symbol_slot_ per symbol,
  // taps_ = the last state's taps, recorded_ when recording.
  void collect_states();
  // Antennas [block · antenna_block, +antenna_block) of the frame (per-subcarrier path):
  // responses, user sums, IFFTs, CP and CFO, added to the antennas' noise already in `out`.
  // The blocks are fixed: thread count does not change them.
  void generate_block(int block, worker& w, cf32* const* out, std::uint64_t frame_index);
  // One pool item of the per-subcarrier path's frame (users, then antennas' noise, then
  // antenna blocks, which wait for both: they read the grids and add into the noise).
  void run_item(std::size_t item, worker& w);
  // The noise CN(0, N0) of antenna a: written to dst (write) or added to it.
  void antenna_noise(int a, worker& w, cf32* dst, std::uint64_t frame_index, bool write);
  // One OFDM symbol of user k into dst (symbol_length samples, CP first): the grid row
  // `row` of symbols_ (or the preamble when row < 0), timing ramp and CFO applied; t0 the
  // absolute index of its first sample.
  void user_symbol_waveform(int k, int row, double t0, cf64* dst);
  void generate_time_domain(std::span<cf32* const> out, std::uint64_t frame_index);

  const frame_layout& layout_;
  channel::selective_channel_model& channel_;
  int antennas_;
  int users_;
  double n0_;
  std::uint64_t seed_;
  user_impairments impairments_;
  rng channel_gen_;
  fft_plan ifft_;                 // time-domain path
  cmat phases_;                   // taps × used: e^{−j2π f_u d_l / n}
  cfmat phases_t_;                // used × taps: phases_ᵀ in single precision
  cmat ramps_;                    // users × used: timing-offset ramps (empty: none)
  cmat taps_;                     // (antennas · users) × taps: vec(G_l) per column, last state
  mutable cmat response_;         // (antennas · users) × used: vec(H(f_u)) per column
  mutable bool response_stale_ = false;
  std::vector<cmat> recorded_;    // per symbol, when recording
  std::vector<cfmat> slot_taps_;  // per distinct state of a frame: taps × (antennas · users), column a·K + k
  std::vector<int> symbol_slot_;  // per symbol: its slot
  cfmat static_response_;         // used × (antennas · users), column a·K + k; time-invariant models
  bool static_ready_ = false;
  std::vector<cf32> user_grid_;   // users × symbols × used: X_k(s, f) (timing ramps applied)
  std::vector<std::vector<int>> group_users_;  // per group: its users
  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<thread_pool> pool_;
  cf32* const* job_out_ = nullptr;  // the frame being generated (pool jobs)
  std::uint64_t job_frame_ = 0;
  int job_users_ = 0;               // user items of the frame (0: built before the pool)
  std::atomic<int> prerequisites_done_{0};  // user and noise items finished (block items wait for all)
  std::vector<cf64> symbols_;     // users × (symbols_per_frame × used): grid per user
  std::vector<int> groups_;       // user → group (0: users without CFO; g > 0: CFO user)
  int group_count_ = 1;
  frame_data_source* data_source_ = nullptr;
  emulator_options options_;
  channel::fir_span span_;        // time domain: FIR indices [first, first + length)
  int history_ = 0;               // past samples the FIR reads (first + length − 1, ≥ 0)
  cmat x_;                        // users × (history + frame + symbol): transmitted signals
  cmat fir_;                      // (antennas · users) × FIR length
  cmat toeplitz_;                 // FIR length × symbol length
  cmat block_;                    // antennas × symbol length
  std::vector<double> coefficients_;
  std::vector<cf64> wave_;        // one user symbol (scratch)
};

}  // namespace amimo::ofdm
