#pragma once
// Linear MIMO detection (ZF and MMSE) with every solve through the solver interface.
//
//   ZF:   (HᴴH) ŝ = Hᴴ y            MMSE: (HᴴH + N0/Es·I) ŝ = Hᴴ y
//
// Stream quality comes from the filter actually applied, never from a formula that
// assumes an exact solve. With W the filter the solver produced (per-block: W = X Hᴴ with
// X the solution of A X = I when there are fewer users than antennas — K right-hand sides,
// not N — else the solution of A W = Hᴴ; per-vector: W = X Hᴴ, the same solver and
// arithmetic as every per-vector solve) and G = W H its effective gains:
//
//   g_k = G_kk (the stream's own gain; MMSE's bias β_k, 1 for exact ZF)
//   SINR_k = |g_k|² / (Σ_{j≠k} |G_kj|² + N0·‖w_k‖²)
//
// Every term is a sum of non-negative numbers, so SINR is never negative and never the
// result of a subtraction that cancels (the old 1/(N0·[A⁻¹]_kk) − 1 form does, in f32 and
// with any inexact analog solve). For exact solves the two agree: exact MMSE gives
// Σ_j |G_kj|² + N0‖w_k‖² = g_k, so SINR = g/(1 − g).
//
// Output scale (assess_stream holds the rule for both detectors):
//   per-block:  ŝ_k = w_k y / g_k — unbiased for the filter applied, whose g_k is known.
//   per-vector: ŝ_k = x̂_k / b_k with b_k the bias of the *exact* filter: 1 for ZF and
//               1 − N0·Re X_kk for MMSE. Every vector is its own solve, so g_k (from the
//               separate identity solve X) is only an estimate of their gain; dividing by it
//               would add X's own error to every vector (an error floor with inexact analog
//               solves), while b_k carries X's error only N0·|ΔX_kk| (0 for ZF). The stated
//               variance then counts the bias left: 1/SINR_k = (|g_k − b_k|² + D_k)/b_k²,
//               D_k = Σ_{j≠k}|G_kj|² + N0‖w_k‖², which equals the per-block form for exact
//               solves (g_k = b_k). A b_k that is not finite and positive falls back to g_k.
// The output's noise-plus-interference variance is 1/SINR_k.
//
// A stream whose quality cannot be known — singular or non-finite channel, failed solve,
// a gain that is zero or not finite — is an *erasure*: output 0, SINR 0, noise variance
// +∞, erased(k) true. Callers count erasures and never score them as decisions. A call
// whose received vectors hold a non-finite sample is refused whole (detect() returns false,
// output 0): the receiver treats that subcarrier as unresolved, its streams erased.

#include <amimo/core/types.h>
#include <amimo/solver/linear_solver.h>

#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace amimo::detect {

enum class detector_kind { zf, mmse };

/// How detection uses the solver (DESIGN.md §2).
enum class detection_mode {
  per_vector,  ///< every received vector is its own solve: A ŝ_t = Hᴴ y_t
  per_block,   ///< one solve per channel for the filter (A X = I, W = X Hᴴ; A W = Hᴴ when
               ///< K ≥ N: the fewer right-hand sides), then ŝ_t = W y_t
};

detector_kind parse_detector_kind(std::string_view name);  ///< "zf" | "mmse"
std::string_view to_string(detector_kind kind) noexcept;
detection_mode parse_detection_mode(std::string_view name);  ///< "per-vector" | "per-block"
std::string_view to_string(detection_mode mode) noexcept;

/// One stream's quality and output scale by the rule above. sinr 0 marks an erasure (scale 0).
struct stream_quality {
  double sinr = 0.0;
  cf64 scale{};  ///< multiplies the filter's (per-block) or solve's (per-vector) output
};

