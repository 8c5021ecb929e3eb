#pragma once
// Linear MIMO detection over a batch of subcarriers through the batch solver interface
// (solver/batch_solver.h): the channels, received vectors and outputs of many subcarriers
// go in and out in one call; the work runs on compact groups (one SIMD lane per
// subcarrier) in the solver's preferred element type — FP32 end to end for digital-f32.
//
// Semantics are linear_detector's (read its header): per-block mode applies W = A⁻¹Hᴴ,
// solved as A W = Hᴴ or factored (below; linear_detector, one system at a time, forms it
// as X Hᴴ from A X = I when K < N: the same filter up to rounding), per-vector mode solves
// A [X | Ŝ] = [I | Hᴴ Y] (the same per-vector solves and the filter W = X Hᴴ they amount
// to), G = W H, SINR and output scale by assess_stream (in double, from the applied
// filter), and a stream whose quality cannot be known — non-finite or singular channel,
// failed solve, zero or non-finite gain — is an erasure: output 0, SINR 0, noise variance
// +∞. A subcarrier whose received vectors hold a non-finite sample (in the element type the
// detector computes in: an f64 value beyond FLT_MAX counts in f32) is unresolved, every
// stream erased.
//
// A compact backend (digital) is called once per compact group (V lanes, 8 subcarriers in
// f32 with AVX2), so a group's working set stays in L1. A column-major backend (remote,
// per-matrix adapters such as analog) is called once per detect() with every system of
// the call, so a remote backend sends a subcarrier block in one request stream and a
// per-matrix backend sees the systems in subcarrier order. Buffers are sized at
// construction, detect() does not allocate.

#include <amimo/detect/linear_detector.h>
#include <amimo/solver/batch_solver.h>

#include <memory>
#include <span>

namespace amimo::detect {

class batch_detector {
 public:
  /// The solver is borrowed and must outlive the detector. max_batch: the most subcarriers
  /// one detect() call takes. Throws config_error for bad sizes or ZF with more users than
  /// antennas.
  batch_detector(detector_kind kind, detection_mode mode, solver::batch_solver& solver, int antennas, int users,
                 int max_vectors, int max_batch);
  ~batch_detector();
  batch_detector(const batch_detector&) = delete;
  batch_detector& operator=(const batch_detector&) = delete;

  /// Detects count subcarriers: h_m (antennas × users), y_m (antennas × T, T ≤
  /// max_vectors), noise variance n0 (Es = 1) into s_hat_m (users × T). Any element type
  /// and layout (views are read and written in place). Returns the number of subcarriers
  /// not resolved (all their streams erased). A call whose shapes do not fit the detector
  /// (or count > max_batch) resolves nothing and zeroes s_hat where it can.
  int detect(solver::batch_ref s_hat, solver::batch_cref h, solver::batch_cref y, double n0);

  /// Results of the last detect() for subcarrier m of that call.
  bool resolved(int m) const noexcept { return resolved_[static_cast<std::size_t>(m)] != 0; }
  double sinr(int m, int k) const noexcept { return sinr_[index(m, k)]; }
  double noise_variance(int m, int k) const noexcept { return noise_variance_[index(m, k)]; }
  bool erased(int m, int k) const noexcept { return noise_variance(m, k) == linear_detector::kErased; }
  int erased_streams(int m) const noexcept;

  int users() const noexcept { return users_; }
  int antennas() const noexcept { return antennas_; }

  struct engine;  // the compact-group implementation for one element type

 private:
  std::size_t index(int m, int k) const noexcept {
    return static_cast<std::size_t>(m) * static_cast<std::size_t>(users_) + static_cast<std::size_t>(k);
  }

  int antennas_;
  int users_;
  int max_vectors_;
  int max_batch_;
  std::unique_ptr<engine> engine_;
  std::vector<unsigned char> resolved_;  // per subcarrier
  std::vector<double> sinr_;             // per subcarrier × user
  std::vector<double> noise_variance_;   // per subcarrier × user
};

}  // namespace amimo::detect
