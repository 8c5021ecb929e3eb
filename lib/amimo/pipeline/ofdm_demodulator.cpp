#include <amimo/pipeline/ofdm_demodulator.h>

#include <algorithm>
#include <complex>
#include <numbers>

namespace amimo::pipeline {

namespace {

/// Σ |bin|² over the guard bins of one transform (interleaved re, im): eight partial sums,
/// so the sum is not one chain of dependent additions.
double guard_bin_energy(const float* bins, std::span<const int> guard) noexcept {
  constexpr std::size_t W = 8;
  float acc[W] = {};
  std::size_t i = 0;
  for (; i + W <= guard.size(); i += W) {
    for (std::size_t q = 0; q < W; ++q) {
      const auto at = 2 * static_cast<std::size_t>(guard[i + q]);
      acc[q] += bins[at] * bins[at] + bins[at + 1] * bins[at + 1];
    }
  }
  for (; i < guard.size(); ++i) {
    const auto at = 2 * static_cast<std::size_t>(guard[i]);
    acc[0] += bins[at] * bins[at] + bins[at + 1] * bins[at + 1];
  }
  double sum = 0.0;
  for (std::size_t q = 0; q < W; ++q) sum += static_cast<double>(acc[q]);
  return sum;
}

}  // namespace

ofdm_demodulator::ofdm_demodulator(const ofdm::numerology& n, int antennas, int fft_backoff,
                                   std::vector<int> guard_bins, int workers, int parts)
    : n_(n), antennas_(static_cast<std::size_t>(antennas)), fft_backoff_(fft_backoff), guard_bins_(std::move(guard_bins)) {
  const auto fft = static_cast<std::size_t>(n.fft_size);
  for (int w = 0; w < workers; ++w) {
    ffts_.push_back(std::make_unique<ofdm::fft_plan>(n.fft_size, ofdm::fft_plan::direction::forward));
  }
  const auto symbols = static_cast<std::size_t>(n.symbols_per_frame());
  grid_.assign(symbols * antennas_ * fft, cf32{});
  for (std::size_t s = 0; s < symbols; ++s) {
    const cf32* p = grid_.data() + s * antennas_ * fft;
    symbol_ptrs_.push_back(p);
  }
  for (int p = 0; p < n.pilot_groups() * n.pilot_symbols; ++p)
    pilot_ptrs_.push_back(symbol_ptrs_[static_cast<std::size_t>(n.pilot_symbol_index(p))]);
  backoff_ramp_.resize(fft);
  for (std::size_t b = 0; b < fft; ++b) {
    backoff_ramp_[b] = cf32(std::polar(1.0, 2.0 * std::numbers::pi * static_cast<double>(b) * fft_backoff / n.fft_size));
  }
  guard_energy_.assign(static_cast<std::size_t>(parts), 0.0);
  rows_.assign(antennas_, nullptr);
}

void ofdm_demodulator::transform_part(int worker, std::size_t part) noexcept {
  const auto ant = antennas_;
  const auto fft = static_cast<std::size_t>(n_.fft_size);
  const auto sym_len = static_cast<std::size_t>(n_.symbol_length());
  const auto offset = static_cast<std::size_t>(n_.cp_length - fft_backoff_);
  const std::size_t transforms = static_cast<std::size_t>(n_.symbols_per_frame()) * ant;
  const auto parts = guard_energy_.size();
  auto& plan = *ffts_[static_cast<std::size_t>(worker)];
  double guard_energy = 0.0;
  for (std::size_t item = part * transforms / parts; item < (part + 1) * transforms / parts; ++item) {
    const std::size_t s = item / ant;
    const std::size_t a = item % ant;
    const cf32* src = rows_[a] + s * sym_len + offset;
    std::copy(src, src + fft, plan.input().begin());
    plan.execute();
    // Remove the back-off phase ramp (real arithmetic: vectorises, unlike operator* on
    // std::complex without -ffast-math) and sum the guard-bin energy for the N0 estimate.
    float* dst = reinterpret_cast<float*>(grid_.data() + (s * ant + a) * fft);
    const float* out = reinterpret_cast<const float*>(plan.output().data());
    const float* ramp = reinterpret_cast<const float*>(backoff_ramp_.data());
    for (std::size_t b = 0; b < 2 * fft; b += 2) {
      dst[b] = out[b] * ramp[b] - out[b + 1] * ramp[b + 1];
      dst[b + 1] = out[b] * ramp[b + 1] + out[b + 1] * ramp[b];
    }
    guard_energy += guard_bin_energy(dst, guard_bins_);
  }
  guard_energy_[part] = guard_energy;
}

double ofdm_demodulator::noise_variance() const noexcept {
  const double bins = static_cast<double>(guard_bins_.size() * symbol_ptrs_.size() * antennas_);
  double energy = 0.0;
  for (const double e : guard_energy_) energy += e;
  return std::max(bins > 0.0 ? energy / bins : 0.0, 1e-12);
}

}  // namespace amimo::pipeline
