#include <amimo/analog/bit_slicing.h>
#include <amimo/analog/hp_mvm.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace amimo::analog {

hp_mvm::hp_mvm(const analog_profile& profile, const device_model& devices)
    : profile_(profile),
      devices_(devices),
      levels_(1 << profile.device.bits),
      slices_(profile.refinement.slices),
      chunk_bits_(profile.circuit.mvm_dac_bits),
      chunks_((profile.refinement.input_bits + profile.circuit.mvm_dac_bits - 1) / profile.circuit.mvm_dac_bits),
      array_(profile.circuit.array_size),
      adc_max_(std::ldexp(1.0, profile.circuit.mvm_adc_bits - 1) - 1.0),
      adc_steps_(std::ldexp(1.0, profile.circuit.mvm_adc_bits)),
      input_full_(std::ldexp(1.0, profile.refinement.input_bits) - 1.0),
      chunk_max_(std::ldexp(1.0, profile.circuit.mvm_dac_bits) - 1.0) {
  // Largest readout magnitude: every digit L−1, every input chunk at full scale.
  const double full = static_cast<double>(levels_ - 1) * (std::ldexp(1.0, chunk_bits_) - 1.0) * array_;
  integer_exact_ = adc_max_ >= full;
  adc_lsb_ = integer_exact_ ? 1.0 : full / adc_max_;
}

void hp_mvm::program(const std::vector<rmat>& digits, const rmat& a_q, normal_stream& noise,
                     programming_activity& activity) {
  n_ = static_cast<int>(a_q.rows());
  tile_cols_ = (n_ + array_ - 1) / array_;
  // a_q entries are multiples of L^−S with |a| < 1, inputs integers below 2^input_bits:
  // n·2^(m·S)·2^input_bits ≤ 2^53 makes the whole product exact in double precision.
  exact_sum_ = std::log2(static_cast<double>(n_)) + profile_.device.bits * slices_ + profile_.refinement.input_bits <= 53.0;
  a_q_ = a_q;
  cells_.resize(static_cast<std::size_t>(slices_));
  error_.resize(static_cast<std::size_t>(slices_));
  col_g_.setZero(n_);
  u_.resize(n_);
  v_.resize(n_);
  var_.resize(n_);
  e_sum_.resize(n_);
  w_sum_.resize(n_);
  x_q_.reserve(static_cast<std::size_t>(n_));
  fault_count_ = 0;
  const double umax = std::ldexp(1.0, chunk_bits_) - 1.0;
  double beta_max = 0.0;
  double w_max = 0.0;
  for (int s = 0; s < slices_; ++s) {
    const auto si = static_cast<std::size_t>(s);
    devices_.program(digits[si], static_cast<std::uint64_t>(s), array_, noise, cells_[si]);
    const programmed_cells& c = cells_[si];
    error_[si] = c.effective - c.achieved;
    col_g_ += c.col_g;
    fault_count_ += c.faults.size();
    activity.devices += c.devices;
    activity.pulses += c.pulses;
    activity.gated_pulses += c.gated_pulses;
    activity.max_pulses_per_device = std::max(activity.max_pulses_per_device, c.max_device_pulses);
    activity.unverified_cells += c.faults.size();
    // Per tile and row: Σ_j |error| and Σ_j noise weight over the tile's columns, summed
    // in column order (as a sequential row sum would), but column by column so the
    // rows vectorise.
    double* __restrict e_sum = e_sum_.data();
    double* __restrict w_sum = w_sum_.data();
    for (int tc = 0; tc < tile_cols_; ++tc) {
      const int j0 = tc * array_;
      const int width = std::min(array_, n_ - j0);
      for (int i = 0; i < n_; ++i) {
        e_sum[i] = 0.0;
        w_sum[i] = 0.0;
      }
      for (int j = j0; j < j0 + width; ++j) {
        const double* __restrict e = error_[si].data() + static_cast<std::ptrdiff_t>(j) * n_;
        const double* __restrict w = c.noise_w.data() + static_cast<std::ptrdiff_t>(j) * n_;
        for (int i = 0; i < n_; ++i) {
          e_sum[i] += std::abs(e[i]);
          w_sum[i] += w[i];
        }
      }
      for (int i = 0; i < n_; ++i) {
        beta_max = std::max(beta_max, umax * e_sum[i]);
        w_max = std::max(w_max, w_sum[i]);
      }
    }
  }
  const auto tiles = static_cast<std::uint64_t>(tile_cols_) * static_cast<std::uint64_t>(tile_cols_);
  activity.arrays += tiles * static_cast<std::uint64_t>(slices_);
  if (profile_.refinement.faults == fault_policy::correct) activity.corrected_cells += fault_count_;
  activity.digital_ops += static_cast<double>(slices_) * n_ * n_;  // slicing

  // The per-readout path draws one normal per readout; sized here, not per multiply.
  readout_normals_.resize(profile_.device.read_noise > 0.0
                              ? static_cast<std::size_t>(slices_) * static_cast<std::size_t>(chunks_) *
                                    static_cast<std::size_t>(tile_cols_) * static_cast<std::size_t>(n_)
                              : 0U);
  const double sigma_max = profile_.device.read_noise * umax * std::sqrt(w_max);
  fast_ = integer_exact_ && beta_max < 0.5;
  if (fast_ && sigma_max > 0.0) {
    tau_ = (0.5 - beta_max) / sigma_max;
    const double q = std::erfc(tau_ / std::sqrt(2.0));  // P(|z| ≥ τ)
    log1mq_ = q >= 1.0 ? -INFINITY : std::log1p(-q);
    if (q > 0.25) fast_ = false;  // thinning would not save work
  } else {
    tau_ = INFINITY;
    log1mq_ = 0.0;
  }
}

