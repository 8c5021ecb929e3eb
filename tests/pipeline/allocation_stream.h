#pragma once
// Streams frames through a receiver and counts the C++ allocations made after a warm-up
// (include tests/support/counting_new.h in the same executable first).
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "../ofdm/ofdm_test_support.h"
#include "../support/counting_new.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace amimo::pipeline::test_support {

struct counted_run {
  std::uint64_t allocations = 0;  ///< over the frames after the warm-up
  std::uint64_t decoded = 0;      ///< frames counted in that interval
  receiver_stats stats;           ///< at the end of the stream
};

/// `frames` frames of a fixed two-tap channel at 20 dB; the first 4 warm the receiver up
/// (acquisition, first frames), the rest are counted.
inline counted_run stream(const receiver_config& cfg, int frames) {
  const ofdm::frame_layout layout(cfg.layout, cfg.users, cfg.modulation);
  amimo::test_support::fixed_channel ch(cfg.antennas, cfg.users, {0, 2});
  rng gen(3);
  for (std::size_t l = 0; l < ch.gains.size(); ++l) gen.fill_complex_normal(ch.gains[l], l == 0 ? 0.7 : 0.3);
  ofdm::uplink_emulator em(layout, ch, 20.0, cfg.seed);
  amimo::test_support::frame_buffer buf(cfg.antennas, cfg.layout.frame_length());
  std::vector<std::vector<cf32>> samples;
  for (int f = 0; f < frames; ++f) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(f));
    for (const auto& row : buf.rows) samples.push_back(row);
  }
  const std::uint64_t at_start = g_allocations.load();
  receiver rx(cfg);
  EXPECT_GT(g_allocations.load(), at_start) << "the counting operator new is in use";
  std::vector<const cf32*> p(static_cast<std::size_t>(cfg.antennas));
  const auto push_frame = [&](int f) {
    for (int a = 0; a < cfg.antennas; ++a) {
      p[static_cast<std::size_t>(a)] = samples[static_cast<std::size_t>(f * cfg.antennas + a)].data();
    }
    rx.push(p, static_cast<std::size_t>(cfg.layout.frame_length()));
  };
  for (int f = 0; f < 4; ++f) push_frame(f);
  const std::uint64_t frames_before = rx.stats().frames;
  {
    void* prime[2];
    static_cast<void>(backtrace(prime, 2));
  }
  g_trace_depth.store(0);
  g_traced = false;
  g_trace_armed = true;
  const std::uint64_t before = g_allocations.load();
  for (int f = 4; f < frames; ++f) push_frame(f);
  rx.flush();  // the last frame's back end (overlapped frames) inside the counted interval
  const std::uint64_t allocations = g_allocations.load() - before;
  g_trace_armed = false;
  const int depth = g_trace_depth.load(std::memory_order_acquire);
  if (allocations > 0 && depth > 0) {
    std::fprintf(stderr, "first allocation in the counted interval (of %llu), call stack:\n",
                 static_cast<unsigned long long>(allocations));
    backtrace_symbols_fd(g_trace_frames, depth, 2);
  }
  counted_run out;  // (its receiver_stats allocates: counted after the interval)
  out.allocations = allocations;
  out.decoded = rx.stats().frames - frames_before;
  rx.finish();
  out.stats = rx.stats();
  return out;
}

}  // namespace amimo::pipeline::test_support
