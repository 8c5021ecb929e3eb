// The batch detector; its engine (compact-group kernels) is compiled once per SIMD target
// (Highway's foreach_target.h re-includes this file; solver/simd_target.h) and chosen at
// run time when the detector is built.

#ifndef AMIMO_DETECT_BATCH_DETECTOR_ONCE_
#define AMIMO_DETECT_BATCH_DETECTOR_ONCE_
#include <amimo/core/error.h>
#include <amimo/detect/batch_detector.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace amimo::detect {

struct batch_detector::engine {
  virtual ~engine() = default;
  // Fills resolved/sinr/noise_variance for the count systems; returns unresolved systems.
  virtual int run(solver::batch_ref s_hat, solver::batch_cref h, solver::batch_cref y, double n0,
                  std::span<unsigned char> resolved, std::span<double> sinr, std::span<double> noise_variance) = 0;
};
}  // namespace amimo::detect
#endif  // AMIMO_DETECT_BATCH_DETECTOR_ONCE_

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "amimo/detect/batch_detector.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include <amimo/solver/compact_io.h>
#include <amimo/solver/compact_kernels.h>

HWY_BEFORE_NAMESPACE();
namespace amimo::detect::HWY_NAMESPACE {
namespace {

template <typename Real>
class engine_impl final : public batch_detector::engine {
  using V = simd::HWY_NAMESPACE::lanes<Real>;
  static constexpr int L = V::size;

 public:
  engine_impl(detector_kind kind, detection_mode mode, solver::batch_solver& solver, int antennas, int users,
              int max_vectors, int max_batch)
      : kind_(kind), mode_(mode), solver_(solver), n_(antennas), k_(users), t_max_(max_vectors),
        whole_(solver.preference().format != solver::batch_format::compact),
        slots_(whole_ ? (max_batch + L - 1) / L : 1),
        h_(slots(n_ * k_)), y_(slots(n_ * t_max_)), a_(slots(k_ * k_)), r_(slots(k_ * k_)), hh_(slots(k_ * n_)),
        b_(slots(k_ * std::max(n_, k_ + t_max_))), x_(whole_ ? slots(k_ * std::max(n_, k_ + t_max_)) : 0), w_(size(k_ * n_)),
        g_(size(k_ * k_)), s_(size(k_ * t_max_)), wnorm_(static_cast<std::size_t>(k_)),
        gain_(static_cast<std::size_t>(2 * k_)),
        wnorm_lanes_(static_cast<std::size_t>(k_ * L)), disturbance_lanes_(static_cast<std::size_t>(k_ * L)),
        quality_(static_cast<std::size_t>(6 * k_ * L)), quality_ok_(static_cast<std::size_t>(k_ * L)),
        bad_h_(static_cast<std::size_t>(slots_)), bad_y_(static_cast<std::size_t>(slots_)),
        status_(static_cast<std::size_t>(slots_ * L)) {}

  int run(solver::batch_ref s_hat, solver::batch_cref h, solver::batch_cref y, double n0,
          std::span<unsigned char> resolved, std::span<double> sinr, std::span<double> noise_variance) override {
    const int count = solver::shape_of(h).count;
    const int t = solver::shape_of(y).cols;
    const int groups = (count + L - 1) / L;
    const int rhs = right_hand_sides(t);
    int unresolved = 0;
    if (whole_) {
      // One solver call for every system: a remote backend sends the block at once, a
      // per-matrix backend runs its systems in order.
      for (int g = 0; g < groups; ++g) {
        solver::compact::HWY_NAMESPACE::prefetch_group<V>(y, g + 1);
        prepare(g, g, h, y, t, n0);
      }
      const std::span<solver::batch_status> status(status_.data(), static_cast<std::size_t>(count));
      solve(status, count, rhs, 0);
      for (int g = 0; g < groups; ++g) {
        unresolved += finish(g, g, status.subspan(static_cast<std::size_t>(g * L)), s_hat, t, n0, resolved, sinr,
                             noise_variance, count);
      }
      return unresolved;
    }
    for (int g = 0; g < groups; ++g) {
      const int used = solver::compact::HWY_NAMESPACE::lanes_used(count, g, L);
      // The next group's received vectors are asked for while this group is worked on.
      solver::compact::HWY_NAMESPACE::prefetch_group<V>(y, g + 1);
      prepare(g, 0, h, y, t, n0);
      const std::span<solver::batch_status> status(status_.data(), static_cast<std::size_t>(used));
      solve(status, used, rhs, 0);
      unresolved += finish(g, 0, status, s_hat, t, n0, resolved, sinr, noise_variance, count);
    }
    return unresolved;
  }

