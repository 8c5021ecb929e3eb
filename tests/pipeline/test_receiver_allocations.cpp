// The receiver allocates nothing per frame once warmed up, on the digital chains (batched
// detection): a counting global operator new in this executable counts every allocation
// made while frames stream through.
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "../ofdm/ofdm_test_support.h"
#include "../support/counting_new.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::frame_buffer;

TEST(ReceiverAllocations, DigitalChainsAllocateNothingPerFrameAfterWarmUp) {
  for (const detect::detection_mode mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    receiver_config cfg;
    cfg.antennas = 16;
    cfg.users = 4;
    cfg.threads = 2;
    cfg.mode = mode;
    cfg.chains = {{detect::detector_kind::mmse, {"digital-f32", {}}, {}},
                  {detect::detector_kind::zf, {"digital-f64", {}}, {}}};
    const ofdm::frame_layout layout(cfg.layout, cfg.users, cfg.modulation);
    fixed_channel ch(cfg.antennas, cfg.users, {0, 2});
    rng gen(3);
    for (std::size_t l = 0; l < ch.gains.size(); ++l) {
      gen.fill_complex_normal(ch.gains[l], l == 0 ? 0.7 : 0.3);
    }
    ofdm::uplink_emulator em(layout, ch, 20.0, cfg.seed);
    constexpr int kFrames = 12;
    frame_buffer buf(cfg.antennas, cfg.layout.frame_length());
    std::vector<std::vector<cf32>> frames;
    for (int f = 0; f < kFrames; ++f) {
      em.generate(buf.pointers(), static_cast<std::uint64_t>(f));
      for (const auto& row : buf.rows) frames.push_back(row);
    }
    const std::uint64_t at_start = g_allocations.load();
    receiver rx(cfg);
    EXPECT_GT(g_allocations.load(), at_start) << "the counting operator new is in use";
    std::vector<const cf32*> p(static_cast<std::size_t>(cfg.antennas));
    const auto push_frame = [&](int f) {
      for (int a = 0; a < cfg.antennas; ++a) p[static_cast<std::size_t>(a)] = frames[static_cast<std::size_t>(f * cfg.antennas + a)].data();
      rx.push(p, static_cast<std::size_t>(cfg.layout.frame_length()));
    };
    for (int f = 0; f < 4; ++f) push_frame(f);  // warm-up: acquisition, first frames
    const std::uint64_t frames_before = rx.stats().frames;
    const std::uint64_t before = g_allocations.load();
    for (int f = 4; f < kFrames; ++f) push_frame(f);
    const std::uint64_t allocations = g_allocations.load() - before;
    const std::uint64_t decoded = rx.stats().frames - frames_before;
    EXPECT_GE(decoded, 7U) << "frames must really stream through the counted interval";
    EXPECT_EQ(allocations, 0U) << detect::to_string(mode) << ": " << allocations << " allocations over " << decoded
                               << " frames";
    EXPECT_EQ(rx.stats().chains[0].bit_errors, 0U);
  }
}

}  // namespace
}  // namespace amimo::pipeline
