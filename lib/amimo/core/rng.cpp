#include <amimo/core/rng.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace amimo {

std::uint64_t derive_seed(std::uint64_t base, std::initializer_list<std::uint64_t> path) noexcept {
  std::uint64_t h = mix64(base ^ 0x616d696d6f2d7631ULL);  // "amimo-v1"
  for (const std::uint64_t index : path) {
    h = mix64(h ^ mix64(index + 0x5851f42d4c957f2dULL));
  }
  return h;
}

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
}
}  // namespace

void rng::reseed(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (auto& word : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    word = mix64(x);
  }
  has_spare_ = false;
}

std::uint64_t rng::next_u64() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17U;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t rng::below(std::uint64_t n) noexcept {
  __extension__ using u128 = unsigned __int128;  // GCC/Clang extension, fine under -Wpedantic
  const u128 product = static_cast<u128>(next_u64()) * n;
  return static_cast<std::uint64_t>(product >> 64U);
}

double rng::normal() noexcept {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u = 0.0;
  double v = 0.0;
  double s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

void rng::fill_normal(std::span<double> out) noexcept {
  std::size_t i = 0;
  if (i < out.size() && has_spare_) {
    out[i++] = spare_normal_;
    has_spare_ = false;
  }
  // Runs of up to 32 accepted pairs: the rejection loop draws exactly the uniforms
  // normal() would, then the logs (scalar, the same libm call) and the square roots and
  // divisions (vectorisable, correctly rounded, so identical to normal()'s).
  constexpr std::size_t run = 32;
  double u[run];
  double v[run];
  double s[run];
  double factor[run];
  while (i < out.size()) {
    const std::size_t wanted = (out.size() - i + 1) / 2;
    const std::size_t pairs = wanted < run ? wanted : run;
    for (std::size_t p = 0; p < pairs;) {
      const double a = 2.0 * uniform() - 1.0;
      const double b = 2.0 * uniform() - 1.0;
      const double q = a * a + b * b;
      u[p] = a;
      v[p] = b;
      s[p] = q;
      p += (q < 1.0 && q != 0.0) ? 1U : 0U;
    }
    for (std::size_t p = 0; p < pairs; ++p) factor[p] = std::log(s[p]);
    // Eigen's packet sqrt and division (std::sqrt would not vectorise: errno on x < 0).
    const auto count = static_cast<Eigen::Index>(pairs);
    Eigen::Map<Eigen::ArrayXd> f(factor, count);
    f = (-2.0 * f / Eigen::Map<const Eigen::ArrayXd>(s, count)).sqrt();
    for (std::size_t p = 0; p < pairs; ++p) {
      out[i++] = u[p] * factor[p];
      if (i < out.size()) {
        out[i++] = v[p] * factor[p];
      } else {
        spare_normal_ = v[p] * factor[p];
        has_spare_ = true;
      }
    }
  }
}

cf64 rng::complex_normal(double variance) noexcept {
  const double sigma = std::sqrt(variance / 2.0);
  const double re = normal();
  const double im = normal();
  return {sigma * re, sigma * im};
}

void rng::fill_complex_normal(cmat_ref out, double variance) noexcept {
  for (Eigen::Index c = 0; c < out.cols(); ++c) {
    for (Eigen::Index r = 0; r < out.rows(); ++r) {
      out(r, c) = complex_normal(variance);
    }
  }
}

namespace {
// Byte → its 8 bits as 8 bytes (least significant bit first), read as one 64-bit word in
// the machine's byte order: expands a random word 8 bits per lookup.
struct bit_expansion {
  std::uint64_t word[256];
  constexpr bit_expansion() : word{} {
    for (unsigned v = 0; v < 256; ++v) {
      std::uint64_t w = 0;
      for (unsigned b = 0; b < 8; ++b) {
        const std::uint64_t one = (v >> b) & 1U;
        w |= one << (std::endian::native == std::endian::little ? 8U * b : 8U * (7U - b));
      }
      word[v] = w;
    }
  }
};
constexpr bit_expansion kBitExpansion{};
}  // namespace

void rng::fill_bits(std::span<bit> out) noexcept {
  static_assert(sizeof(bit) == 1, "fill_bits expands a byte per bit");
  std::size_t i = 0;
  // Whole words first, bit b of the word to out[i + b], 8 bits per table lookup (the
  // receiver regenerates every user's reference bits per frame).
  for (; i + 64 <= out.size(); i += 64) {
    const std::uint64_t word = next_u64();
    for (unsigned byte = 0; byte < 8; ++byte)
      std::memcpy(out.data() + i + 8U * byte, &kBitExpansion.word[(word >> (8U * byte)) & 0xFFU], 8);
  }
  while (i < out.size()) {
    std::uint64_t word = next_u64();
    for (int b = 0; b < 64 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<bit>(word & 1U);
      word >>= 1U;
    }
  }
}

}  // namespace amimo
