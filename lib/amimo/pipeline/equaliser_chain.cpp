#include <amimo/pipeline/equaliser_chain.h>

#include <amimo/core/error.h>

namespace amimo::pipeline {

std::string chain_spec::label() const {
  return std::string(detect::to_string(detector)) + "/" + (solver_label.empty() ? solver.name : solver_label);
}

struct equaliser_chain::worker_state {
  // Batched chains: batch_solver/batch_detector set; the others solver/detector and the
  // per-subcarrier scratch h (antennas × users, the estimate widened), y (antennas × data
  // symbols) and s (users × data symbols).
  std::unique_ptr<solver::accounting_solver> solver;
  std::unique_ptr<detect::linear_detector> detector;
  std::unique_ptr<solver::accounting_batch_solver> batch_solver;
  std::unique_ptr<detect::batch_detector> batch_detector;
  cmat h;
  cmat y;
  cmat s;
  std::vector<cf32> blend;  // max_range × (antennas × users): a blended segment's channel
};

equaliser_chain::equaliser_chain(const chain_spec& spec, const ofdm::numerology& n, int antennas, int users,
                                 detect::detection_mode mode, int workers, int max_range, std::uint64_t seed)
    : n_(n),
      antennas_(antennas),
      users_(users),
      max_range_(max_range),
      batched_(solver::has_native_batch(spec.solver)),
      default_segments_(time_segments(n, time_interpolation::hold)) {
  if (workers < 1) throw config_error("an equaliser chain needs at least one worker");
  if (max_range < 1 || max_range > n.used_subcarriers) throw config_error("max_range must be in [1, used_subcarriers]");
  for (int i = 0; i < workers; ++i) {
    auto w = std::make_unique<worker_state>();
    if (batched_) {
      w->batch_solver = std::make_unique<solver::accounting_batch_solver>(solver::create_batch_solver(spec.solver, users, seed));
      w->batch_detector = std::make_unique<detect::batch_detector>(spec.detector, mode, *w->batch_solver, antennas, users,
                                                                   n.data_symbols, max_range);
    } else {
      w->solver = std::make_unique<solver::accounting_solver>(solver::create_linear_solver(spec.solver, users, seed));
      w->detector = std::make_unique<detect::linear_detector>(spec.detector, mode, *w->solver, antennas, users,
                                                              n.data_symbols);
      w->h.resize(antennas, users);
      w->y.resize(antennas, n.data_symbols);
      w->s.resize(users, n.data_symbols);
    }
    if (n.pilot_groups() > 1) w->blend.assign(static_cast<std::size_t>(max_range * antennas * users), cf32{});
    workers_.push_back(std::move(w));
  }
}

equaliser_chain::~equaliser_chain() = default;

equaliser_counts equaliser_chain::run(int worker, const equaliser_input& in, std::size_t u0, std::size_t u1,
                                      std::uint64_t seed, const equaliser_output& out) {
  const auto used = static_cast<std::size_t>(n_.used_subcarriers);
  const std::size_t per_user = static_cast<std::size_t>(n_.data_symbols) * used;
  const auto users = static_cast<std::size_t>(users_);
  const auto groups = static_cast<std::size_t>(n_.pilot_groups());
  if (worker < 0 || static_cast<std::size_t>(worker) >= workers_.size() || u0 > u1 || u1 > used ||
      u1 - u0 > static_cast<std::size_t>(max_range_) || in.grid == nullptr ||
      (in.grid_row_stride != 0 && in.grid_row_stride < static_cast<std::size_t>(n_.fft_size)) ||
      in.estimates.size() < groups * used * static_cast<std::size_t>(antennas_) * users ||
      out.equalised.size() < users * per_user || out.noise_variance.size() < users * per_user) {
    throw config_error("equaliser_chain::run: worker, subcarrier range or buffer sizes out of bounds");
  }
  const std::span<const time_segment> segments = in.segments.empty() ? default_segments_ : in.segments;
  for (const auto& seg : segments) {
    const bool inside = seg.first_data >= 0 && seg.data_count >= 1 && seg.first_data + seg.data_count <= n_.data_symbols &&
                        seg.group_before >= 0 && seg.group_after >= 0 && seg.group_before < n_.pilot_groups() &&
                        seg.group_after < n_.pilot_groups();
    // A segment's data symbols must be adjacent in the frame (one strided view of the grid).
    const bool adjacent = inside && n_.data_symbol_index(seg.first_data + seg.data_count - 1) -
                                            n_.data_symbol_index(seg.first_data) ==
                                        seg.data_count - 1;
    if (!adjacent) throw config_error("equaliser_chain::run: a time segment does not fit the frame layout");
  }
  auto& w = *workers_[static_cast<std::size_t>(worker)];
  if (batched_) {
    w.batch_solver->reset_stats();
    w.batch_solver->reseed(seed);
  } else {
    w.solver->reset_stats();
    w.solver->reseed(seed);
  }
  equaliser_counts counts;
  for (const auto& seg : segments) {
    const segment_view view = view_of(w, in, seg, u0, u1, out);
    const auto c = batched_ ? run_batched(w, in, view, u0, u1) : run_linear(w, in, view, u0, u1);
    counts.unresolved_subcarriers += c.unresolved_subcarriers;
    counts.erased_streams += c.erased_streams;
  }
  counts.accounting = batched_ ? w.batch_solver->stats() : w.solver->stats();
  return counts;
}

const cf32* equaliser_chain::segment_estimates(worker_state& w, const equaliser_input& in, const time_segment& seg,
                                               std::size_t u0, std::size_t u1) const noexcept {
  const auto block = static_cast<std::size_t>(antennas_ * users_);
  const auto used = static_cast<std::size_t>(n_.used_subcarriers);
  const cf32* before = in.estimates.data() + (static_cast<std::size_t>(seg.group_before) * used + u0) * block;
  if (seg.weight_after == 0.0) return before;
  const cf32* after = in.estimates.data() + (static_cast<std::size_t>(seg.group_after) * used + u0) * block;
  blend_channels(before, after, seg.weight_after, (u1 - u0) * block, w.blend.data());
  return w.blend.data();
}

equaliser_chain::segment_view equaliser_chain::view_of(worker_state& w, const equaliser_input& in,
                                                     const time_segment& seg, std::size_t u0, std::size_t u1,
                                                     const equaliser_output& out) const noexcept {
  const auto used = static_cast<std::size_t>(n_.used_subcarriers);
  const auto d0 = static_cast<std::size_t>(seg.first_data);
  return {static_cast<std::size_t>(n_.data_symbol_index(seg.first_data)), static_cast<std::size_t>(seg.data_count),
          out.equalised.data() + d0 * used, out.noise_variance.data() + d0 * used,
          segment_estimates(w, in, seg, u0, u1)};
}

// Runs of subcarriers whose FFT bins are consecutive (a range splits at most once, where
// the band wraps around DC), each one detect() on views straight into the grid, the
// estimates and the outputs.
equaliser_counts equaliser_chain::run_batched(worker_state& w, const equaliser_input& in, const segment_view& view,
                                              std::size_t u0, std::size_t u1) {
  const auto ant = static_cast<std::size_t>(antennas_);
  const auto users = static_cast<std::size_t>(users_);
  const std::size_t row = in.grid_row_stride == 0 ? static_cast<std::size_t>(n_.fft_size) : in.grid_row_stride;
  const auto used = static_cast<std::size_t>(n_.used_subcarriers);
  const std::size_t sym0 = view.grid_symbol;
  const std::size_t data = view.data;
  const std::size_t per_user = static_cast<std::size_t>(n_.data_symbols) * used;
  cf64* eq = view.equalised;
  double* var = view.noise_variance;
  const cf32* estimates = view.estimates;
  auto& det = *w.batch_detector;
  equaliser_counts counts;
  std::size_t u = u0;
  while (u < u1) {
    const auto bin0 = static_cast<std::size_t>(n_.fft_index_of(static_cast<int>(u)));
    std::size_t run = 1;
    while (u + run < u1 && static_cast<std::size_t>(n_.fft_index_of(static_cast<int>(u + run))) == bin0 + run) ++run;
    const int count = static_cast<int>(run);
    const cf32* y0 = in.grid + sym0 * ant * row + bin0;
    const solver::matrix_batch<const float> y{reinterpret_cast<const float*>(y0), count, antennas_,
                                              static_cast<int>(data), solver::batch_format::column_major,
                                              static_cast<std::ptrdiff_t>(row), static_cast<std::ptrdiff_t>(ant * row),
                                              1, 1};
    const cf32* h0 = estimates + (u - u0) * ant * users;
    const solver::matrix_batch<const float> h{reinterpret_cast<const float*>(h0), count, antennas_, users_,
                                               solver::batch_format::column_major, 1,
                                               static_cast<std::ptrdiff_t>(ant),
                                               static_cast<std::ptrdiff_t>(ant * users), 1};
    const solver::matrix_batch<double> s{reinterpret_cast<double*>(eq + u), count, users_, static_cast<int>(data),
                                         solver::batch_format::column_major, static_cast<std::ptrdiff_t>(per_user),
                                         static_cast<std::ptrdiff_t>(used), 1, 1};
    counts.unresolved_subcarriers += static_cast<std::uint64_t>(det.detect(s, h, y, in.noise_variance));
    // Each stream's variance for every data symbol: the run's subcarriers innermost, so
    // that the writes are contiguous.
    for (std::size_t k = 0; k < users; ++k) {
      for (int m = 0; m < count; ++m) {
        counts.erased_streams += det.noise_variance(m, static_cast<int>(k)) < detect::linear_detector::kErased ? 0U : 1U;
      }
      for (std::size_t d = 0; d < data; ++d) {
        double* dst = var + k * per_user + d * used + u;
        for (int m = 0; m < count; ++m) dst[m] = det.noise_variance(m, static_cast<int>(k));
      }
    }
    u += run;
  }
  return counts;
}

// One subcarrier at a time: its data-symbol vectors gathered from the grid, detected, and
// scattered to the outputs.
equaliser_counts equaliser_chain::run_linear(worker_state& w, const equaliser_input& in, const segment_view& view,
                                             std::size_t u0, std::size_t u1) {
  const auto ant = static_cast<std::size_t>(antennas_);
  const auto users = static_cast<std::size_t>(users_);
  const std::size_t row = in.grid_row_stride == 0 ? static_cast<std::size_t>(n_.fft_size) : in.grid_row_stride;
  const auto used = static_cast<std::size_t>(n_.used_subcarriers);
  const std::size_t sym0 = view.grid_symbol;
  const std::size_t data = view.data;
  const std::size_t per_user = static_cast<std::size_t>(n_.data_symbols) * used;
  cf64* eq = view.equalised;
  double* var = view.noise_variance;
  const cf32* estimates = view.estimates;
  auto& det = *w.detector;
  auto y = w.y.leftCols(static_cast<Eigen::Index>(data));
  auto s_hat = w.s.leftCols(static_cast<Eigen::Index>(data));
  equaliser_counts counts;
  for (std::size_t u = u0; u < u1; ++u) {
    const auto bin = static_cast<std::size_t>(n_.fft_index_of(static_cast<int>(u)));
    for (std::size_t d = 0; d < data; ++d) {
      const cf32* sym = in.grid + (sym0 + d) * ant * row;
      for (std::size_t a = 0; a < ant; ++a) {
        y(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(d)) = cf64(sym[a * row + bin]);
      }
    }
    w.h = Eigen::Map<const Eigen::MatrixXcf>(estimates + (u - u0) * ant * users, antennas_, users_).cast<cf64>();
    const bool resolved = det.set_channel(w.h, in.noise_variance).resolved;
    const bool ok = det.detect(s_hat, y);
    if (!resolved || !ok) ++counts.unresolved_subcarriers;
    const auto nv = det.noise_variance();
    for (std::size_t k = 0; k < users; ++k) {
      // A failed solve erases every stream of this subcarrier (its output is 0).
      const double v = ok ? nv[k] : detect::linear_detector::kErased;
      counts.erased_streams += v < detect::linear_detector::kErased ? 0U : 1U;
      for (std::size_t d = 0; d < data; ++d) {
        eq[k * per_user + d * used + u] = s_hat(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
        var[k * per_user + d * used + u] = v;
      }
    }
  }
  return counts;
}

}  // namespace amimo::pipeline
