#pragma once
// Seeded, platform-independent random numbers. The standard library's distributions
// are implementation-defined, so amimo draws its own: results depend on the seed alone.

#include <amimo/core/types.h>

#include <cstdint>
#include <initializer_list>

namespace amimo {

/// SplitMix64 finaliser: a bijective 64-bit mixer used to derive independent seeds.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

/// Derives a stream seed from a base seed and a path of indices (for example
/// {snr_index, frame_index}), so every unit of work has its own reproducible stream
/// whatever thread runs it.
std::uint64_t derive_seed(std::uint64_t base, std::initializer_list<std::uint64_t> path) noexcept;

/// xoshiro256** generator (Blackman & Vigna) with Gaussian and bit draws.
class rng {
 public:
  explicit rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  void reseed(std::uint64_t seed) noexcept;

  std::uint64_t next_u64() noexcept;
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next_u64() >> 11U) * 0x1.0p-53; }
  /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, negligible bias for small n).
  std::uint64_t below(std::uint64_t n) noexcept;
  /// Standard normal N(0, 1) (Marsaglia polar method).
  double normal() noexcept;
  /// Fills with standard normals: exactly the values (and the generator state after) of
  /// out.size() calls to normal(), at a fraction of the cost (no call per draw; the square
  /// roots and divisions of a run of pairs vectorised).
  void fill_normal(std::span<double> out) noexcept;
  /// Circularly-symmetric complex normal CN(0, variance).
  cf64 complex_normal(double variance = 1.0) noexcept;
  /// Fills with i.i.d. CN(0, variance) entries.
  void fill_complex_normal(cmat_ref out, double variance = 1.0) noexcept;
  /// Fills with i.i.d. equiprobable bits.
  void fill_bits(std::span<bit> out) noexcept;

 private:
  std::uint64_t s_[4]{};
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace amimo
