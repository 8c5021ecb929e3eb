#include <amimo/analog/device_model.h>

#include <algorithm>
#include <cmath>

namespace amimo::analog {

device_model::device_model(const device_params& params, std::uint64_t chip_seed)
    : p_(params),
      chip_seed_(chip_seed),
      levels_(1 << params.bits),
      g_min_(params.g_min_us * 1e-6),
      g_max_(params.g_max_us * 1e-6),
      delta_g_((g_max_ - g_min_) / (levels_ - 1)),
      drift_mean_factor_(1.0) {
  if (p_.time_since_programming_s > p_.drift_t0_s) {
    drift_mean_factor_ = std::pow(p_.time_since_programming_s / p_.drift_t0_s, -p_.drift_nu);
  }
}

device_model::stuck device_model::stuck_state(std::uint64_t array_key, Eigen::Index i, Eigen::Index j,
                                              int device) const noexcept {
  if (p_.stuck_on <= 0.0 && p_.stuck_off <= 0.0) return stuck::none;
  const std::uint64_t h = derive_seed(chip_seed_, {array_key, static_cast<std::uint64_t>(i),
                                                   static_cast<std::uint64_t>(j), static_cast<std::uint64_t>(device)});
  const double u = static_cast<double>(h >> 11U) * 0x1.0p-53;
  if (u < p_.stuck_on) return stuck::on;
  if (u < p_.stuck_on + p_.stuck_off) return stuck::off;
  return stuck::none;
}

// Drift and IR drop applied to a programmed conductance.
double device_model::finish(double g, Eigen::Index i, Eigen::Index j, int tile, rng& gen) const noexcept {
  if (p_.time_since_programming_s > p_.drift_t0_s && (p_.drift_nu > 0.0 || p_.drift_nu_sigma > 0.0)) {
    const double nu = p_.drift_nu_sigma > 0.0 ? std::max(0.0, p_.drift_nu + p_.drift_nu_sigma * gen.normal()) : p_.drift_nu;
    g *= std::pow(p_.time_since_programming_s / p_.drift_t0_s, -nu);
    if (p_.drift_calibration) g /= drift_mean_factor_;
  }
  if (p_.wire_ohm > 0.0) {
    const auto hops = static_cast<double>(i % tile + j % tile + 2);
    g /= 1.0 + g * p_.wire_ohm * hops;
  }
  return g;
}

void device_model::program(const rmat& digits, std::uint64_t array_key, int tile, rng& gen,
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
  out.max_device_pulses = 0.0;
  const double sigma_g = p_.program_sigma * (g_max_ - g_min_);
  const auto write = [&](double target) {
    return std::clamp(target + sigma_g * gen.normal(), 0.0, 1.05 * g_max_);
  };
  const double top = static_cast<double>(levels_ - 1);
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      const double d = digits(i, j);
      const stuck sp = stuck_state(array_key, i, j, 0);
      const stuck sm = stuck_state(array_key, i, j, 1);
      double gp = 0.0;
      double gm = 0.0;
      double achieved = d;
      if (sp == stuck::none && sm == stuck::none) {
        gp = write(g_min_ + std::max(d, 0.0) * delta_g_);
        gm = write(g_min_ + std::max(-d, 0.0) * delta_g_);
        out.pulses += 2 * static_cast<std::uint64_t>(std::lround(p_.mean_pulses));
        out.max_device_pulses = std::max(out.max_device_pulses, p_.mean_pulses);
      } else if (sp != stuck::none && sm != stuck::none) {
        gp = sp == stuck::on ? g_max_ : g_min_;
        gm = sm == stuck::on ? g_max_ : g_min_;
        achieved = std::nearbyint((gp - gm) / delta_g_);
        out.pulses += 2 * static_cast<std::uint64_t>(p_.max_pulses);
        out.max_device_pulses = std::max(out.max_device_pulses, static_cast<double>(p_.max_pulses));
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
        out.pulses += static_cast<std::uint64_t>(p_.max_pulses) + static_cast<std::uint64_t>(std::lround(p_.mean_pulses));
        out.max_device_pulses = std::max(out.max_device_pulses, static_cast<double>(p_.max_pulses));
      }
      if (achieved != d) {
        out.faults.push_back({static_cast<int>(i), static_cast<int>(j), d - achieved});
      }
      gp = finish(gp, i, j, tile, gen);
      gm = finish(gm, i, j, tile, gen);
      // The periphery references readouts to the nominal G_min pedestal of both devices,
      // which cancels in G+ − G−.
      out.effective(i, j) = (gp - gm) / delta_g_;
      out.achieved(i, j) = achieved;
      out.noise_w(i, j) = (gp * gp + gm * gm) / (delta_g_ * delta_g_);
      out.row_g(i) += gp + gm;
      out.col_g(j) += gp + gm;
      out.devices += 2;
    }
  }
}

}  // namespace amimo::analog
