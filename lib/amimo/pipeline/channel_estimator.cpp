#include <amimo/pipeline/channel_estimator.h>

#include <amimo/core/error.h>

#include <algorithm>
#include <cmath>

namespace amimo::pipeline {

int auto_smoothing(const ofdm::numerology& n, int users) noexcept {
  const int spacing = std::max(1, users / std::max(1, std::min(n.pilot_symbols, users)));
  const double hz = static_cast<double>(spacing) * n.subcarrier_spacing();
  return hz > 0.0 ? static_cast<int>(std::floor(kAutoSmoothingHz / hz)) : 0;
}

time_interpolation parse_time_interpolation(const std::string& name) {
  if (name == "hold") return time_interpolation::hold;
  if (name == "linear") return time_interpolation::linear;
  throw config_error("time_interpolation must be hold or linear, got '" + name + "'");
}

const char* to_string(time_interpolation t) noexcept { return t == time_interpolation::hold ? "hold" : "linear"; }

std::vector<time_segment> time_segments(const ofdm::numerology& n, time_interpolation t) {
  const int groups = n.pilot_groups();
  // A group's estimate is dated at the centre of its pilot symbols (frame symbol units).
  auto centre = [&](int g) { return n.pilot_group_symbol(g) + 0.5 * (n.pilot_symbols - 1); };
  std::vector<time_segment> segments;
  for (int d = 0; d < n.data_symbols; ++d) {
    const double at = n.data_symbol_index(d);
    time_segment s{d, 1, 0, 0, 0.0};
    int g = 0;  // the last group dated at or before this data symbol
    while (g + 1 < groups && centre(g + 1) <= at) ++g;
    if (t == time_interpolation::linear) {
      s.group_before = g;
      s.group_after = g;
      if (g + 1 < groups) {
        s.group_after = g + 1;
        s.weight_after = (at - centre(g)) / (centre(g + 1) - centre(g));
      }
    } else {
      // Nearest group; a tie goes to the earlier one.
      const bool later = g + 1 < groups && centre(g + 1) - at < at - centre(g);
      s.group_before = later ? g + 1 : g;
      s.group_after = s.group_before;
    }
    if (s.weight_after == 0.0) s.group_after = s.group_before;
    // Extend the previous segment when the channel is the same and the symbols are adjacent.
    if (!segments.empty()) {
      auto& last = segments.back();
      const int last_data = last.first_data + last.data_count - 1;
      if (last.weight_after == 0.0 && s.weight_after == 0.0 && last.group_before == s.group_before &&
          n.data_symbol_index(last_data) + 1 == n.data_symbol_index(d)) {
        ++last.data_count;
        continue;
      }
    }
    segments.push_back(s);
  }
  return segments;
}

void blend_channels(const cf32* before, const cf32* after, double weight_after, std::size_t count,
                    cf32* dst) noexcept {
  // Real arrays: the loop vectorises.
  const double wa = weight_after;
  const double wb = 1.0 - wa;
  const float* b = reinterpret_cast<const float*>(before);
  const float* a = reinterpret_cast<const float*>(after);
  float* d = reinterpret_cast<float*>(dst);
  for (std::size_t i = 0; i < 2 * count; ++i) {
    d[i] = static_cast<float>(wb * static_cast<double>(b[i]) + wa * static_cast<double>(a[i]));
  }
}

channel_estimator::channel_estimator(const ofdm::frame_layout& layout, int antennas, int smoothing,
                                     time_interpolation interpolation)
    : layout_(layout),
      antennas_(antennas),
      users_(layout.users()),
      smoothing_(smoothing),
      used_(static_cast<std::size_t>(layout.layout().used_subcarriers)),
      segments_(time_segments(layout.layout(), interpolation)) {
  const auto& n = layout.layout();
  if (antennas < 1) throw config_error("antennas must be at least 1");
  if (smoothing < -1) throw config_error("estimation smoothing must be ≥ −1");
  const auto users = static_cast<std::size_t>(users_);
  positions_.resize(users);
  position_symbols_.resize(users);
  for (int k = 0; k < users_; ++k) {
    auto& pos = positions_[static_cast<std::size_t>(k)];
    auto& syms = position_symbols_[static_cast<std::size_t>(k)];
    for (int u = 0; u < n.used_subcarriers; ++u) {
      std::vector<int> carriers;
      for (int p = 0; p < n.pilot_symbols; ++p)
        if (layout.pilot_user(p, u) == k) carriers.push_back(p);
      if (!carriers.empty()) {
        pos.push_back(u);
        syms.push_back(std::move(carriers));
      }
    }
    if (pos.empty()) throw config_error("a user has no pilots");
  }
  // Interpolation in frequency (bins, so the DC gap counts); beyond the outermost pilots
  // extrapolated along the two outermost (smoothed) pilots: held flat, a delay's phase slope
  // left |Ĥ/H − 1| = 0.15 at the last subcarrier for a 4-sample path. (Less than one pilot
  // spacing out, the extrapolation's noise gain is at most (1 + x)² + x² < 5.)
  left_.assign(users, std::vector<int>(static_cast<std::size_t>(n.used_subcarriers)));
  weight_.assign(users, std::vector<double>(static_cast<std::size_t>(n.used_subcarriers)));
  edge_fits_.assign(users, {});
  edge_coeffs_.assign(users, {});
  for (std::size_t k = 0; k < users; ++k) {
    const auto& pos = positions_[k];
    const std::size_t count = pos.size();
    // Smoothing windows clipped by the band's edges (not the whole-band mode): the
    // least-squares line's value at the pilot, as weights on the window's LS pilots.
    const bool local = smoothing > 0 && static_cast<std::size_t>(smoothing) + 1 < count;
    if (local) {
      const auto w = static_cast<std::size_t>(smoothing);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t lo = i > w ? i - w : 0;
        const std::size_t hi = std::min(count, i + w + 1);
        if (hi - lo == 2 * w + 1) continue;  // symmetric: the mean is the line's value
        double sx = 0.0;
        double sxx = 0.0;
        const double x0 = n.bin_of(pos[i]);
        for (std::size_t j = lo; j < hi; ++j) {
          const double x = n.bin_of(pos[j]) - x0;
          sx += x;
          sxx += x * x;
        }
        const auto m = static_cast<double>(hi - lo);
        const double det = m * sxx - sx * sx;
        edge_fits_[k].push_back({i, lo, hi - lo, edge_coeffs_[k].size()});
        for (std::size_t j = lo; j < hi; ++j) {  // intercept at x = 0: (Σx² − x·Σx) / det
          const double x = n.bin_of(pos[j]) - x0;
          edge_coeffs_[k].push_back((sxx - x * sx) / det);
        }
      }
    }
    std::size_t i = 0;
    for (int u = 0; u < n.used_subcarriers; ++u) {
      while (i + 1 < pos.size() && pos[i + 1] <= u) ++i;
      const auto uu = static_cast<std::size_t>(u);
      left_[k][uu] = static_cast<int>(i);
      if (count >= 2 && (u < pos.front() || u > pos.back())) {
        const std::size_t j = u < pos.front() ? 0 : count - 2;
        left_[k][uu] = static_cast<int>(j);
        const double b0 = n.bin_of(pos[j]);
        const double b1 = n.bin_of(pos[j + 1]);
        weight_[k][uu] = (n.bin_of(u) - b0) / (b1 - b0);
      } else if (u <= pos.front() || i + 1 >= pos.size()) {
        weight_[k][uu] = 0.0;
        if (u < pos.front()) left_[k][uu] = 0;
      } else {
        const double b0 = n.bin_of(pos[i]);
        const double b1 = n.bin_of(pos[i + 1]);
        weight_[k][uu] = (n.bin_of(u) - b0) / (b1 - b0);
      }
    }
    ls_.emplace_back(pos.size() * static_cast<std::size_t>(antennas), cf64{});
    std::vector<std::size_t> bins;
    std::vector<cf64> gains;
    for (std::size_t p = 0; p < pos.size(); ++p) {
      bins.push_back(static_cast<std::size_t>(n.fft_index_of(pos[p])));
      // 1 / pilot, shared among the pilot symbols that carry this position.
      gains.push_back(1.0 / layout.pilot(pos[p]) / static_cast<double>(position_symbols_[k][p].size()));
    }
    pilot_bins_.push_back(std::move(bins));
    pilot_gains_.push_back(std::move(gains));
    smoothed_.emplace_back(pos.size() * static_cast<std::size_t>(antennas), cf64{});
  }
  power_.assign(users, 0.0);
  estimate_.assign(static_cast<std::size_t>(n.pilot_groups()) * used_ * static_cast<std::size_t>(antennas * users_),
                   cf32{});
  std::vector<bool> used(static_cast<std::size_t>(n.fft_size), false);
  for (int u = 0; u < n.used_subcarriers; ++u) used[static_cast<std::size_t>(n.fft_index_of(u))] = true;
  for (int b = 1; b < n.fft_size; ++b)
    if (!used[static_cast<std::size_t>(b)]) guard_bins_.push_back(b);
}