double hp_mvm::tail_normal(rng& gen, normal_stream& noise) const noexcept {
  double z = 0.0;
  if (tau_ < 1.0) {
    do {
      z = noise.next();
    } while (std::abs(z) < tau_);
    return z;
  }
  // Marsaglia (1964): exact sampling of the normal tail beyond τ.
  double x = 0.0;
  double y = 0.0;
  do {
    x = -std::log(1.0 - gen.uniform()) / tau_;
    y = -std::log(1.0 - gen.uniform());
  } while (2.0 * y < x * x);
  z = tau_ + x;
  return gen.uniform() < 0.5 ? -z : z;
}

void hp_mvm::multiply(const rvec& x, rvec& y, rng& gen, normal_stream& noise, solve_activity& activity) {
  const double scale = quantise_input(x, profile_.refinement.input_bits, x_q_);
  const double unit = scale / input_full_;  // value of input integer 1
  const double umax = chunk_max_;

  const auto readouts = static_cast<std::uint64_t>(slices_) * static_cast<std::uint64_t>(chunks_) *
                        static_cast<std::uint64_t>(tile_cols_) * static_cast<std::uint64_t>(n_);
  const auto reads = static_cast<std::uint64_t>(slices_) * static_cast<std::uint64_t>(chunks_) *
                     static_cast<std::uint64_t>(tile_cols_) * static_cast<std::uint64_t>(tile_cols_);
  activity.hp_mvm_ops += 1;
  activity.hp_mvm_steps += static_cast<std::uint64_t>(chunks_);
  activity.array_reads += reads;
  activity.tia_reads += readouts;
  activity.adc_conversions += readouts;
  activity.adc_steps += static_cast<double>(readouts) * adc_steps_;
  activity.dac_conversions += static_cast<std::uint64_t>(n_) * static_cast<std::uint64_t>(chunks_);
  // A chunk is signed (sign and chunk_bits of magnitude, as the LP-INV DAC's bits include
  // its sign): 2^(chunk_bits+1) steps per conversion.
  activity.dac_steps += static_cast<double>(n_) * chunks_ * 2.0 * (chunk_max_ + 1.0);
  activity.digital_ops += static_cast<double>(readouts) + 2.0 * n_ +
                          static_cast<double>(fault_count_) * chunks_;
  // Array read activity: Σ_j colG_j · Σ_c (u_cj / umax)².
  double activity_sum = 0.0;
  for (int j = 0; j < n_; ++j) {
    const std::int64_t v = x_q_[static_cast<std::size_t>(j)];
    double w = 0.0;
    if (chunk_bits_ == 1) {
      w = static_cast<double>(std::popcount(static_cast<std::uint64_t>(v < 0 ? -v : v)));
    } else {
      for (int c = 0; c < chunks_; ++c) {
        const double u = input_chunk(v, chunk_bits_, chunk_bits_ * (chunks_ - 1 - c)) / umax;
        w += u * u;
      }
    }
    activity_sum += w * col_g_(j);
  }
  activity.read_conductance += activity_sum;

  if (!(scale > 0.0)) {
    y.setZero(n_);
    return;
  }
  if (fast_) {
    multiply_fast(unit, y, gen, noise, activity);
  } else {
    multiply_slow(unit, y, noise);
  }
}