 private:
  // Loads group g of the call into work slot `slot` and forms A and B there.
  void prepare(int g, int slot, const solver::batch_cref& h, const solver::batch_cref& y, int t, double n0) {
    const bool n0_ok = std::isfinite(n0) && n0 >= 0.0;
    const bool per_block = mode_ == detection_mode::per_block;
    const bool factored = factored_for(t);
    const int rhs = right_hand_sides(t);
    V* hs = at(h_, slot, n_ * k_);
    V* ys = at(y_, slot, n_ * t_max_);
    V* as = at(a_, slot, k_ * k_);
    V* hhs = at(hh_, slot, k_ * n_);
    V* bs = at(b_, slot, k_ * rhs);
    bad_h_[static_cast<std::size_t>(slot)] = solver::compact::HWY_NAMESPACE::load_group(hs, h, g, Real(0));
    // A subcarrier with a non-finite received sample (its Y is reloaded as zeros) is an
    // erasure, as a non-finite channel is: its vectors' outputs would otherwise be 0 with a
    // finite SINR, scored as confident decisions.
    bad_y_[static_cast<std::size_t>(slot)] = solver::compact::HWY_NAMESPACE::load_group(ys, y, g, Real(0));
    const Real reg = kind_ == detector_kind::mmse && n0_ok ? static_cast<Real>(n0) : Real(0);
    if (factored) {
      // R = HᴴH kept for G (finish()); A = R + reg·I, the same bits gram() gives with reg.
      // Right-hand sides [Hᴴ Y | I].
      V* r = at(r_, slot, k_ * k_);
      solver::compact::HWY_NAMESPACE::gram(r, hs, n_, k_, V::zero());
      std::memcpy(static_cast<void*>(as), static_cast<const void*>(r), sizeof(V) * 2 * k_ * k_);
      const V reg_v = V::broadcast(reg);
      for (int j = 0; j < k_; ++j) as[2 * (j * k_ + j)] = as[2 * (j * k_ + j)] + reg_v;
      set_identity(bs + 2 * k_ * t);
      solver::compact::HWY_NAMESPACE::adjoint_multiply(bs, hs, ys, n_, k_, t);
      return;
    }
    solver::compact::HWY_NAMESPACE::gram(as, hs, n_, k_, V::broadcast(reg));
    // Hᴴ (k × n): straight into the right-hand side in explicit per-block mode.
    V* hh = per_block ? bs : hhs;
    for (int a = 0; a < n_; ++a) {
      for (int k = 0; k < k_; ++k) {
        hh[2 * (a * k_ + k)] = hs[2 * (k * n_ + a)];
        hh[2 * (a * k_ + k) + 1] = V::zero() - hs[2 * (k * n_ + a) + 1];
      }
    }
    if (!per_block) {  // [I | Hᴴ Y]
      set_identity(bs);
      solver::compact::HWY_NAMESPACE::multiply(bs + 2 * k_ * k_, hhs, ys, k_, n_, t);
    }
  }

  // The k × k identity in every lane at dst.
  void set_identity(V* dst) const noexcept {
    for (int j = 0; j < k_; ++j) {
      for (int i = 0; i < k_; ++i) {
        dst[2 * (j * k_ + i)] = V::broadcast(i == j ? Real(1) : Real(0));
        dst[2 * (j * k_ + i) + 1] = V::zero();
      }
    }
  }

  // Solves `systems` systems whose groups start at work slot `slot`.
  void solve(std::span<solver::batch_status> status, int systems, int rhs, int slot) {
    solver_.solve(status, solver::compact_batch(reals(solution(slot, rhs)), systems, k_, rhs, L),
                  solver::compact_batch(reals_c(at(a_, slot, k_ * k_)), systems, k_, k_, L),
                  solver::compact_batch(reals_c(at(b_, slot, k_ * rhs)), systems, k_, rhs, L),
                  solver::matrix_structure::hermitian);
  }