void channel_estimator::estimate(std::span<const cf32* const> pilot_symbols, std::size_t row_stride) {
  for (int k = 0; k < users_; ++k) estimate_user(k, pilot_symbols, row_stride);
}

void channel_estimator::estimate_user(int user, std::span<const cf32* const> pilot_symbols, std::size_t row_stride) {
  const auto& n = layout_.layout();
  const std::size_t row = row_stride == 0 ? static_cast<std::size_t>(n.fft_size) : row_stride;
  const auto ant = static_cast<std::size_t>(antennas_);
  const auto k = static_cast<std::size_t>(user);
  const auto per_group = static_cast<std::size_t>(n.pilot_symbols);
  for (std::size_t g = 0; g < static_cast<std::size_t>(n.pilot_groups()); ++g) {
    const auto group_symbols = pilot_symbols.subspan(g * per_group, per_group);
    const auto& pos = positions_[k];
    auto& ls = ls_[k];
    const auto& bins = pilot_bins_[k];
    const auto& gains = pilot_gains_[k];
    for (std::size_t i = 0; i < pos.size(); ++i) {
      const auto& syms = position_symbols_[k][i];
      for (std::size_t a = 0; a < ant; ++a) {
        cf64 acc{};
        for (int p : syms) acc += cf64(group_symbols[static_cast<std::size_t>(p)][a * row + bins[i]]);
        ls[i * ant + a] = acc * gains[i];
      }
    }
    // Moving average over ±smoothing pilots (prefix sums over positions).
    auto& sm = smoothed_[k];
    const auto count = pos.size();
    const std::size_t w = smoothing_ < 0 ? count : static_cast<std::size_t>(smoothing_);
    if (w == 0) {
      sm = ls;
    } else {
      for (std::size_t a = 0; a < ant; ++a) {
        // Window [i − w, i + w] clipped to the band; running sum updated incrementally.
        cf64 sum{};
        std::size_t lo = 0;
        std::size_t hi = 0;  // exclusive
        for (std::size_t i = 0; i < count; ++i) {
          const std::size_t want_lo = i > w ? i - w : 0;
          const std::size_t want_hi = std::min(count, i + w + 1);
          while (hi < want_hi) sum += ls[(hi++) * ant + a];
          while (lo < want_lo) sum -= ls[(lo++) * ant + a];
          sm[i * ant + a] = sum / static_cast<double>(hi - lo);
        }
      }
      // Where the band clips the window: the least-squares line through it, at the pilot.
      const double* coeffs = edge_coeffs_[k].data();
      for (const edge_fit& f : edge_fits_[k]) {
        for (std::size_t a = 0; a < ant; ++a) {
          cf64 v{};
          for (std::size_t j = 0; j < f.count; ++j) v += coeffs[f.offset + j] * ls[(f.first + j) * ant + a];
          sm[f.pilot * ant + a] = v;
        }
      }
    }
    // Interpolate to every used subcarrier (in double, rounded once to the cf32 store; as
    // real arrays of 2·antennas so that the loops vectorise).
    const auto block = ant * static_cast<std::size_t>(users_);
    const std::size_t reals = 2 * ant;
    constexpr std::size_t kPowerSums = 8;
    double power[kPowerSums] = {};
    for (int u = 0; u < n.used_subcarriers; ++u) {
      const auto uu = static_cast<std::size_t>(u);
      const auto l = static_cast<std::size_t>(left_[k][uu]);
      const double wr = weight_[k][uu];
      float* dst = reinterpret_cast<float*>(estimate_.data() + (g * used_ + uu) * block + k * ant);
      const double* left = reinterpret_cast<const double*>(sm.data() + l * ant);
      if (wr == 0.0) {
        for (std::size_t i = 0; i < reals; ++i) dst[i] = static_cast<float>(left[i]);
      } else {
        const double* right = left + reals;
        const double wl = 1.0 - wr;
        for (std::size_t i = 0; i < reals; ++i) dst[i] = static_cast<float>(wl * left[i] + wr * right[i]);
      }
      if (g == 0 && u % kPowerStride == 0) {
        // Eight running sums (two AVX2 vectors of doubles): one chain of dependent additions
        // took almost half of this function's time.
        std::size_t i = 0;
        for (; i + kPowerSums <= reals; i += kPowerSums) {
          for (std::size_t q = 0; q < kPowerSums; ++q) power[q] += static_cast<double>(dst[i + q]) * static_cast<double>(dst[i + q]);
        }
        for (; i < reals; ++i) power[i % kPowerSums] += static_cast<double>(dst[i]) * static_cast<double>(dst[i]);
      }
    }
    if (g == 0) {
      double sum = 0.0;
      for (const double p : power) sum += p;
      power_[k] = sum;
    }
  }
}

double channel_estimator::channel_power() const noexcept {
  double sum = 0.0;
  for (const double p : power_) sum += p;
  const std::size_t sampled = (used_ + kPowerStride - 1) / kPowerStride;
  const std::size_t entries = sampled * static_cast<std::size_t>(antennas_ * users_);
  return entries > 0 ? sum / static_cast<double>(entries) : 0.0;
}

double channel_estimator::noise_variance(std::span<const cf32* const> symbols, std::size_t row_stride) const noexcept {
  const std::size_t row = row_stride == 0 ? static_cast<std::size_t>(layout_.layout().fft_size) : row_stride;
  double sum = 0.0;
  std::size_t count = 0;
  for (const cf32* sym : symbols) {
    for (std::size_t a = 0; a < static_cast<std::size_t>(antennas_); ++a) {
      const cf32* bins = sym + a * row;
      for (int b : guard_bins_) sum += std::norm(bins[static_cast<std::size_t>(b)]);
      count += guard_bins_.size();
    }
  }
  return count == 0 ? 0.0 : sum / static_cast<double>(count);
}

}  // namespace amimo::pipeline
