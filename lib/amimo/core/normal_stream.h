#pragma once
// Bulk standard normals for noise: a seeded stream of its own, vectorised.
//
// rng::normal() (Marsaglia's polar method with libm's log) costs a rejection loop and a
// log call per pair; noise generation dominated the channel emulator and the analog
// simulator. normal_stream is Box–Muller on four interleaved xoshiro256** generators with
// amimo's own log, sin and cos (polynomials of fixed form evaluated with fused
// multiply–adds, correctly rounded division and square root), so:
//  - the values depend on the seed alone: an AVX2 build, its AVX-512 path (chosen at run
//    time for bulk double fills) and a portable build give the same bits (every operation
//    is one IEEE rounding in all three);
//  - fills are contiguous: fill(a) then fill(b) gives the values of one fill of a+b;
//  - the values are NOT those of rng::normal() for the same seed (a different stream).
//
// Stream definition (block k gives normals 8k … 8k+7): lane j (0…3) of the four
// xoshiro256** generators draws a_j then b_j; with v(x) = 1 + (x >> 12)·2⁻⁵² ∈ [1, 2),
// u1 = 2 − v(a_j) ∈ (0, 1] and u2 = v(b_j) − 1 ∈ [0, 1) (both exact); r = √(−2 ln u1),
// θ = 2π u2; normal 8k+j = r cos θ and 8k+4+j = r sin θ. |value| ≤ √(2·52 ln 2) ≈ 8.49
// (the tail beyond has probability 2⁻⁵²).
//
// Single precision (fill(span<float>), for noise added to cf32 samples) has its own block
// definition, twice as wide and with float arithmetic: block k gives 16 floats; with the
// lanes' draws a_j, b_j as above and x_m, y_m (m = 0…7) the 32-bit halves in memory order
// (x_{2j} = low half of a_j, x_{2j+1} = high half), u1 = (⌊x_m/2⌋ + ½)·2⁻³¹ ∈ (0, 1] and
// u2 = ⌊y_m/2⁸⌋·2⁻²⁴ ∈ [0, 1) (float roundings as written); float 16k+m = r cos θ and
// 16k+8+m = r sin θ, with float polynomials (relative error ~1e-7). |value| ≤ 6.66 (tail
// probability beyond 2.7e-11).

#include <amimo/core/types.h>

#include <cstdint>
#include <span>

namespace amimo {

class normal_stream {
 public:
  static constexpr int block = 8;       ///< normals per generated block (double)
  static constexpr int block_f32 = 16;  ///< normals per generated block (float)

  explicit normal_stream(std::uint64_t seed = 0) noexcept { reseed(seed); }

  /// Restarts the stream; lanes are seeded by SplitMix64 from `seed` (a stream distinct
  /// from rng's for the same seed).
  void reseed(std::uint64_t seed) noexcept;

  /// Fills with N(0, 1) draws.
  void fill(std::span<double> out) noexcept;
  /// Fills with N(0, 1) draws in single precision: the float block definition above (NOT
  /// the double draws rounded), about twice as fast per value. Float and double fills of
  /// one stream draw from the same generators; each precision is contiguous on its own.
  void fill(std::span<float> out) noexcept;
  /// Fills with i.i.d. CN(0, variance): real part draw 2i, imaginary part draw 2i+1, each
  /// scaled by √(variance/2).
  void fill_complex(std::span<cf64> out, double variance) noexcept;
  /// Adds i.i.d. CN(0, variance) to every entry (the draws of fill_complex).
  void add_complex(std::span<cf64> inout, double variance) noexcept;
  /// One N(0, 1) draw.
  double next() noexcept;

  /// True when this build generates blocks with AVX2/FMA (same values either way).
  static bool vectorised() noexcept;

 private:
  void next_block(double* out) noexcept;
  void next_block_f32(float* out) noexcept;

  alignas(32) std::uint64_t s_[4][4]{};  ///< s_[word][lane]
  alignas(32) double buffer_[block]{};
  int used_ = block;                     ///< entries of buffer_ already handed out
  alignas(32) float buffer_f32_[block_f32]{};
  int used_f32_ = block_f32;
};

namespace detail {
/// The portable (scalar) block generator, the definition of the stream; exposed so tests
/// can check a vectorised build against it. state is [word][lane] as in normal_stream.
void normal_block_portable(std::uint64_t (&state)[4][4], double (&out)[normal_stream::block]) noexcept;
/// Eight blocks with the AVX-512 generator that fill() uses where the CPU has AVX-512F (the
/// same values as eight portable blocks). False, nothing drawn, where it cannot run.
bool normal_blocks_avx512(std::uint64_t (&state)[4][4], double (&out)[8 * normal_stream::block]) noexcept;
/// The portable single-precision block generator (fill(span<float>)'s definition).
void normal_block_portable_f32(std::uint64_t (&state)[4][4], float (&out)[normal_stream::block_f32]) noexcept;
/// SplitMix64 lane seeding used by normal_stream::reseed.
void normal_stream_seed(std::uint64_t seed, std::uint64_t (&state)[4][4]) noexcept;
}  // namespace detail

}  // namespace amimo