  // Filter, stream quality and unbiased outputs of group g (solved in work slot `slot`).
  int finish(int g, int slot, std::span<const solver::batch_status> status, const solver::batch_ref& s_hat, int t, double n0,
             std::span<unsigned char> resolved, std::span<double> sinr, std::span<double> noise_variance, int count) {
    const bool n0_ok = std::isfinite(n0) && n0 >= 0.0;
    const bool per_block = mode_ == detection_mode::per_block;
    const bool factored = factored_for(t);
    const int rhs = right_hand_sides(t);
    const int used = solver::compact::HWY_NAMESPACE::lanes_used(count, g, L);
    const unsigned bad_h = bad_h_[static_cast<std::size_t>(slot)] | bad_y_[static_cast<std::size_t>(slot)];
    const V* hs = at(h_, slot, n_ * k_);
    const V* ys = at(y_, slot, n_ * t_max_);
    const V* hhs = at(hh_, slot, k_ * n_);
    const V* xs = solution(slot, rhs);
    int unresolved = 0;
    // The filter actually applied: W = X (explicit per-block), X[:, :k] Hᴴ (per-vector),
    // or, factored, W = A⁻¹Hᴴ applied as A⁻¹(HᴴY) with the solved X = A⁻¹ beside it: then
    // G = W H = X R (R = HᴴH) and W Wᴴ = X R Xᴴ = G X (‖w_k‖² per lane in double). G is the
    // whole product (K³), not I − reg·X: that identity holds for an exact inverse only, and in
    // f32 at high SNR (noise 1e-12, channel condition 333) the stated SINR was then 1000× the
    // measured one; with the product it is within 30×, the rest being the f32 rounding of HᴴY
    // amplified by X, which no filter describes (the explicit path, T + K > N, states it
    // exactly). The product's diagonal also keeps its relative precision where 1 − reg·X_kk
    // would cancel: a user without a channel (R's column k zero) gets G_kk = 0 exactly.
    const V* w = xs;
    if (factored) {
      solver::compact::HWY_NAMESPACE::multiply(g_.data(), xs + 2 * k_ * t, at(r_, slot, k_ * k_), k_, k_, k_);
    } else {
      if (!per_block) {
        solver::compact::HWY_NAMESPACE::multiply(w_.data(), xs, hhs, k_, k_, n_);
        w = w_.data();
      }
      solver::compact::HWY_NAMESPACE::multiply(g_.data(), w, hs, k_, n_, k_);
      for (int k = 0; k < k_; ++k) wnorm_[static_cast<std::size_t>(k)] = V::zero();
      for (int a = 0; a < n_; ++a) {
        for (int k = 0; k < k_; ++k) {
          V& acc = wnorm_[static_cast<std::size_t>(k)];
          acc = fma(w[2 * (a * k_ + k)], w[2 * (a * k_ + k)], acc);
          acc = fma(w[2 * (a * k_ + k) + 1], w[2 * (a * k_ + k) + 1], acc);
        }
      }
    }
    // Per lane, in double: the disturbance n0‖w_k‖² + Σ_{j≠k} |G_kj|² (a sum of
    // non-negative terms; lanes innermost, so the compiler vectorises across them). G, A⁻¹
    // and ‖w‖² are read in place as plain reals, lane-minor (how the vectors lay them out).
    const Real* lanes_g = reals_c(g_.data());
    const Real* lanes_x = factored ? reals_c(xs + 2 * k_ * t) : nullptr;
    const Real* lanes_w = reals_c(wnorm_.data());
    for (int k = 0; k < k_; ++k) {
      double* wn = &wnorm_lanes_[static_cast<std::size_t>(k * L)];
      double* dist = &disturbance_lanes_[static_cast<std::size_t>(k * L)];
      if (factored) {  // ‖w_k‖² = (G A⁻¹)_kk = Σ_j G_kj (A⁻¹)_jk (real: W Wᴴ is Hermitian)
        for (int l = 0; l < L; ++l) wn[l] = 0.0;
        for (int j = 0; j < k_; ++j) {
          const Real* gr = lanes_g + static_cast<std::size_t>(2 * (j * k_ + k) * L);
          const Real* gi = gr + L;
          const Real* xr = lanes_x + static_cast<std::size_t>(2 * (k * k_ + j) * L);
          const Real* xi = xr + L;
          for (int l = 0; l < L; ++l) {
            wn[l] += static_cast<double>(gr[l]) * static_cast<double>(xr[l]) -
                     static_cast<double>(gi[l]) * static_cast<double>(xi[l]);
          }
        }
      } else {
        for (int l = 0; l < L; ++l) wn[l] = static_cast<double>(lanes_w[static_cast<std::size_t>(k * L + l)]);
      }
      for (int l = 0; l < L; ++l) dist[l] = n0 * wn[l];
      for (int j = 0; j < k_; ++j) {
        if (j == k) continue;
        const Real* gr = lanes_g + static_cast<std::size_t>(2 * (j * k_ + k) * L);
        const Real* gi = gr + L;
        for (int l = 0; l < L; ++l) {
          const auto re = static_cast<double>(gr[l]), im = static_cast<double>(gi[l]);
          dist[l] += re * re + im * im;
        }
      }
    }
    // Stream quality per lane, in double, from the applied filter (linear_detector's rule).
    unsigned resolved_lanes = 0;
    std::vector<Real>& gr = gain_lanes_;
    // Which lanes were resolved (unused lanes of a partial group are not, and are not counted).
    static_assert(L <= 32);
    unsigned char ok[L];
    for (int l = 0; l < L; ++l) {
      const bool lane_ok = l < used && n0_ok && !((bad_h >> l) & 1U) && status[static_cast<std::size_t>(l)].matrix.ok &&
                           status[static_cast<std::size_t>(l)].solve.ok;
      ok[l] = lane_ok ? 1 : 0;
      if (l < used) {
        resolved[static_cast<std::size_t>(g * L + l)] = ok[l];
        unresolved += lane_ok ? 0 : 1;
        if (lane_ok) resolved_lanes |= 1U << l;
      }
    }
    if (per_block) {
      // Every user × lane at once (assess_streams_per_block: assess_stream's bits, vectorised).
      const auto kl = static_cast<std::size_t>(k_ * L);
      double* q_re = quality_.data();
      double* q_im = q_re + kl;
      double* q_sinr = q_im + kl;
      double* q_nv = q_sinr + kl;
      double* q_sr = q_nv + kl;
      double* q_si = q_sr + kl;
      unsigned char* q_ok = quality_ok_.data();
      for (int k = 0; k < k_; ++k) {
        const Real* g_re = lanes_g + static_cast<std::size_t>(2 * (k * k_ + k) * L);
        for (int l = 0; l < L; ++l) {
          q_re[k * L + l] = static_cast<double>(g_re[l]);
          q_im[k * L + l] = static_cast<double>(g_re[L + l]);
          q_ok[k * L + l] = ok[l];
        }
      }
      assess_streams_per_block(k_ * L, q_re, q_im, disturbance_lanes_.data(), q_ok, q_sinr, q_nv, q_sr, q_si);
      for (int l = 0; l < used; ++l) {
        const auto m = static_cast<std::size_t>(g * L + l);
        for (int k = 0; k < k_; ++k) {
          sinr[m * static_cast<std::size_t>(k_) + static_cast<std::size_t>(k)] = q_sinr[k * L + l];
          noise_variance[m * static_cast<std::size_t>(k_) + static_cast<std::size_t>(k)] = q_nv[k * L + l];
        }
      }
      for (int k = 0; k < k_; ++k) {
        for (int l = 0; l < L; ++l) {
          gr[static_cast<std::size_t>((2 * k) * L + l)] = static_cast<Real>(q_sr[k * L + l]);
          gr[static_cast<std::size_t>((2 * k + 1) * L + l)] = static_cast<Real>(q_si[k * L + l]);
        }
      }
    } else {
      std::fill(gr.begin(), gr.end(), Real(0));
      for (int l = 0; l < used; ++l) {
        const int m = g * L + l;
        const bool lane_ok = ok[l] != 0;
        for (int k = 0; k < k_; ++k) {
          const auto at = static_cast<std::size_t>(m) * static_cast<std::size_t>(k_) + static_cast<std::size_t>(k);
          cf64 gain{};
          double disturbance = 0.0;
          double x_kk = 0.0;
          if (lane_ok) {
            gain = cf64(lane_g(2 * (k * k_ + k), l), lane_g(2 * (k * k_ + k) + 1, l));
            disturbance = disturbance_lanes_[static_cast<std::size_t>(k * L + l)];
            x_kk = static_cast<double>(reals_c(xs)[static_cast<std::size_t>(2 * (k * k_ + k) * L + l)]);  // Re X_kk
          }
          const stream_quality q = assess_stream(kind_, mode_, n0, gain, disturbance, x_kk, lane_ok);
          sinr[at] = q.sinr;
          noise_variance[at] = q.sinr > 0.0 ? 1.0 / q.sinr : linear_detector::kErased;
          gr[static_cast<std::size_t>((2 * k) * L + l)] = static_cast<Real>(q.scale.real());
          gr[static_cast<std::size_t>((2 * k + 1) * L + l)] = static_cast<Real>(q.scale.imag());
        }
      }
    }
    std::memcpy(static_cast<void*>(gain_.data()), gr.data(), sizeof(V) * 2 * static_cast<std::size_t>(k_));
    // Scaled outputs (assess_stream: 1/g_k per-block, 1/b_k per-vector), an erased stream 0.
    // The unscaled outputs: the solution itself (factored, per-vector) or W Y.
    const V* unscaled = factored ? xs : xs + 2 * k_ * k_;
    if (!factored && per_block) {
      solver::compact::HWY_NAMESPACE::multiply(s_.data(), w, ys, k_, n_, t);
      unscaled = s_.data();
    }
    for (int c = 0; c < t; ++c) {
      for (int k = 0; k < k_; ++k) {
        const auto at = static_cast<std::size_t>(2 * (c * k_ + k));
        const V re = unscaled[at], im = unscaled[at + 1];
        const V ir = gain_[static_cast<std::size_t>(2 * k)], ii = gain_[static_cast<std::size_t>(2 * k + 1)];
        s_[at] = fnma(im, ii, re * ir);
        s_[at + 1] = fma(im, ir, re * ii);
      }
    }
    solver::compact::HWY_NAMESPACE::store_group(s_hat, s_.data(), g, ~0U, ~resolved_lanes);
    return unresolved;
  }

