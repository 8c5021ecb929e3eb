#pragma once
// Helpers shared by the receiver tests: random fixed channels and emulated recordings
// played into a receiver in chunks.
#include <amimo/core/rng.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "../ofdm/ofdm_test_support.h"

#include <algorithm>
#include <vector>

namespace amimo::test_support {

/// A small receiver: MMSE/digital-f64 and ZF/digital-f32 side by side, 2 threads.
inline pipeline::receiver_config two_chain_config(int antennas, int users, modem::modulation m, std::uint64_t seed) {
  pipeline::receiver_config c;
  c.antennas = antennas;
  c.users = users;
  c.modulation = m;
  c.chains = {{detect::detector_kind::mmse, {"digital-f64", {}}, {}}, {detect::detector_kind::zf, {"digital-f32", {}}, {}}};
  c.threads = 2;
  c.seed = seed;
  return c;
}

/// Draws every tap of `ch` i.i.d. CN(0, powers[l]) from `seed`.
inline void randomise(fixed_channel& ch, std::uint64_t seed, const std::vector<double>& powers) {
  rng gen(seed);
  for (std::size_t l = 0; l < ch.gains.size(); ++l) gen.fill_complex_normal(ch.gains[l], powers[l]);
}

/// `frames` emulated frames laid end to end per antenna, scaled by `gain`.
inline std::vector<std::vector<cf32>> recording(ofdm::uplink_emulator& em, int frame_length, int frames,
                                                float gain = 1.0F) {
  frame_buffer buf(em.antennas(), frame_length);
  std::vector<std::vector<cf32>> rows(static_cast<std::size_t>(em.antennas()));
  for (int f = 0; f < frames; ++f) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(f));
    for (std::size_t a = 0; a < rows.size(); ++a) {
      for (const cf32 v : buf.rows[a]) rows[a].push_back(v * gain);
    }
  }
  return rows;
}

/// Pushes the first `count` samples of every row in chunks (every row at least that long).
inline void play(pipeline::receiver& rx, const std::vector<std::vector<cf32>>& rows, std::size_t count,
                 std::size_t chunk = 2500) {
  for (std::size_t at = 0; at < count; at += chunk) {
    const std::size_t n = std::min(chunk, count - at);
    std::vector<const cf32*> p;
    for (const auto& r : rows) p.push_back(r.data() + at);
    rx.push(p, n);
  }
}

}  // namespace amimo::test_support