/// g: G_kk of the applied filter; disturbance: Σ_{j≠k}|G_kj|² + N0‖w_k‖²; x_kk: Re X_kk of the
/// solver's A⁻¹ (per-vector mode, MMSE); resolved: the channel and solve were usable.
/// |g|² is fma(Re g, Re g, (Im g)²) and 1/g is conj(g)/|g|²; a gain must be finite with
/// |g|² a normal double (|g| ≥ 1.5e-154) or the stream is erased.
stream_quality assess_stream(detector_kind kind, detection_mode mode, double n0, cf64 g, double disturbance,
                             double x_kk, bool resolved) noexcept;

/// assess_stream in per-block mode for `count` streams at once (the batch detector's lanes:
/// g = g_re + i·g_im, resolved 0 or 1): sinr, noise variance (1/sinr, kErased when erased)
/// and the scale's parts, bit for bit assess_stream's, in one loop the compiler vectorises.
void assess_streams_per_block(int count, const double* g_re, const double* g_im, const double* disturbance,
                              const unsigned char* resolved, double* sinr, double* noise_variance, double* scale_re,
                              double* scale_im) noexcept;

struct channel_report {
  bool resolved = true;  ///< false: the channel matrix was unusable; all streams are erased
  int erased_streams = 0;  ///< streams whose quality cannot be known (see erased())
};

class linear_detector {
 public:
  /// The solver is borrowed and must outlive the detector. Buffers are sized here for the
  /// largest shapes, so set_channel()/detect() do not allocate. Throws config_error for
  /// ZF with more users than antennas.
  linear_detector(detector_kind kind, detection_mode mode, solver::linear_solver& solver,
                  int antennas, int users, int max_vectors);

  /// Loads the channel h (antennas × users) and the noise variance n0 (Es = 1).
  channel_report set_channel(cmat_cref h, double n0);

  /// Equalises received vectors y (antennas × T, T ≤ max_vectors) into s_hat (users × T).
  /// Returns false when the solver failed for this call or y holds a non-finite sample
  /// (s_hat is then 0).
  bool detect(cmat_ref s_hat, cmat_cref y);

  /// Post-detection SINR per stream (linear) for the current channel; 0 for an erasure.
  std::span<const double> sinr() const noexcept { return sinr_; }
  /// Post-detection noise variance per stream for the unit-energy symbol, 1/SINR (+∞ for
  /// an erasure).
  std::span<const double> noise_variance() const noexcept { return noise_variance_; }
  /// Whether stream k is an erasure for the current channel (its output is 0 and must not
  /// be scored as a decision).
  bool erased(int k) const noexcept { return noise_variance_[static_cast<std::size_t>(k)] == kErased; }
  /// The effective gain matrix G = W H of the filter applied for the current channel.
  const cmat& effective_gains() const noexcept { return gains_; }

  static constexpr double kErased = std::numeric_limits<double>::infinity();

 private:
  void compute_stream_quality(bool resolved);
  void equalise(cmat_ref s_hat, cmat_cref y) const;  // per-block: ŝ = W' y (W' unbiased)

  detector_kind kind_;
  detection_mode mode_;
  solver::linear_solver& solver_;
  int antennas_;
  int users_;
  double n0_ = 1.0;
  bool resolved_ = false;
  cmat h_;            // antennas × users
  cmat gram_;         // users × users: HᴴH (+ N0 I)
  cmat h_adjoint_;    // users × antennas
  cmat filter_;       // users × antennas: W as solved, then scaled to W' = diag(1/g) W
  cmat filter_t_;     // W'ᵀ, antennas × users (columns contiguous for detect())
  cmat inverse_;      // users × users: X = A⁻¹ (per-vector mode)
  cmat identity_;     // users × users
  cmat gains_;        // users × users: G = W H
  cmat matched_;      // users × max_vectors: Hᴴ y
  std::vector<cf64> inverse_gain_;  // output scale per stream (assess_stream; 0 for an erasure)
  std::vector<double> sinr_;
  std::vector<double> noise_variance_;
};

}  // namespace amimo::detect
