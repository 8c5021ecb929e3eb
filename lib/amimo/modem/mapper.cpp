#include <amimo/core/error.h>
#include <amimo/modem/liquid_constellation.h>
#include <amimo/modem/mapper.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace amimo::modem {
namespace {

// Distinct values of a coordinate, sorted, merging values closer than a tolerance.
std::vector<double> distinct_levels(const std::vector<cf64>& points, bool imaginary) {
  std::vector<double> values;
  values.reserve(points.size());
  for (const cf64& p : points) values.push_back(imaginary ? p.imag() : p.real());
  std::sort(values.begin(), values.end());
  std::vector<double> levels;
  for (const double v : values) {
    if (levels.empty() || v - levels.back() > 1e-6) levels.push_back(v);
  }
  return levels;
}

std::size_t nearest_level(const std::vector<double>& levels, double x) noexcept {
  // Levels are few (at most 16) and sorted: a linear scan beats anything clever.
  std::size_t best = 0;
  for (std::size_t i = 1; i < levels.size(); ++i) {
    if (std::abs(x - levels[i]) < std::abs(x - levels[best])) best = i;
  }
  return best;
}

std::size_t level_index(const std::vector<double>& levels, double x) {
  const std::size_t i = nearest_level(levels, x);
  if (std::abs(levels[i] - x) > 1e-6) throw config_error("constellation is not a grid");
  return i;
}

}  // namespace

