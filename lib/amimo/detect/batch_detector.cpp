#include <amimo/core/error.h>
#include <amimo/detect/batch_detector.h>
#include <amimo/solver/compact_io.h>
#include <amimo/solver/compact_kernels.h>

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

namespace {

template <typename Real>
class engine_impl final : public batch_detector::engine {
  using V = simd::lanes<Real>;
  static constexpr int L = V::size;

 public:
  engine_impl(detector_kind kind, detection_mode mode, solver::batch_solver& solver, int antennas, int users,
              int max_vectors)
      : kind_(kind), mode_(mode), solver_(solver), n_(antennas), k_(users), t_max_(max_vectors),
        h_(size(n_ * k_)), y_(size(n_ * t_max_)), a_(size(k_ * k_)), hh_(size(k_ * n_)),
        b_(size(k_ * std::max(n_, k_ + t_max_))), x_(size(k_ * std::max(n_, k_ + t_max_))), w_(size(k_ * n_)),
        g_(size(k_ * k_)), s_(size(k_ * t_max_)), wnorm_(static_cast<std::size_t>(k_)),
        gain_(static_cast<std::size_t>(2 * k_)), lanes_g_(static_cast<std::size_t>(2 * k_ * k_ * L)),
        lanes_w_(static_cast<std::size_t>(k_ * L)), status_(static_cast<std::size_t>(L)) {}

  int run(solver::batch_ref s_hat, solver::batch_cref h, solver::batch_cref y, double n0,
          std::span<unsigned char> resolved, std::span<double> sinr, std::span<double> noise_variance) override {
    const int count = solver::shape_of(h).count;
    const int t = solver::shape_of(y).cols;
    const bool n0_ok = std::isfinite(n0) && n0 >= 0.0;
    const int groups = (count + L - 1) / L;
    int unresolved = 0;
    const bool per_block = mode_ == detection_mode::per_block;
    const int rhs = per_block ? n_ : k_ + t;
    for (int g = 0; g < groups; ++g) {
      const int used = solver::compact::lanes_used(count, g, L);
      const unsigned bad_h = solver::compact::load_group(h_.data(), h, g, Real(0));
      (void)solver::compact::load_group(y_.data(), y, g, Real(0));
      const Real reg = kind_ == detector_kind::mmse && n0_ok ? static_cast<Real>(n0) : Real(0);
      solver::compact::gram(a_.data(), h_.data(), n_, k_, V::broadcast(reg));
      // Hᴴ (k × n): straight into the right-hand side in per-block mode.
      V* hh = per_block ? b_.data() : hh_.data();
      for (int a = 0; a < n_; ++a) {
        for (int k = 0; k < k_; ++k) {
          hh[2 * (a * k_ + k)] = h_[2 * (k * n_ + a)];
          hh[2 * (a * k_ + k) + 1] = V::zero() - h_[2 * (k * n_ + a) + 1];
        }
      }
      if (!per_block) {  // [I | Hᴴ Y]
        for (int j = 0; j < k_; ++j) {
          for (int i = 0; i < k_; ++i) {
            b_[2 * (j * k_ + i)] = V::broadcast(i == j ? Real(1) : Real(0));
            b_[2 * (j * k_ + i) + 1] = V::zero();
          }
        }
        solver::compact::multiply(b_.data() + 2 * k_ * k_, hh_.data(), y_.data(), k_, n_, t);
      }
      const std::span<solver::batch_status> status(status_.data(), static_cast<std::size_t>(used));
      solver_.solve(status, solver::compact_batch(reals(x_.data()), used, k_, rhs, L),
                    solver::compact_batch(reals_c(a_.data()), used, k_, k_, L),
                    solver::compact_batch(reals_c(b_.data()), used, k_, rhs, L), solver::matrix_structure::hermitian);
      // The filter actually applied: W = X (per-block) or X[:, :k] Hᴴ (per-vector).
      const V* w = x_.data();
      if (!per_block) {
        solver::compact::multiply(w_.data(), x_.data(), hh_.data(), k_, k_, n_);
        w = w_.data();
      }
      solver::compact::multiply(g_.data(), w, h_.data(), k_, n_, k_);
      for (int k = 0; k < k_; ++k) wnorm_[static_cast<std::size_t>(k)] = V::zero();
      for (int a = 0; a < n_; ++a) {
        for (int k = 0; k < k_; ++k) {
          V& acc = wnorm_[static_cast<std::size_t>(k)];
          acc = fma(w[2 * (a * k_ + k)], w[2 * (a * k_ + k)], acc);
          acc = fma(w[2 * (a * k_ + k) + 1], w[2 * (a * k_ + k) + 1], acc);
        }
      }
      std::memcpy(lanes_g_.data(), static_cast<const void*>(g_.data()), sizeof(V) * 2 * k_ * k_);
      std::memcpy(lanes_w_.data(), static_cast<const void*>(wnorm_.data()), sizeof(V) * k_);
      // Stream quality per lane, in double, from the applied filter (linear_detector's rule).
      unsigned resolved_lanes = 0;
      std::vector<Real>& gr = gain_lanes_;
      std::fill(gr.begin(), gr.end(), Real(0));
      for (int l = 0; l < used; ++l) {
        const int m = g * L + l;
        const solver::batch_status& st = status[static_cast<std::size_t>(l)];
        const bool ok = n0_ok && !((bad_h >> l) & 1U) && st.matrix.ok && st.solve.ok;
        resolved[static_cast<std::size_t>(m)] = ok ? 1 : 0;
        if (ok) resolved_lanes |= 1U << l;
        unresolved += ok ? 0 : 1;
        for (int k = 0; k < k_; ++k) {
          const auto at = static_cast<std::size_t>(m) * static_cast<std::size_t>(k_) + static_cast<std::size_t>(k);
          cf64 gain{};
          double disturbance = 0.0;
          double x_kk = 0.0;
          if (ok) {
            gain = cf64(lane_g(2 * (k * k_ + k), l), lane_g(2 * (k * k_ + k) + 1, l));
            disturbance = n0 * static_cast<double>(lanes_w_[static_cast<std::size_t>(k * L + l)]);
            for (int j = 0; j < k_; ++j) {
              if (j == k) continue;
              const double re = lane_g(2 * (j * k_ + k), l), im = lane_g(2 * (j * k_ + k) + 1, l);
              disturbance += re * re + im * im;
            }
            if (!per_block) x_kk = static_cast<double>(reals_c(x_.data())[static_cast<std::size_t>(2 * (k * k_ + k) * L + l)]);
          }
          const stream_quality q = assess_stream(kind_, mode_, n0, gain, disturbance, x_kk, ok);
          sinr[at] = q.sinr;
          noise_variance[at] = q.sinr > 0.0 ? 1.0 / q.sinr : linear_detector::kErased;
          gr[static_cast<std::size_t>((2 * k) * L + l)] = static_cast<Real>(q.scale.real());
          gr[static_cast<std::size_t>((2 * k + 1) * L + l)] = static_cast<Real>(q.scale.imag());
        }
      }
      std::memcpy(static_cast<void*>(gain_.data()), gr.data(), sizeof(V) * 2 * static_cast<std::size_t>(k_));
      // Scaled outputs (assess_stream: 1/g_k per-block, 1/b_k per-vector), an erased stream 0.
      if (per_block) {
        solver::compact::multiply(s_.data(), w, y_.data(), k_, n_, t);
      } else {
        std::memcpy(static_cast<void*>(s_.data()), static_cast<const void*>(x_.data() + 2 * k_ * k_),
                    sizeof(V) * 2 * k_ * t);
      }
      for (int c = 0; c < t; ++c) {
        for (int k = 0; k < k_; ++k) {
          V& re = s_[static_cast<std::size_t>(2 * (c * k_ + k))];
          V& im = s_[static_cast<std::size_t>(2 * (c * k_ + k) + 1)];
          const V ir = gain_[static_cast<std::size_t>(2 * k)], ii = gain_[static_cast<std::size_t>(2 * k + 1)];
          const V nr = fnma(im, ii, re * ir);
          const V ni = fma(im, ir, re * ii);
          re = nr;
          im = ni;
        }
      }
      solver::compact::store_group(s_hat, s_.data(), g, ~0U, ~resolved_lanes);
    }
    return unresolved;
  }