 public:
  void init_lanes() { gain_lanes_.assign(static_cast<std::size_t>(2 * k_ * L), Real(0)); }

 private:
  // Per-block mode with no more received vectors than antennas − users solves the factored
  // system A [Ŝ | A⁻¹] = [HᴴY | I] (T + K right-hand sides, HᴴY formed from H and Y) instead
  // of A W = Hᴴ (N right-hand sides) and then W Y and G = W H (KN(T + K) complex
  // multiply-adds more; G = A⁻¹R costs K³).
  bool factored_for(int t) const noexcept { return mode_ == detection_mode::per_block && t + k_ <= n_; }
  int right_hand_sides(int t) const noexcept {
    if (mode_ == detection_mode::per_vector) return k_ + t;
    return factored_for(t) ? t + k_ : n_;
  }
  static std::size_t size(int elements) { return static_cast<std::size_t>(2 * std::max(elements, 1)); }
  // Where the solver writes X for work slot `slot`: over B itself for a compact backend
  // (batch_solver.h: solved in place, nothing copied), a separate buffer otherwise.
  V* solution(int slot, int rhs) noexcept { return whole_ ? at(x_, slot, k_ * rhs) : at(b_, slot, k_ * rhs); }
  // Work buffers with one slot per group of a whole call (one slot otherwise).
  std::size_t slots(int elements) const { return size(elements) * static_cast<std::size_t>(slots_); }
  // Slot `slot` of a buffer whose slots hold `elements` complex values (groups packed as
  // the compact format lays them out, so the slots of a call form one compact batch).
  static V* at(std::vector<V>& buffer, int slot, int elements) noexcept {
    return buffer.data() + static_cast<std::ptrdiff_t>(slot) * 2 * elements;
  }
  static Real* reals(V* p) noexcept { return reinterpret_cast<Real*>(p); }
  static const Real* reals_c(const V* p) noexcept { return reinterpret_cast<const Real*>(p); }
  double lane_g(int vector, int l) const noexcept {
    return static_cast<double>(reals_c(g_.data())[static_cast<std::size_t>(vector * L + l)]);
  }

