#pragma once
// What each user sends in each frame (layout in numerology.h): the preamble, the comb
// pilots and the PRBS data, shared by the transmitter and the receiver so the receiver
// knows every reference without a side channel.

#include <amimo/core/types.h>
#include <amimo/modem/mapper.h>
#include <amimo/ofdm/numerology.h>

#include <cstdint>
#include <span>
#include <vector>

namespace amimo::ofdm {

class frame_layout {
 public:
  frame_layout(const numerology& n, int users, modem::modulation modulation);

  const numerology& layout() const noexcept { return numerology_; }
  int users() const noexcept { return users_; }
  const modem::mapper& mapper() const noexcept { return mapper_; }
  unsigned bits_per_symbol() const noexcept { return mapper_.bits_per_symbol(); }
  /// Data bits one user sends per frame: data_symbols × used × bits_per_symbol.
  std::size_t bits_per_user() const noexcept { return bits_per_user_; }

  /// Preamble value on used subcarrier u (unit modulus).
  cf64 preamble(int u) const noexcept { return preamble_[static_cast<std::size_t>(u)]; }
  /// The preamble's time-domain body (fft_size samples, no CP), as transmitted by one user.
  std::span<const cf32> preamble_waveform() const noexcept { return preamble_time_; }

  /// The user whose pilot sits on used subcarrier u of pilot symbol p.
  int pilot_user(int p, int u) const noexcept { return (u + p) % users_; }
  /// Pilot value (including the √K amplitude) on subcarrier u.
  cf64 pilot(int u) const noexcept { return pilot_[static_cast<std::size_t>(u)]; }

  /// The data bits of `user` in frame `frame_index` (seeded PRBS; bits_per_user() bits,
  /// data symbol by data symbol, subcarrier by subcarrier, label bits MSB first).
  void data_bits(std::span<bit> out, std::uint64_t seed, int user,
                 std::uint64_t frame_index) const noexcept;

 private:
  numerology numerology_;
  int users_;
  modem::mapper mapper_;
  std::size_t bits_per_user_;
  std::vector<cf64> preamble_;
  std::vector<cf32> preamble_time_;
  std::vector<cf64> pilot_;
};

}  // namespace amimo::ofdm
