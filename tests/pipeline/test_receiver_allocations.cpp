// The receiver allocates nothing per frame once warmed up, on the digital chains (batched
// detection): a counting global operator new in this executable counts every allocation
// made while frames stream through.
#include "allocation_stream.h"

#include <amimo/payload/decoder_sink.h>
#include <amimo/payload/source.h>

namespace amimo::pipeline {
namespace {

// Front pilots, and pilot groups spread through the frame with linear interpolation in time
// (blended channels formed in the chains' scratch, one detect() per time segment); frames
// overlapped (the back end a pool task, its frame ring pre-allocated) and not.
TEST(ReceiverAllocations, DigitalChainsAllocateNothingPerFrameAfterWarmUp) {
  for (const bool pipelined : {true, false}) {
    for (const int additional_pilots : {0, 2}) {
      for (const detect::detection_mode mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
        receiver_config cfg;
        cfg.antennas = 16;
        cfg.users = 4;
        cfg.threads = 2;
        cfg.pipeline_frames = pipelined;
        cfg.mode = mode;
        cfg.layout.additional_pilots = additional_pilots;
        cfg.interpolation = time_interpolation::linear;
        cfg.chains = {{detect::detector_kind::mmse, {"digital-f32", {}}, {}},
                      {detect::detector_kind::zf, {"digital-f64", {}}, {}}};
        const test_support::counted_run run = test_support::stream(cfg, 12);
        EXPECT_GE(run.decoded, 7U) << "frames must really stream through the counted interval";
        EXPECT_EQ(run.allocations, 0U) << detect::to_string(mode) << ", pipelined " << pipelined << ", additional_pilots " << additional_pilots << ": "
                                       << run.allocations << " allocations over " << run.decoded << " frames";
        EXPECT_EQ(run.stats.chains[0].bit_errors, 0U);
      }
    }
  }
}


// The coded link's receive side: frames identified by their header, the LDPC decoder sink
// decoding every user's transport block on both chains: still nothing allocated per frame.
TEST(ReceiverAllocations, DecoderSinkAllocatesNothingPerFrameAfterWarmUp) {
  receiver_config cfg;
  cfg.antennas = 8;
  cfg.users = 2;
  cfg.threads = 3;  // overlapped frames, the decoder sink run by whichever thread takes the back end
  cfg.modulation = modem::modulation::qpsk;
  cfg.chains = {{detect::detector_kind::mmse, {"digital-f32", {}}, {}},
                {detect::detector_kind::zf, {"digital-f64", {}}, {}}};
  payload::coding_config coding;
  coding.kind = payload::coding_kind::ldpc;
  const ofdm::frame_layout layout(cfg.layout, cfg.users, cfg.modulation);
  cfg.known_bits = payload::make_coded_layout(layout, coding).header_bits;
  amimo::test_support::fixed_channel ch(cfg.antennas, cfg.users, {0, 2});
  rng gen(5);
  for (std::size_t l = 0; l < ch.gains.size(); ++l) gen.fill_complex_normal(ch.gains[l], l == 0 ? 0.7 : 0.3);
  payload::coded_transmitter tx(layout, coding, cfg.seed);
  ofdm::uplink_emulator em(layout, ch, 20.0, cfg.seed);
  em.set_data_source(&tx);
  constexpr int kFrames = 10;
  amimo::test_support::frame_buffer buf(cfg.antennas, cfg.layout.frame_length());
  std::vector<std::vector<cf32>> frames;
  for (int f = 0; f < kFrames; ++f) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(f));
    for (const auto& row : buf.rows) frames.push_back(row);
  }
  receiver rx(cfg);
  payload::decoder_sink sink(rx.layout(), coding, {"a", "b"});
  rx.add_sink(sink);
  std::vector<const cf32*> p(static_cast<std::size_t>(cfg.antennas));
  const auto push_frame = [&](int f) {
    for (int a = 0; a < cfg.antennas; ++a) p[static_cast<std::size_t>(a)] = frames[static_cast<std::size_t>(f * cfg.antennas + a)].data();
    rx.push(p, static_cast<std::size_t>(cfg.layout.frame_length()));
  };
  for (int f = 0; f < 3; ++f) push_frame(f);
  rx.flush();  // the sink's counts are read below: no frame in flight
  const std::uint64_t blocks_before = sink.stats()[0].total().blocks;
  const std::uint64_t before = g_allocations.load();
  for (int f = 3; f < kFrames; ++f) push_frame(f);
  rx.flush();
  const std::uint64_t allocations = g_allocations.load() - before;
  const auto t = sink.stats()[0].total();
  EXPECT_GE(t.blocks - blocks_before, 12U) << "blocks must really be decoded in the counted interval";
  EXPECT_EQ(t.block_errors, 0U);
  EXPECT_EQ(allocations, 0U) << allocations << " allocations";
}

}  // namespace
}  // namespace amimo::pipeline