mapper::mapper(modulation scheme)
    : scheme_(scheme), bits_per_symbol_(amimo::modem::bits_per_symbol(scheme)), points_(liquid_constellation(scheme)) {
  if (points_.size() != (std::size_t{1} << bits_per_symbol_)) {
    throw config_error("liquid-dsp constellation for " + std::string(to_string(scheme)) +
                       " has an unexpected size");
  }
  double energy = 0.0;
  for (const cf64& p : points_) energy += std::norm(p);
  const double scale = 1.0 / std::sqrt(energy / static_cast<double>(points_.size()));
  for (cf64& p : points_) p *= scale;

  i_levels_ = distinct_levels(points_, false);
  q_levels_ = distinct_levels(points_, true);
  if (i_levels_.size() * q_levels_.size() != points_.size()) {
    throw config_error("constellation of " + std::string(to_string(scheme)) +
                       " is not a rectangular grid");
  }
  grid_labels_.assign(points_.size(), 0U);
  for (unsigned label = 0; label < points_.size(); ++label) {
    const std::size_t i = level_index(i_levels_, points_[label].real());
    const std::size_t q = level_index(q_levels_, points_[label].imag());
    grid_labels_[i * q_levels_.size() + q] = label;
  }
  // Is every label bit a function of one axis's level alone? Then max-log LLRs separate
  // per axis (the other axis's minimum cancels), √M distances per axis instead of M.
  const std::size_t ni = i_levels_.size();
  const std::size_t nq = q_levels_.size();
  separable_ = true;
  bit_axis_.assign(bits_per_symbol_, -1);
  bit_level_.assign(bits_per_symbol_, {});
  for (unsigned b = 0; b < bits_per_symbol_ && separable_; ++b) {
    const auto bit_at = [&](std::size_t i, std::size_t q) {
      return static_cast<unsigned char>((grid_labels_[i * nq + q] >> (bits_per_symbol_ - 1 - b)) & 1U);
    };
    bool by_i = true;
    bool by_q = true;
    for (std::size_t i = 0; i < ni; ++i)
      for (std::size_t q = 0; q < nq; ++q) {
        by_i = by_i && bit_at(i, q) == bit_at(i, 0);
        by_q = by_q && bit_at(i, q) == bit_at(0, q);
      }
    if (by_i) {
      bit_axis_[b] = 0;
      for (std::size_t i = 0; i < ni; ++i) bit_level_[b].push_back(bit_at(i, 0));
    } else if (by_q) {
      bit_axis_[b] = 1;
      for (std::size_t q = 0; q < nq; ++q) bit_level_[b].push_back(bit_at(0, q));
    } else {
      separable_ = false;
    }
  }
  if (ni > 16 || nq > 16) separable_ = false;
  if (!separable_) return;
  // Uniform spacing on both axes enables the rounding slicer and the neighbour tables.
  const std::vector<double>* axes[2] = {&i_levels_, &q_levels_};
  uniform_ = true;
  for (int axis = 0; axis < 2; ++axis) {
    const std::vector<double>& levels = *axes[axis];
    const double step = levels.size() > 1 ? (levels.back() - levels.front()) / static_cast<double>(levels.size() - 1) : 1.0;
    for (std::size_t l = 0; l < levels.size(); ++l) {
      const double expected = levels.front() + step * static_cast<double>(l);
      uniform_ = uniform_ && std::abs(levels[l] - expected) <= 1e-5 * step;  // liquid-dsp points are float
    }
    // liquid-dsp's points are floats, so ±level pairs differ in their last bits. Decision
    // levels are snapped to an exactly symmetric grid ((2l − (n−1))·step/2, negation exact):
    // a sample exactly between two levels (0 is common: an ADC-quantised analog output) is
    // then an exact tie, its max-log LLR exactly 0 for hard decisions and soft outputs alike,
    // instead of two roundings that pick opposite sides.
    const bool centred = std::abs(levels.front() + levels.back()) <= 1e-5 * step;
    if (uniform_ && centred) {
      std::vector<double>& snapped = axis == 0 ? i_levels_ : q_levels_;
      const auto n = static_cast<long>(snapped.size());
      for (long l = 0; l < n; ++l) snapped[static_cast<std::size_t>(l)] = static_cast<double>(2 * l - (n - 1)) * step / 2.0;
    }
    axis_origin_[axis] = levels.front();
    axis_inverse_step_[axis] = 1.0 / step;
    axis_last_[axis] = static_cast<double>(levels.size() - 1);
  }
  if (!uniform_) return;
  constexpr double far = 1e100;
  opposite_below_.assign(bits_per_symbol_ * 16, far);
  opposite_above_.assign(bits_per_symbol_ * 16, far);
  llr_sign_.assign(bits_per_symbol_ * 16, 1.0);
  for (unsigned b = 0; b < bits_per_symbol_; ++b) {
    const auto& bits = bit_level_[b];
    const std::vector<double>& levels = *axes[bit_axis_[b]];
    for (std::size_t l = 0; l < bits.size(); ++l) {
      const std::size_t at = b * 16 + l;
      for (std::size_t j = l; j-- > 0;) {
        if (bits[j] != bits[l]) {
          opposite_below_[at] = levels[j];
          break;
        }
      }
      for (std::size_t j = l + 1; j < bits.size(); ++j) {
        if (bits[j] != bits[l]) {
          opposite_above_[at] = levels[j];
          break;
        }
      }
      llr_sign_[at] = bits[l] != 0 ? -1.0 : 1.0;
    }
  }
}

void mapper::map(std::span<cf64> symbols, std::span<const bit> bits) const {
  if (bits.size() != symbols.size() * bits_per_symbol_) {
    throw std::invalid_argument("mapper::map: bit count does not match symbol count");
  }
  for (std::size_t s = 0; s < symbols.size(); ++s) {
    unsigned label = 0;
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      label = (label << 1U) | (bits[s * bits_per_symbol_ + b] & 1U);
    }
    symbols[s] = points_[label];
  }
}

unsigned mapper::decide(cf64 sample) const noexcept {
  const std::size_t i = nearest_level(i_levels_, sample.real());
  const std::size_t q = nearest_level(q_levels_, sample.imag());
  return grid_labels_[i * q_levels_.size() + q];
}

void mapper::demap_hard(std::span<bit> bits, std::span<const cf64> samples) const {
  if (bits.size() != samples.size() * bits_per_symbol_) {
    throw std::invalid_argument("mapper::demap_hard: bit count does not match sample count");
  }
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const unsigned label = decide(samples[s]);
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      bits[s * bits_per_symbol_ + b] = static_cast<bit>((label >> (bits_per_symbol_ - 1 - b)) & 1U);
    }
  }
}