  detector_kind kind_;
  detection_mode mode_;
  solver::batch_solver& solver_;
  int n_, k_, t_max_;
  bool whole_;  // one solver call per detect() (column-major backends: remote, per-matrix adapters)
  int slots_;
  std::vector<V> h_, y_, a_, r_, hh_, b_, x_, w_, g_, s_;  // r_: R = HᴴH per slot (factored)
  std::vector<V> wnorm_;
  std::vector<V> gain_;           // 1/g_k: real, imaginary per user
  std::vector<double> wnorm_lanes_;        // ‖w_k‖² per user × lane
  std::vector<double> disturbance_lanes_;  // n0‖w_k‖² + Σ_{j≠k} |G_kj|² per user × lane
  std::vector<Real> gain_lanes_;  // 1/g_k per lane before loading into gain_
  std::vector<double> quality_;   // per-block stream quality, user × lane: G_kk re, im; sinr, noise variance, scale re, im
  std::vector<unsigned char> quality_ok_;  // lane resolved, per user × lane
  std::vector<unsigned> bad_h_;  // per slot: lanes whose channel is not finite
  std::vector<unsigned> bad_y_;  // per slot: lanes with a non-finite received sample
  std::vector<solver::batch_status> status_;
};

}  // namespace

std::unique_ptr<batch_detector::engine> make_batch_engine(bool single_precision, detector_kind kind,
                                                          detection_mode mode, solver::batch_solver& solver,
                                                          int antennas, int users, int max_vectors, int max_batch) {
  if (single_precision) {
    auto e = std::make_unique<engine_impl<float>>(kind, mode, solver, antennas, users, max_vectors, max_batch);
    e->init_lanes();
    return e;
  }
  auto e = std::make_unique<engine_impl<double>>(kind, mode, solver, antennas, users, max_vectors, max_batch);
  e->init_lanes();
  return e;
}

}  // namespace amimo::detect::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <amimo/solver/simd_dispatch.h>