  void init_lanes() { gain_lanes_.assign(static_cast<std::size_t>(2 * k_ * L), Real(0)); }

 private:
  static std::size_t size(int elements) { return static_cast<std::size_t>(2 * std::max(elements, 1)); }
  static Real* reals(V* p) noexcept { return reinterpret_cast<Real*>(p); }
  static const Real* reals_c(const V* p) noexcept { return reinterpret_cast<const Real*>(p); }
  double lane_g(int vector, int l) const noexcept {
    return static_cast<double>(lanes_g_[static_cast<std::size_t>(vector * L + l)]);
  }

  detector_kind kind_;
  detection_mode mode_;
  solver::batch_solver& solver_;
  int n_, k_, t_max_;
  std::vector<V> h_, y_, a_, hh_, b_, x_, w_, g_, s_;
  std::vector<V> wnorm_;
  std::vector<V> gain_;           // 1/g_k: real, imaginary per user
  std::vector<Real> lanes_g_;     // G as plain reals, lane-minor
  std::vector<Real> lanes_w_;     // ‖w_k‖² as plain reals
  std::vector<Real> gain_lanes_;  // 1/g_k per lane before loading into gain_
  std::vector<solver::batch_status> status_;
};

}  // namespace

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
  if (solver.preference().element == solver::element_type::f32) {
    auto e = std::make_unique<engine_impl<float>>(kind, mode, solver, antennas, users, max_vectors);
    e->init_lanes();
    engine_ = std::move(e);
  } else {
    auto e = std::make_unique<engine_impl<double>>(kind, mode, solver, antennas, users, max_vectors);
    e->init_lanes();
    engine_ = std::move(e);
  }
  // Every right-hand-side count this detector will ask for: Hᴴ (antennas), identity
  // (users), received vectors (per-vector mode).
  solver.reserve(std::max({antennas, users, max_vectors}));
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