void mapper::demap_soft(std::span<float> llrs, std::span<const cf64> samples,
                       std::span<const double> noise_variance) const {
  if (llrs.size() != samples.size() * bits_per_symbol_ || noise_variance.size() != samples.size()) {
    throw std::invalid_argument("mapper::demap_soft: buffer sizes do not match");
  }
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (std::size_t s = 0; s < samples.size(); ++s) {
    float* out = llrs.data() + s * bits_per_symbol_;
    const double variance = noise_variance[s];
    if (!std::isfinite(variance) || !std::isfinite(samples[s].real()) ||
        !std::isfinite(samples[s].imag())) {
      std::fill(out, out + bits_per_symbol_, 0.0F);
      continue;
    }
    const double inv_var = 1.0 / std::max(variance, 1e-300);
    if (uniform_) {
      const double x[2] = {samples[s].real(), samples[s].imag()};
      const double* level_values[2] = {i_levels_.data(), q_levels_.data()};
      std::size_t nearest[2];
      for (int axis = 0; axis < 2; ++axis) {  // round to the nearest level, clamped
        const double t = (x[axis] - axis_origin_[axis]) * axis_inverse_step_[axis] + 0.5;
        nearest[axis] = static_cast<std::size_t>(std::min(std::max(t, 0.0), axis_last_[axis] + 0.5));
      }
      for (unsigned b = 0; b < bits_per_symbol_; ++b) {
        const auto axis = static_cast<std::size_t>(bit_axis_[b]);
        const double v = x[axis];
        const std::size_t at = b * 16 + nearest[axis];
        const double level = level_values[axis][nearest[axis]];
        // (|v − opposite|² − |v − nearest|²) as a product of sum and difference of distances:
        // an exact tie gives exactly 0 (no FMA contraction can leave a rounding residue).
        const double dn = std::fabs(v - level);
        const double opposite = std::min(std::fabs(v - opposite_below_[at]), std::fabs(v - opposite_above_[at]));
        out[b] = static_cast<float>(llr_sign_[at] * ((opposite - dn) * (opposite + dn)) * inv_var);
      }
      continue;
    }
    if (separable_) {
      double di[16];
      double dq[16];
      for (std::size_t i = 0; i < i_levels_.size(); ++i) {
        const double d = samples[s].real() - i_levels_[i];
        di[i] = d * d;
      }
      for (std::size_t q = 0; q < q_levels_.size(); ++q) {
        const double d = samples[s].imag() - q_levels_[q];
        dq[q] = d * d;
      }
      for (unsigned b = 0; b < bits_per_symbol_; ++b) {
        const double* dist = bit_axis_[b] == 0 ? di : dq;
        const auto& levels = bit_level_[b];
        double m0 = inf;
        double m1 = inf;
        for (std::size_t l = 0; l < levels.size(); ++l) {
          double& slot = levels[l] != 0 ? m1 : m0;
          slot = std::min(slot, dist[l]);
        }
        out[b] = static_cast<float>((m1 - m0) * inv_var);
      }
      continue;
    }
    double min0[8];
    double min1[8];
    std::fill(min0, min0 + 8, inf);
    std::fill(min1, min1 + 8, inf);
    for (unsigned label = 0; label < points_.size(); ++label) {
      const double d = std::norm(samples[s] - points_[label]);
      for (unsigned b = 0; b < bits_per_symbol_; ++b) {
        const bool one = ((label >> (bits_per_symbol_ - 1 - b)) & 1U) != 0U;
        double& slot = one ? min1[b] : min0[b];
        slot = std::min(slot, d);
      }
    }
    for (unsigned b = 0; b < bits_per_symbol_; ++b) {
      out[b] = static_cast<float>((min1[b] - min0[b]) * inv_var);
    }
  }
}

}  // namespace amimo::modem
