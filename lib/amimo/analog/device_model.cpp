#include <amimo/analog/device_model.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace amimo::analog {

device_model::device_model(const device_params& params, std::uint64_t chip_seed)
    : p_(params),
      chip_seed_(chip_seed),
      levels_(1 << params.bits),
      g_min_(params.g_min_us * 1e-6),
      g_max_(params.g_max_us * 1e-6),
      delta_g_((g_max_ - g_min_) / (levels_ - 1)),
      drift_mean_factor_(1.0),
      any_stuck_(params.stuck_on > 0.0 || params.stuck_off > 0.0) {
  if (p_.time_since_programming_s > p_.drift_t0_s) {
    drift_mean_factor_ = std::pow(p_.time_since_programming_s / p_.drift_t0_s, -p_.drift_nu);
  }
}

device_model::stuck device_model::stuck_state(std::uint64_t array_key, Eigen::Index i, Eigen::Index j,
                                              int device) const noexcept {
  if (!any_stuck_) return stuck::none;
  const std::uint64_t h = derive_seed(chip_seed_, {array_key, static_cast<std::uint64_t>(i),
                                                   static_cast<std::uint64_t>(j), static_cast<std::uint64_t>(device)});
  const double u = static_cast<double>(h >> 11U) * 0x1.0p-53;
  if (u < p_.stuck_on) return stuck::on;
  if (u < p_.stuck_on + p_.stuck_off) return stuck::off;
  return stuck::none;
}

bool device_model::drift_spread() const noexcept {
  return p_.time_since_programming_s > p_.drift_t0_s && p_.drift_nu_sigma > 0.0;
}

// Drift and IR drop applied to a programmed conductance; hops = wire segments to the cell.
[[gnu::always_inline]] inline double device_model::finish(double g, int hops, const double*& next) const noexcept {
  if (p_.time_since_programming_s > p_.drift_t0_s && (p_.drift_nu > 0.0 || p_.drift_nu_sigma > 0.0)) {
    const double nu = p_.drift_nu_sigma > 0.0 ? std::max(0.0, p_.drift_nu + p_.drift_nu_sigma * *next++) : p_.drift_nu;
    g *= std::pow(p_.time_since_programming_s / p_.drift_t0_s, -nu);
    if (p_.drift_calibration) g /= drift_mean_factor_;
  }
  if (p_.wire_ohm > 0.0) {
    g /= 1.0 + g * p_.wire_ohm * static_cast<double>(hops);
  }
  return g;
}

