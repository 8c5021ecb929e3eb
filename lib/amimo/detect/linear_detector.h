#pragma once
// Linear MIMO detection (ZF and MMSE) with every solve through the solver interface.
//
//   ZF:   (HᴴH) ŝ = Hᴴ y                     SINR_k = (Es/N0) / [(HᴴH)⁻¹]_kk
//   MMSE: (HᴴH + N0/Es·I) ŝ = Hᴴ y, unbiased   SINR_k = 1 / (N0/Es·[(HᴴH + N0/Es·I)⁻¹]_kk) − 1
//
// The MMSE output is divided by its bias β_k = 1 − N0/Es·[A⁻¹]_kk so hard decisions on
// QAM are unbiased. A stream that cannot be resolved (singular channel, failed solve) is
// output as 0 with SINR 0 (noise variance +∞), counted, never an exception.

#include <amimo/core/types.h>
#include <amimo/solver/linear_solver.h>

#include <span>
#include <string_view>
#include <vector>

namespace amimo::detect {

enum class detector_kind { zf, mmse };

/// How detection uses the solver (DESIGN.md §2).
enum class detection_mode {
  per_vector,  ///< every received vector is its own solve: A ŝ_t = Hᴴ y_t
  per_block,   ///< one solve per channel for the filter, A W = Hᴴ, then ŝ_t = W y_t
};

detector_kind parse_detector_kind(std::string_view name);  ///< "zf" | "mmse"
std::string_view to_string(detector_kind kind) noexcept;
detection_mode parse_detection_mode(std::string_view name);  ///< "per-vector" | "per-block"
std::string_view to_string(detection_mode mode) noexcept;

struct channel_report {
  bool resolved = true;  ///< false: the channel matrix was unusable; all streams are 0
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
  /// Returns false when the solver failed for this call (s_hat is then 0).
  bool detect(cmat_ref s_hat, cmat_cref y);

  /// Post-detection SINR per stream (linear) for the current channel.
  std::span<const double> sinr() const noexcept { return sinr_; }
  /// Post-detection noise variance per stream for the unit-energy symbol, 1/SINR.
  std::span<const double> noise_variance() const noexcept { return noise_variance_; }

 private:
  void compute_stream_quality(bool resolved);
  void equalise(cmat_ref s_hat, cmat_cref y) const;  // per-block: ŝ = diag(1/β) W y

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
  cmat filter_;       // users × antennas (per-block mode)
  cmat filter_t_;     // its transpose, antennas × users (columns contiguous for detect())
  cmat inverse_;      // users × users: A⁻¹ (diagonal used)
  cmat identity_;     // users × users
  cmat matched_;      // users × max_vectors: Hᴴ y
  std::vector<double> bias_;  // MMSE bias β_k (1 for ZF)
  std::vector<double> inverse_bias_;  // 1/β_k
  std::vector<double> sinr_;
  std::vector<double> noise_variance_;
};

}  // namespace amimo::detect