void hp_mvm::multiply_fast(double unit, rvec& y, rng& gen, normal_stream& noise, solve_activity& activity) {
  // The exact integer product Σ_s L^−(s+1) D_s x_q (faults corrected).
  for (int j = 0; j < n_; ++j) u_(j) = static_cast<double>(x_q_[static_cast<std::size_t>(j)]);
  if (exact_sum_) {
    // Every term and partial sum is an integer multiple of L^−S below 2^53 of them, so
    // any summation order gives the same (exact) result: a plain column sweep.
    // Blocks of 16 rows kept in four vector accumulators (no store/load per column).
    y.resize(n_);
    double* out = y.data();
    const double* u = u_.data();
    const double* a = a_q_.data();
    using v4d = double __attribute__((vector_size(32)));
    int i0 = 0;
    for (; i0 + 16 <= n_; i0 += 16) {
      v4d acc[4] = {};
      for (int j = 0; j < n_; ++j) {
        const double* col = a + static_cast<std::ptrdiff_t>(j) * n_ + i0;
        for (int b = 0; b < 4; ++b) {
          v4d c;
          std::memcpy(&c, col + 4 * b, sizeof c);
          acc[b] += c * u[j];
        }
      }
      std::memcpy(out + i0, acc, sizeof acc);
    }
    for (; i0 + 8 <= n_; i0 += 8) {
      v4d acc[2] = {};
      for (int j = 0; j < n_; ++j) {
        const double* col = a + static_cast<std::ptrdiff_t>(j) * n_ + i0;
        for (int b = 0; b < 2; ++b) {
          v4d c;
          std::memcpy(&c, col + 4 * b, sizeof c);
          acc[b] += c * u[j];
        }
      }
      std::memcpy(out + i0, acc, sizeof acc);
    }
    for (int i = i0; i < n_; ++i) out[i] = 0.0;
    for (int j = 0; j < n_ && i0 < n_; ++j) {
      const double* col = a + static_cast<std::ptrdiff_t>(j) * n_;
      for (int i = i0; i < n_; ++i) out[i] += col[i] * u[j];
    }
  } else {
    y.noalias() = a_q_ * u_;
  }
  if (!(tau_ < INFINITY)) {
    y *= unit;
    return;
  }
  // Readouts where read noise may cross a rounding threshold, by geometric skips.
  const auto total = static_cast<std::uint64_t>(slices_) * static_cast<std::uint64_t>(chunks_) *
                     static_cast<std::uint64_t>(tile_cols_) * static_cast<std::uint64_t>(n_);
  const double sigma = profile_.device.read_noise;
  double next = 0.0;
  while (true) {
    const double skip = std::floor(std::log(1.0 - gen.uniform()) / log1mq_);
    next += skip;
    if (!(next < static_cast<double>(total))) break;
    auto r = static_cast<std::uint64_t>(next);
    next += 1.0;
    const auto i = static_cast<Eigen::Index>(r % static_cast<std::uint64_t>(n_));
    r /= static_cast<std::uint64_t>(n_);
    const auto tc = static_cast<int>(r % static_cast<std::uint64_t>(tile_cols_));
    r /= static_cast<std::uint64_t>(tile_cols_);
    const auto c = static_cast<int>(r % static_cast<std::uint64_t>(chunks_));
    const auto s = static_cast<std::size_t>(r / static_cast<std::uint64_t>(chunks_));
    const double z = tail_normal(gen, noise);
    const int shift = chunk_bits_ * (chunks_ - 1 - c);
    const int j0 = tc * array_;
    const int j1 = std::min(n_, j0 + array_);
    double e = 0.0;
    double var = 0.0;
    double exact = 0.0;
    for (int j = j0; j < j1; ++j) {
      const double u = input_chunk(x_q_[static_cast<std::size_t>(j)], chunk_bits_, shift);
      e += error_[s](i, j) * u;
      var += cells_[s].noise_w(i, j) * u * u;
      exact += cells_[s].achieved(i, j) * u;
    }
    const double code = std::clamp(std::nearbyint(exact + e + sigma * std::sqrt(var) * z), -adc_max_, adc_max_);
    const double k = code - exact;
    if (k != 0.0) {
      ++activity.noise_readout_errors;
      y(i) += k * std::pow(static_cast<double>(levels_), -static_cast<double>(s + 1)) * std::ldexp(1.0, shift);
    }
  }
  y *= unit;
}