void device_model::program(const rmat& digits, std::uint64_t array_key, int tile, normal_stream& noise,
                           programmed_cells& out) const {
  const Eigen::Index rows = digits.rows();
  const Eigen::Index cols = digits.cols();
  out.effective.resize(rows, cols);
  out.achieved.resize(rows, cols);
  out.noise_w.resize(rows, cols);
  out.row_g.setZero(rows);
  out.col_g.setZero(cols);
  out.faults.clear();
  out.devices = 0;
  out.pulses = 0;
  out.gated_pulses = 0;
  out.max_device_pulses = 0.0;
  // The stuck map first (it draws nothing), then every normal the cells will consume, in
  // their order: per cell (column-major) the writes of its non-stuck devices, then the
  // drift spread of G+ and of G−.
  const auto cells = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  std::size_t draws = 2 * cells;
  if (any_stuck_) {
    stuck_scratch_.resize(2 * cells);
    draws = 0;
    std::size_t c = 0;
    for (Eigen::Index j = 0; j < cols; ++j) {
      for (Eigen::Index i = 0; i < rows; ++i, c += 2) {
        stuck_scratch_[c] = stuck_state(array_key, i, j, 0);
        stuck_scratch_[c + 1] = stuck_state(array_key, i, j, 1);
        draws += (stuck_scratch_[c] == stuck::none ? 1U : 0U) + (stuck_scratch_[c + 1] == stuck::none ? 1U : 0U);
      }
    }
  }
  if (drift_spread()) draws += 2 * cells;
  normal_scratch_.resize(draws);
  noise.fill(normal_scratch_);
  const double* next = normal_scratch_.data();

  const double sigma_g = p_.program_sigma * (g_max_ - g_min_);
  const bool drift = p_.time_since_programming_s > p_.drift_t0_s && (p_.drift_nu > 0.0 || p_.drift_nu_sigma > 0.0);
  if (!any_stuck_ && !drift) {
    program_clean(digits, tile, sigma_g, out);
    return;
  }
  const auto write = [&](double target) {
    return std::clamp(target + sigma_g * *next++, 0.0, 1.05 * g_max_);
  };
  const double top = static_cast<double>(levels_ - 1);
  const auto device_pulses = static_cast<std::uint64_t>(p_.mean_pulses);  // an integer (validate())
  const auto stuck_pulses = static_cast<std::uint64_t>(p_.max_pulses);
  const auto verified_pulses = 2 * device_pulses;
  std::uint64_t verified_cells = 0;
  // Write groups: parallel_devices consecutive devices (cells column-major, G+ then G−)
  // are written together and the group lasts as long as its slowest device.
  const auto group_size = static_cast<std::uint64_t>(p_.parallel_devices);
  std::uint64_t device_index = 0;
  std::uint64_t group_max = 0;
  const auto written = [&](std::uint64_t pulses_of_device) {
    group_max = std::max(group_max, pulses_of_device);
    if (++device_index % group_size == 0) {
      out.gated_pulses += group_size * group_max;
      group_max = 0;
    }
  };
  std::size_t c = 0;
  for (Eigen::Index j = 0; j < cols; ++j) {
    const auto col_hops = static_cast<int>(j % tile) + 2;
    double col_sum = 0.0;
    for (Eigen::Index i = 0; i < rows; ++i, c += 2) {
      const double d = digits(i, j);
      const stuck sp = any_stuck_ ? stuck_scratch_[c] : stuck::none;
      const stuck sm = any_stuck_ ? stuck_scratch_[c + 1] : stuck::none;
      double gp = 0.0;
      double gm = 0.0;
      double achieved = d;
      if (sp == stuck::none && sm == stuck::none) {
        gp = write(g_min_ + std::max(d, 0.0) * delta_g_);
        gm = write(g_min_ + std::max(-d, 0.0) * delta_g_);
        ++verified_cells;
        written(device_pulses);
        written(device_pulses);
      } else if (sp != stuck::none && sm != stuck::none) {
        gp = sp == stuck::on ? g_max_ : g_min_;
        gm = sm == stuck::on ? g_max_ : g_min_;
        achieved = std::nearbyint((gp - gm) / delta_g_);
        out.pulses += 2 * static_cast<std::uint64_t>(p_.max_pulses);
        out.max_device_pulses = std::max(out.max_device_pulses, static_cast<double>(p_.max_pulses));
        written(stuck_pulses);
        written(stuck_pulses);
      } else {
        // One device stuck: re-target its partner so that G+ − G− = d·ΔG where reachable,
        // else the nearest reachable integer digit.
        const bool plus_stuck = sp != stuck::none;
        const double g_stuck = (plus_stuck ? sp : sm) == stuck::on ? g_max_ : g_min_;
        const double want = plus_stuck ? g_stuck - d * delta_g_ : g_stuck + d * delta_g_;
        const double partner_target = std::clamp(want, g_min_, g_max_);
        const double partner = write(partner_target);
        gp = plus_stuck ? g_stuck : partner;
        gm = plus_stuck ? partner : g_stuck;
        achieved = std::clamp(std::nearbyint(plus_stuck ? (g_stuck - partner_target) / delta_g_
                                                        : (partner_target - g_stuck) / delta_g_),
                              -top, top);
        out.pulses += stuck_pulses + device_pulses;
        out.max_device_pulses = std::max(out.max_device_pulses, static_cast<double>(p_.max_pulses));
        written(plus_stuck ? stuck_pulses : device_pulses);  // G+ first
        written(plus_stuck ? device_pulses : stuck_pulses);
      }
      if (achieved != d) {
        out.faults.push_back({static_cast<int>(i), static_cast<int>(j), d - achieved});
      }
      const int hops = static_cast<int>(i % tile) + col_hops;
      gp = finish(gp, hops, next);
      gm = finish(gm, hops, next);
      // The periphery references readouts to the nominal G_min pedestal of both devices,
      // which cancels in G+ − G−.
      out.effective(i, j) = (gp - gm) / delta_g_;
      out.achieved(i, j) = achieved;
      out.noise_w(i, j) = (gp * gp + gm * gm) / (delta_g_ * delta_g_);
      out.row_g(i) += gp + gm;
      col_sum += gp + gm;
    }
    out.col_g(j) = col_sum;
  }
  if (device_index % group_size != 0) out.gated_pulses += (device_index % group_size) * group_max;
  out.devices = 2 * static_cast<std::uint64_t>(cells);
  out.pulses += verified_cells * verified_pulses;
  if (verified_cells > 0) out.max_device_pulses = std::max(out.max_device_pulses, p_.mean_pulses);
}

