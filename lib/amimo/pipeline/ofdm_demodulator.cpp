#include <amimo/pipeline/ofdm_demodulator.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <new>

namespace amimo::pipeline {

namespace {

/// Σ |bin|² over bins [first, first + count) of one transform (interleaved re, im), in
/// eight partial sums so that the loop vectorises (one running sum is one long dependency
/// chain).
double run_energy(const float* bins, std::size_t first, std::size_t count) noexcept {
  constexpr std::size_t W = 8;
  float acc[W] = {};
  const float* p = bins + 2 * first;
  const std::size_t n = 2 * count;
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    for (std::size_t q = 0; q < W; ++q) acc[q] += p[i + q] * p[i + q];
  }
  for (; i < n; ++i) acc[i % W] += p[i] * p[i];
  double sum = 0.0;
  for (std::size_t q = 0; q < W; ++q) sum += static_cast<double>(acc[q]);
  return sum;
}

/// dst[i] = src[i]·scale over n samples (real arithmetic: vectorises).
void scaled_copy(const cf32* src, std::size_t n, float scale, cf32* dst) noexcept {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  for (std::size_t i = 0; i < 2 * n; ++i) d[i] = s[i] * scale;
}

constexpr std::align_val_t kGridAlignment{64};

/// Asks for the n samples at p to be brought into the cache (one hint per 64-byte line).
void prefetch(const cf32* p, std::size_t n) noexcept {
  const char* c = reinterpret_cast<const char*>(p);
  for (std::size_t b = 0; b < n * sizeof(cf32); b += 64) __builtin_prefetch(c + b);
}

}  // namespace

void ofdm_demodulator::aligned_delete::operator()(cf32* p) const noexcept { ::operator delete[](p, kGridAlignment); }

ofdm_demodulator::ofdm_demodulator(const ofdm::numerology& n, int antennas, int fft_backoff,
                                   std::vector<int> guard_bins, int workers, int parts)
    : n_(n), antennas_(static_cast<std::size_t>(antennas)), row_stride_(static_cast<std::size_t>(n.fft_size) + kRowPad),
      fft_backoff_(fft_backoff), guard_bins_(std::move(guard_bins)) {
  for (int w = 0; w < workers; ++w) {
    ffts_.push_back(std::make_unique<ofdm::fft_plan>(n.fft_size, ofdm::fft_plan::direction::forward));
  }
  const auto symbols = static_cast<std::size_t>(n.symbols_per_frame());
  const std::size_t cells = symbols * antennas_ * row_stride_;
  grid_.reset(static_cast<cf32*>(::operator new[](cells * sizeof(cf32), kGridAlignment)));
  std::uninitialized_fill_n(grid_.get(), cells, cf32{});
  for (std::size_t s = 0; s < symbols; ++s) {
    const cf32* p = grid_.get() + s * antennas_ * row_stride_;
    symbol_ptrs_.push_back(p);
  }
  for (int p = 0; p < n.pilot_groups() * n.pilot_symbols; ++p)
    pilot_ptrs_.push_back(symbol_ptrs_[static_cast<std::size_t>(n.pilot_symbol_index(p))]);
  guard_energy_.assign(static_cast<std::size_t>(parts), 0.0);
  // The guard bins as runs of consecutive bins (the band edges: usually two runs and DC).
  for (const int b : guard_bins_) {
    if (!guard_runs_.empty() && guard_runs_.back().first + guard_runs_.back().second == static_cast<std::size_t>(b)) {
      ++guard_runs_.back().second;
    } else {
      guard_runs_.emplace_back(static_cast<std::size_t>(b), 1);
    }
  }
  rows_.assign(antennas_, nullptr);
}

void ofdm_demodulator::transform_part(int worker, std::size_t part) noexcept {
  const auto ant = antennas_;
  const auto fft = static_cast<std::size_t>(n_.fft_size);
  const auto sym_len = static_cast<std::size_t>(n_.symbol_length());
  const auto offset = static_cast<std::size_t>(n_.cp_length - fft_backoff_);
  const std::size_t transforms = static_cast<std::size_t>(n_.symbols_per_frame()) * ant;
  const auto parts = guard_energy_.size();
  const auto backoff = static_cast<std::size_t>(fft_backoff_);
  const float scale = 1.0F / std::sqrt(static_cast<float>(fft));
  auto& plan = *ffts_[static_cast<std::size_t>(worker)];
  cf32* in = plan.input().data();
  double guard_energy = 0.0;
  const std::size_t begin = part * transforms / parts;
  const std::size_t end = (part + 1) * transforms / parts;
  const auto source = [&](std::size_t item) { return rows_[item % ant] + (item / ant) * sym_len + offset; };
  for (std::size_t item = begin; item < end; ++item) {
    const cf32* src = source(item);
    // Each transform reads another antenna's row: the next window is asked for now, so
    // that it arrives while this one is transformed (the reads missed the cache).
    if (item + 1 < end) prefetch(source(item + 1), fft);
    // The window rotated left by the back-off: FFT(x[(m + B) mod N]) = FFT(x)·e^{+j2πbB/N},
    // the back-off's phase ramp removed without a pass over the bins.
    scaled_copy(src + backoff, fft - backoff, scale, in);
    scaled_copy(src, backoff, scale, in + (fft - backoff));
    cf32* dst = grid_.get() + item * row_stride_;  // (s · antennas + a) · row stride
    plan.execute_unscaled(dst);
    for (const auto& [first, count] : guard_runs_) guard_energy += run_energy(reinterpret_cast<const float*>(dst), first, count);
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
