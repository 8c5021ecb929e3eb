// The coded link in process: coded_transmitter's frames (header PRBS + scrambled LDPC
// transport blocks) through the uplink emulator into the receiver, whose frame identifier
// works on the header bits only, with the decoder sink added: frames are identified (also
// when the stream starts mid-way), every block decodes at high SNR and the payload file comes
// out byte-identical; the scoring sink scores the header bits only.
#include <amimo/core/rng.h>
#include <amimo/payload/decoder_sink.h>
#include <amimo/payload/source.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::frame_buffer;

TEST(CodedReceiver, HeaderIdentifiesFramesAndThePayloadArrivesByteIdentical) {
  const auto dir = std::filesystem::temp_directory_path() / ("amimo_coded_rx_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string content(2500, '\0');
  rng gen(9);
  for (auto& ch : content) ch = static_cast<char>(gen.next_u64() & 0xFFU);
  std::ofstream(dir / "in.bin", std::ios::binary) << content;

  auto cfg = test_support::two_chain_config(8, 2, modem::modulation::qpsk, 21);
  payload::coding_config coding;
  coding.kind = payload::coding_kind::ldpc;
  coding.code_rate = 0.5;
  coding.payloads = {(dir / "in.bin").string(), "prbs"};
  const ofdm::frame_layout probe(cfg.layout, cfg.users, cfg.modulation);
  const auto cl = payload::make_coded_layout(probe, coding);
  cfg.known_bits = cl.header_bits;
  receiver rx(cfg);
  payload::decoder_sink sink(rx.layout(), coding, {cfg.chains[0].label(), cfg.chains[1].label()});
  auto out = payload::open_payload_output((dir / "out").string(), cfg.users);
  sink.set_output(out.get());
  rx.add_sink(sink);

  fixed_channel ch(8, 2, {0, 3});
  test_support::randomise(ch, 4, {0.8, 0.2});
  payload::coded_transmitter tx(rx.layout(), coding, cfg.seed);
  ofdm::uplink_emulator em(rx.layout(), ch, 25.0, cfg.seed);
  em.set_data_source(&tx);
  const std::size_t blocks = (content.size() + cl.capacity() - 1) / cl.capacity();
  // The stream starts at frame 2 (frames 0 and 1 generated, never received): the receiver
  // finds the index from the header, and the bytes of those frames are missing at first.
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(8, len);
  const int total = static_cast<int>(blocks) + 2;
  for (int f = 0; f < total; ++f) {
    em.generate(buf.pointers(), static_cast<std::uint64_t>(f));
    if (f < 2) continue;
    std::vector<const cf32*> p;
    for (auto& r : buf.rows) p.push_back(r.data());
    rx.push(p, static_cast<std::size_t>(len));
  }
  rx.finish();
  const auto& s = rx.stats();
  EXPECT_EQ(s.frames, static_cast<std::uint64_t>(total - 2));
  EXPECT_EQ(s.unmatched_frames, 0U);
  EXPECT_EQ(s.last_frame_index, static_cast<std::uint64_t>(total - 1));
  for (const auto& c : s.chains) {
    EXPECT_EQ(c.bit_errors, 0U) << c.label;
    // Only the header bits are known, hence scored.
    EXPECT_EQ(c.bits, static_cast<std::uint64_t>(total - 2) * 2U * cl.header_bits) << c.label;
  }
  for (const auto& c : sink.stats()) {
    const auto t = c.total();
    EXPECT_EQ(t.blocks, static_cast<std::uint64_t>(2 * (total - 2))) << c.label;
    EXPECT_EQ(t.block_errors, 0U) << c.label;
    EXPECT_GT(t.uncoded_bits, 0U);
  }
  (void)out->finish();
  // Frames 0 and 1 were never received: the file is incomplete, its first two blocks missing.
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "user0.bin"));
  std::ifstream in(dir / "out" / "user0.partial.bin", std::ios::binary);
  const std::string got{std::istreambuf_iterator<char>(in), {}};
  ASSERT_EQ(got.size(), content.size());
  EXPECT_EQ(got.substr(2 * cl.capacity()), content.substr(2 * cl.capacity()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace amimo::pipeline