// No stuck devices and no drift (the common case): every cell verifies, each device draws
// one normal (G+ then G−, cell by cell), and the arithmetic runs over whole columns so it
// vectorises. The same operations as the general loop, in the same order per value; only
// the column sums of the conductances are formed in a separate sequential pass.
void device_model::program_clean(const rmat& digits, int tile, double sigma_g, programmed_cells& out) const {
  const Eigen::Index rows = digits.rows();
  const Eigen::Index cols = digits.cols();
  const double* __restrict noise = normal_scratch_.data();
  const double g_top = 1.05 * g_max_;
  const double wire = p_.wire_ohm;
  const double dg2 = delta_g_ * delta_g_;
  hops_scratch_.resize(static_cast<std::size_t>(rows));
  pair_scratch_.resize(static_cast<std::size_t>(rows));
  double* __restrict pair = pair_scratch_.data();
  double* __restrict row_hops = hops_scratch_.data();
  for (Eigen::Index i = 0; i < rows; ++i) row_hops[i] = static_cast<double>(i % tile);
  double* __restrict row_g = out.row_g.data();
  for (Eigen::Index j = 0; j < cols; ++j) {
    const double* __restrict d = digits.data() + j * rows;
    double* __restrict eff = out.effective.data() + j * rows;
    double* __restrict ach = out.achieved.data() + j * rows;
    double* __restrict nw = out.noise_w.data() + j * rows;
    const double* __restrict nj = noise + 2 * j * rows;
    const auto col_hops = static_cast<double>(static_cast<int>(j % tile) + 2);
    Eigen::Index i = 0;
    {
      // Four rows at a time with the GCC/Clang vector extension: the same IEEE operations
      // per value as the scalar loop below (which GCC does not vectorise: the noise is
      // interleaved G+, G−), so the results are bit for bit the same.
      using v4d = double __attribute__((vector_size(32)));
      const v4d zero = {0.0, 0.0, 0.0, 0.0};
      const v4d top = zero + g_top;
      const v4d gmin = zero + g_min_;
      const v4d dg = zero + delta_g_;
      const v4d sg = zero + sigma_g;
      const v4d one = zero + 1.0;
      const v4d wire_v = zero + wire;
      const v4d ch = zero + col_hops;
      const v4d dg2_v = zero + dg2;
      for (; i + 4 <= rows; i += 4) {
        v4d dv;
        v4d n_lo;
        v4d n_hi;
        v4d rh;
        std::memcpy(&dv, d + i, sizeof dv);
        std::memcpy(&n_lo, nj + 2 * i, sizeof n_lo);
        std::memcpy(&n_hi, nj + 2 * i + 4, sizeof n_hi);
        std::memcpy(&rh, row_hops + i, sizeof rh);
        const v4d np = __builtin_shufflevector(n_lo, n_hi, 0, 2, 4, 6);
        const v4d nm = __builtin_shufflevector(n_lo, n_hi, 1, 3, 5, 7);
        const v4d dp = dv < zero ? zero : dv;  // std::max(d, 0.0)
        const v4d neg = -dv;
        const v4d dm = neg < zero ? zero : neg;
        v4d gp = gmin + dp * dg + sg * np;
        v4d gm = gmin + dm * dg + sg * nm;
        gp = gp < zero ? zero : (top < gp ? top : gp);  // std::clamp(gp, 0.0, g_top)
        gm = gm < zero ? zero : (top < gm ? top : gm);
        if (wire > 0.0) {
          const v4d hops = rh + ch;
          gp /= one + gp * wire_v * hops;
          gm /= one + gm * wire_v * hops;
        }
        const v4d e = (gp - gm) / dg;
        const v4d w = (gp * gp + gm * gm) / dg2_v;
        v4d rg;
        std::memcpy(&rg, row_g + i, sizeof rg);
        const v4d sum = gp + gm;
        rg += sum;
        std::memcpy(eff + i, &e, sizeof e);
        std::memcpy(ach + i, &dv, sizeof dv);
        std::memcpy(nw + i, &w, sizeof w);
        std::memcpy(row_g + i, &rg, sizeof rg);
        std::memcpy(pair + i, &sum, sizeof sum);
      }
    }
    for (; i < rows; ++i) {
      double gp = std::clamp(g_min_ + std::max(d[i], 0.0) * delta_g_ + sigma_g * nj[2 * i], 0.0, g_top);
      double gm = std::clamp(g_min_ + std::max(-d[i], 0.0) * delta_g_ + sigma_g * nj[2 * i + 1], 0.0, g_top);
      if (wire > 0.0) {
        // hops = i mod tile + j mod tile + 2, an integer: the sum below is exact.
        const double hops = row_hops[i] + col_hops;
        gp /= 1.0 + gp * wire * hops;
        gm /= 1.0 + gm * wire * hops;
      }
      eff[i] = (gp - gm) / delta_g_;
      ach[i] = d[i];
      nw[i] = (gp * gp + gm * gm) / dg2;
      row_g[i] += gp + gm;
      pair[i] = gp + gm;
    }
    double col_sum = 0.0;
    for (Eigen::Index r = 0; r < rows; ++r) col_sum += pair[r];
    out.col_g(j) = col_sum;
  }
  const auto cells = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols);
  out.devices = 2 * cells;
  out.pulses = cells * 2 * static_cast<std::uint64_t>(p_.mean_pulses);  // an integer (validate())
  out.gated_pulses = out.pulses;  // every device takes the same number
  if (cells > 0) out.max_device_pulses = std::max(0.0, p_.mean_pulses);
}

}  // namespace amimo::analog