void hp_mvm::multiply_slow(double unit, rvec& y, normal_stream& normals) {
  y.setZero(n_);
  const double sigma = profile_.device.read_noise;
  const bool correct = profile_.refinement.faults == fault_policy::correct;
  // Every readout's read-noise normal, in readout order (slice, chunk, tile, row), drawn
  // in one bulk fill.
  const double* noise = nullptr;
  if (sigma > 0.0) {
    normals.fill(readout_normals_);
    noise = readout_normals_.data();
  }
  double* v = v_.data();
  double* var = var_.data();
  for (int s = 0; s < slices_; ++s) {
    const auto si = static_cast<std::size_t>(s);
    const double slice_weight = std::pow(static_cast<double>(levels_), -static_cast<double>(s + 1));
    const programmed_cells& cells = cells_[si];
    for (int c = 0; c < chunks_; ++c) {
      const int shift = chunk_bits_ * (chunks_ - 1 - c);
      const double weight = slice_weight * std::ldexp(1.0, shift);
      for (int j = 0; j < n_; ++j) u_(j) = input_chunk(x_q_[static_cast<std::size_t>(j)], chunk_bits_, shift);
      for (int tc = 0; tc < tile_cols_; ++tc) {
        const int j0 = tc * array_;
        const int width = std::min(array_, n_ - j0);
        // One array read: the readout currents and their read-noise variances, column by
        // column (columns whose input chunk is zero carry no current).
        for (int i = 0; i < n_; ++i) {
          v[i] = 0.0;
          var[i] = 0.0;
        }
        for (int j = j0; j < j0 + width; ++j) {
          const double uj = u_(j);
          if (uj == 0.0) continue;
          const double uj2 = uj * uj;
          const double* e = cells.effective.data() + static_cast<std::ptrdiff_t>(j) * n_;
          const double* w = cells.noise_w.data() + static_cast<std::ptrdiff_t>(j) * n_;
          for (int i = 0; i < n_; ++i) {
            v[i] += e[i] * uj;
            var[i] += w[i] * uj2;
          }
        }
        for (int i = 0; i < n_; ++i) {
          double value = v[i];
          if (sigma > 0.0) value += sigma * std::sqrt(var[i]) * *noise++;
          const double code = std::clamp(std::nearbyint(value / adc_lsb_), -adc_max_, adc_max_);
          v[i] = code * adc_lsb_;
        }
        if (correct) {
          for (const cell_fault& f : cells.faults) {
            if (f.col >= j0 && f.col < j0 + width) v_(f.row) += f.delta * u_(f.col);
          }
        }
        y += weight * v_;
      }
    }
  }
  y *= unit;
}

}  // namespace amimo::analog
