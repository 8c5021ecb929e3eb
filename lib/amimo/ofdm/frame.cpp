#include <amimo/ofdm/frame.h>

#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/ofdm/fft.h>

#include <cmath>
#include <numbers>

namespace amimo::ofdm {
namespace {

/// Largest prime ≤ n (n ≥ 2).
int largest_prime_at_most(int n) {
  for (int p = n; p > 2; --p) {
    bool prime = true;
    for (int d = 2; d * d <= p; ++d) {
      if (p % d == 0) {
        prime = false;
        break;
      }
    }
    if (prime) return p;
  }
  return 2;
}

}  // namespace

frame_layout::frame_layout(const numerology& n, int users, modem::modulation modulation)
    : numerology_(n), users_(users), mapper_(modulation) {
  validate(n);
  if (users < 1) throw config_error("users must be at least 1");
  if (users > n.used_subcarriers / 2)
    throw config_error("too many users for the pilot comb: at most used_subcarriers/2");
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  bits_per_user_ = static_cast<std::size_t>(n.data_symbols) * used * mapper_.bits_per_symbol();

  // Preamble: Zadoff–Chu, root 25 (coprime with any prime length > 25), cyclically
  // extended from the largest prime length ≤ used.
  const int zc_length = largest_prime_at_most(n.used_subcarriers);
  const int root = zc_length > 25 ? 25 : 1;
  preamble_.resize(used);
  for (std::size_t u = 0; u < used; ++u) {
    const auto m = static_cast<double>(static_cast<int>(u) % zc_length);
    preamble_[u] = std::polar(1.0, -std::numbers::pi * root * m * (m + 1.0) / zc_length);
  }
  fft_plan ifft(n.fft_size, fft_plan::direction::inverse);
  for (auto& v : ifft.input()) v = cf32{};
  for (std::size_t u = 0; u < used; ++u) {
    ifft.input()[static_cast<std::size_t>(n.fft_index_of(static_cast<int>(u)))] =
        cf32(preamble_[u]);
  }
  ifft.execute();
  preamble_time_.assign(ifft.output().begin(), ifft.output().end());

  // Pilots: a fixed QPSK sequence at amplitude √K (one user per subcarrier per symbol).
  pilot_.resize(used);
  rng gen(0x9170'7a11'5eedULL);
  const double amplitude = std::sqrt(static_cast<double>(users));
  for (std::size_t u = 0; u < used; ++u) {
    const auto q = static_cast<double>(gen.below(4));
    pilot_[u] = std::polar(amplitude, std::numbers::pi / 4.0 + std::numbers::pi / 2.0 * q);
  }
}

void frame_layout::data_bits(std::span<bit> out, std::uint64_t seed, int user,
                             std::uint64_t frame_index) const noexcept {
  rng gen(derive_seed(seed, {0xDA7AULL, static_cast<std::uint64_t>(user), frame_index}));
  gen.fill_bits(out);
}

}  // namespace amimo::ofdm