namespace amimo::detect {

batch_detector::batch_detector(detector_kind kind, detection_mode mode, solver::batch_solver& solver, int antennas,
                               int users, int max_vectors, int max_batch)
    : antennas_(antennas), users_(users), max_vectors_(max_vectors), max_batch_(max_batch) {
  if (antennas <= 0 || users <= 0 || max_vectors <= 0 || max_batch <= 0) {
    throw config_error("detector sizes must be positive");
  }
  if (kind == detector_kind::zf && users > antennas) {
    throw config_error("zero-forcing needs users <= antennas (got " + std::to_string(users) + " users, " +
                       std::to_string(antennas) + " antennas)");
  }
  engine_ = AMIMO_SIMD_DISPATCH(make_batch_engine)(solver.preference().element == solver::element_type::f32, kind,
                                                    mode, solver, antennas, users, max_vectors, max_batch);
  // The most right-hand sides this detector will ask for: Hᴴ (antennas, explicit per-block)
  // or [HᴴY | I] / [I | HᴴY] (vectors + users, factored per-block and per-vector).
  solver.reserve(std::max(antennas, users + max_vectors));
  resolved_.assign(static_cast<std::size_t>(max_batch), 0);
  sinr_.assign(static_cast<std::size_t>(max_batch * users), 0.0);
  noise_variance_.assign(static_cast<std::size_t>(max_batch * users), linear_detector::kErased);
}

batch_detector::~batch_detector() = default;

int batch_detector::erased_streams(int m) const noexcept {
  int erased_count = 0;
  for (int k = 0; k < users_; ++k) erased_count += erased(m, k) ? 1 : 0;
  return erased_count;
}

int batch_detector::detect(solver::batch_ref s_hat, solver::batch_cref h, solver::batch_cref y, double n0) {
  const solver::batch_shape sh = solver::shape_of(h), sy = solver::shape_of(y), ss = solver::shape_of(s_hat);
  const bool fits = sh.count >= 0 && sh.count <= max_batch_ && sy.count == sh.count && ss.count == sh.count &&
                    sh.rows == antennas_ && sh.cols == users_ && sy.rows == antennas_ && sy.cols >= 1 &&
                    sy.cols <= max_vectors_ && ss.rows == users_ && ss.cols == sy.cols;
  if (!fits) {
    const int writable = std::min(ss.count, max_batch_);
    for (int m = 0; m < ss.count; ++m) solver::zero_system(s_hat, m);
    for (int m = 0; m < writable; ++m) {
      resolved_[static_cast<std::size_t>(m)] = 0;
      for (int k = 0; k < users_; ++k) {
        sinr_[index(m, k)] = 0.0;
        noise_variance_[index(m, k)] = linear_detector::kErased;
      }
    }
    return ss.count;
  }
  return engine_->run(s_hat, h, y, n0, resolved_, sinr_, noise_variance_);
}

}  // namespace amimo::detect
#endif  // HWY_ONCE
