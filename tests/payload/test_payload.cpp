// The coded link's framing, amimo-ue's coded transmitter and amimo-bs's decoder sink, without
// the radio: frames built by coded_transmitter, turned into ideal (or corrupted) LLRs, fed to
// decoder_sink through the frame-sink interface, and the payload files it writes checked
// byte for byte against the input file.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/payload/decoder_sink.h>
#include <amimo/payload/framing.h>
#include <amimo/payload/source.h>

#include <gtest/gtest.h>
#include <zmq.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace amimo::payload {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Framing, BlockHeaderRoundTripsAndPadsWithZeros) {
  std::vector<std::uint8_t> tb(40, 0xEE);
  const std::vector<std::uint8_t> data{1, 2, 3, 4, 5};
  pack_block(tb, {0x0102030405060708ULL, 5, true}, data);
  // Big-endian offset and length, flags, payload, zero padding (layout of framing.h).
  EXPECT_EQ(tb[0], 0x01);
  EXPECT_EQ(tb[7], 0x08);
  EXPECT_EQ(tb[11], 5);
  EXPECT_EQ(tb[12], 1);
  EXPECT_EQ(tb[13], 1);
  EXPECT_EQ(tb[17], 5);
  for (std::size_t i = 18; i < tb.size(); ++i) EXPECT_EQ(tb[i], 0) << i;
  const auto h = unpack_block(tb);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->offset, 0x0102030405060708ULL);
  EXPECT_EQ(h->length, 5U);
  EXPECT_TRUE(h->last);
}

TEST(Framing, InvalidHeadersAreRejected) {
  std::vector<std::uint8_t> tb(40, 0);
  pack_block(tb, {0, 27, false}, std::vector<std::uint8_t>(27, 7));  // exactly the capacity
  EXPECT_TRUE(unpack_block(tb).has_value());
  tb[11] = 28;  // one byte beyond the capacity
  EXPECT_FALSE(unpack_block(tb).has_value());
  tb[11] = 3;
  tb[12] = 2;  // unknown flag
  EXPECT_FALSE(unpack_block(tb).has_value());
  EXPECT_THROW(pack_block(tb, {0, 28, false}, std::vector<std::uint8_t>(28, 7)), std::invalid_argument);
}

TEST(Framing, BitsAreMsbFirstAndRoundTrip) {
  const std::vector<std::uint8_t> bytes{0x80, 0x01, 0xA5};
  std::vector<std::uint8_t> bits(24);
  bytes_to_bits(bits, bytes);
  EXPECT_EQ(bits[0], 1);
  EXPECT_EQ(bits[7], 0);
  EXPECT_EQ(bits[15], 1);
  std::vector<std::uint8_t> back(3);
  bits_to_bytes(back, bits);
  EXPECT_EQ(back, bytes);
}

ofdm::numerology small_numerology() {
  ofdm::numerology n;
  n.fft_size = 128;
  n.cp_length = 9;
  n.used_subcarriers = 72;
  n.sample_rate = 1.92e6;
  n.pilot_symbols = 2;
  n.data_symbols = 11;
  return n;
}

TEST(CodedLayout, HeaderTransportBlockAndCapacityFollowTheRules) {
  const ofdm::frame_layout frame(small_numerology(), 2, modem::modulation::qpsk);
  coding_config c;
  c.kind = coding_kind::ldpc;
  c.code_rate = 0.5;
  const auto cl = make_coded_layout(frame, c);
  const std::size_t bits = frame.bits_per_user();  // 11 × 72 × 2 = 1584
  ASSERT_EQ(bits, 1584U);
  EXPECT_EQ(cl.header_bits, 396U);  // min(1024, bits / 4), whole QPSK symbols
  EXPECT_EQ(cl.g_bits, bits - 396U);
  // 38.214 §5.1.3.2 by hand: N_RE = G / Qm = 594, N_info = 594 · 0.5 · 2 = 594, n = 3,
  // N'_info = 8 · ⌊594 / 8⌋ = 592, the smallest Table 5.1.3.2-1 TBS ≥ 592 is 608.
  EXPECT_EQ(cl.tb.tb_bits, 608);
  EXPECT_EQ(cl.capacity(), cl.tb_bytes() - kBlockHeaderBytes);
  c.tb_bits = 7;  // not a multiple of 8
  EXPECT_THROW((void)make_coded_layout(frame, c), config_error);
  c.tb_bits = 0;
  c.code_rate = 0.02;  // too small a block for the header
  EXPECT_THROW((void)make_coded_layout(frame, c), config_error);
}

// Frames of the coded transmitter → LLRs (±4 by bit, optionally corrupted) → decoder sink.
struct coded_fixture {
  explicit coded_fixture(std::vector<std::string> payloads)
      : frame(small_numerology(), 2, modem::modulation::qpsk) {
    coding.kind = coding_kind::ldpc;
    coding.code_rate = 0.5;
    coding.payloads = std::move(payloads);
    tx = std::make_unique<coded_transmitter>(frame, coding, 5);
    sink = std::make_unique<decoder_sink>(frame, coding, std::vector<std::string>{"a", "b"});
    bits.resize(frame.bits_per_user());
    prbs.resize(frame.bits_per_user());
    llr.resize(frame.bits_per_user());
    variance.assign(frame.bits_per_user() / 2, 0.1);
    equalised.assign(frame.bits_per_user() / 2, cf64{});
  }
  /// Sends frame f of every user; `flip` LLR signs flipped in user 0's chain-0 TB bits.
  void frame_through(std::uint64_t f, std::size_t flip, std::uint64_t seed = 1) {
    for (int k = 0; k < 2; ++k) {
      tx->data_bits(bits, k, f);
      frame.data_bits(prbs, 5, k, f);
      for (int c = 0; c < 2; ++c) {
        for (std::size_t i = 0; i < bits.size(); ++i) llr[i] = bits[i] != 0 ? -4.0F : 4.0F;
        if (k == 0 && c == 0 && flip > 0) {
          rng gen(seed + f);
          const auto h = sink->layout().header_bits;
          for (std::size_t n = 0; n < flip; ++n) {
            const auto i = h + static_cast<std::size_t>(gen.below(sink->layout().g_bits));
            llr[i] = -llr[i];
          }
        }
        pipeline::user_frame_view v;
        v.frame_index = f;
        v.user = k;
        v.chain = c;
        v.bits_per_symbol = 2;
        v.llr = llr;
        v.equalised = equalised;
        v.noise_variance = variance;
        v.reference = std::span<const bit>(prbs).first(sink->layout().header_bits);
        v.scrambling = prbs;
        sink->consume(v);
      }
    }
  }
  ofdm::frame_layout frame;
  coding_config coding;
  std::unique_ptr<coded_transmitter> tx;
  std::unique_ptr<decoder_sink> sink;
  std::vector<bit> bits, prbs;
  std::vector<float> llr;
  std::vector<double> variance;
  std::vector<cf64> equalised;
};

std::filesystem::path fresh_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / (std::string("amimo_payload_") + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  rng gen(seed);
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(gen.next_u64() & 0xFFU);
  return s;
}

TEST(DecoderSink, CleanFramesDeliverTheFileByteIdenticalAndTheHeaderCarriesItsLength) {
  const auto dir = fresh_dir("clean");
  std::filesystem::create_directories(dir);
  const std::string content = random_bytes(1000, 3);  // 1000 bytes: several blocks, the last partial
  std::ofstream(dir / "in.bin", std::ios::binary) << content;
  coded_fixture fx({(dir / "in.bin").string(), "prbs"});
  const std::size_t cap = fx.sink->layout().capacity();
  const std::size_t blocks = (content.size() + cap - 1) / cap;
  ASSERT_GT(blocks, 2U);
  ASSERT_NE(content.size() % cap, 0U);  // a partial last block
  auto out = open_payload_output((dir / "out").string(), 2);
  fx.sink->set_output(out.get());
  for (std::uint64_t f = 0; f < blocks + 2; ++f) fx.frame_through(f, 0);  // two idle frames after the end
  EXPECT_TRUE(fx.tx->payload_bytes_sent(0) == content.size());
  const auto lines = out->finish();
  EXPECT_EQ(read_all(dir / "out" / "user0.bin"), content);
  // User 1 sent endless PRBS bytes: never complete, so never presented as a complete file.
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "user1.bin"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "user1.partial.bin"));
  for (const auto& chain : fx.sink->stats()) {
    EXPECT_EQ(chain.users[0].blocks, blocks + 2);
    EXPECT_EQ(chain.users[0].block_errors, 0U);
    EXPECT_EQ(chain.users[0].payload_bytes, content.size());
    EXPECT_EQ(chain.users[0].uncoded_errors, 0U);
    EXPECT_EQ(chain.users[0].uncoded_bits, (blocks + 2) * fx.sink->layout().g_bits);
    EXPECT_EQ(chain.users[1].payload_bytes, (blocks + 2) * cap);
  }
  std::filesystem::remove_all(dir);
}

TEST(DecoderSink, FailedBlocksAreCountedAndNeverWrittenAsGood) {
  const auto dir = fresh_dir("noisy");
  std::filesystem::create_directories(dir);
  const std::string content = random_bytes(1000, 4);
  std::ofstream(dir / "in.bin", std::ios::binary) << content;
  coded_fixture fx({(dir / "in.bin").string()});
  const std::size_t cap = fx.sink->layout().capacity();
  auto out = open_payload_output((dir / "out").string(), 2);
  fx.sink->set_output(out.get());
  // Frame 1's block (bytes [cap, 2cap)) gets 45% of its sign flipped: it cannot decode.
  const std::size_t g = fx.sink->layout().g_bits;
  const std::size_t blocks = (content.size() + cap - 1) / cap;
  for (std::uint64_t f = 0; f < blocks; ++f) fx.frame_through(f, f == 1 ? g * 45 / 100 : 0);
  (void)out->finish();
  const auto& st = fx.sink->stats();
  EXPECT_EQ(st[0].users[0].block_errors, 1U);  // chain 0 saw the corrupted block
  EXPECT_EQ(st[1].users[0].block_errors, 0U);  // chain 1 did not
  EXPECT_DOUBLE_EQ(bler(st[0].users[0]), 1.0 / static_cast<double>(blocks));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "user0.bin"));
  const std::string partial = read_all(dir / "out" / "user0.partial.bin");
  ASSERT_EQ(partial.size(), content.size());
  EXPECT_EQ(partial.substr(0, cap), content.substr(0, cap));
  EXPECT_EQ(partial.substr(2 * cap), content.substr(2 * cap));
  EXPECT_EQ(partial.substr(cap, cap), std::string(cap, '\0'));  // the lost block: zeros, listed missing
  EXPECT_EQ(read_all(dir / "out" / "user0.missing.csv"),
            "from_byte,to_byte\n" + std::to_string(cap) + "," + std::to_string(2 * cap) + "\n");
  std::filesystem::remove_all(dir);
}

// A CRC-passing "last" block far beyond the per-user cap does not end the stream there: it is
// counted beyond the limit, the file stays within the cap, and finish() does not allocate the
// offset. Before, an empty last block at 2^62 made finish() throw std::bad_alloc (amimo-bs lost
// its run) and one at 2e8 wrote 200 MB under a 1 MiB cap.
TEST(PayloadOutput, LastBlockBeyondTheCapIsCountedAndNeverSizesTheFile) {
  const auto dir = fresh_dir("beyond");
  const std::uint64_t cap = std::uint64_t{1} << 20U;
  for (const std::uint64_t far : {std::uint64_t{1} << 62U, std::uint64_t{200'000'000}, cap - 3}) {
    std::filesystem::remove_all(dir);
    auto out = open_payload_output(dir.string(), 1, cap);
    const std::uint8_t data[4] = {1, 2, 3, 4};
    out->block(0, block_header{0, 4, false}, data);
    out->block(0, block_header{far, 0, true}, {});
    // A data block that ends one byte past the cap is beyond it too.
    out->block(0, block_header{cap - 3, 4, false}, data);
    std::vector<std::string> lines;
    ASSERT_NO_THROW(lines = out->finish()) << far;
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_FALSE(std::filesystem::exists(dir / "user0.bin")) << far;
    const auto partial = dir / "user0.partial.bin";
    ASSERT_TRUE(std::filesystem::exists(partial)) << far;
    if (far < cap) {
      // Within the cap the empty last block ends the stream where it says.
      EXPECT_EQ(std::filesystem::file_size(partial), far) << far;
      EXPECT_NE(lines[0].find("1 blocks beyond the size limit"), std::string::npos) << lines[0];
    } else {
      EXPECT_EQ(std::filesystem::file_size(partial), 4U) << far;
      EXPECT_NE(lines[0].find("end of stream not seen"), std::string::npos) << lines[0];
      EXPECT_NE(lines[0].find("2 blocks beyond the size limit"), std::string::npos) << lines[0];
    }
    EXPECT_EQ(read_all(partial).substr(0, 4), std::string("\x01\x02\x03\x04", 4));
  }
  std::filesystem::remove_all(dir);
}

// An output directory that cannot be written is refused when the output is opened (amimo-bs's
// start-up), as an io_error (exit status 3): a path under a regular file, and a directory in
// which nobody, root included, can create a file. Before, the first was a config_error (exit 2)
// and the second was found only by finish(), after the whole run.
TEST(PayloadOutput, UnwritableDirectoryIsAnIoErrorWhenOpened) {
  const auto dir = fresh_dir("unwritable");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "afile") << "x";
  for (const std::filesystem::path& bad : {dir / "afile" / "x", std::filesystem::path("/proc/self")}) {
    try {
      (void)open_payload_output(bad.string(), 1);
      ADD_FAILURE() << "opened " << bad;
    } catch (const io_error& e) {
      EXPECT_NE(std::string(e.what()).find("payload_out"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << bad << ": not an io_error: " << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(DecoderSink, OutputChainIsValidated) {
  const ofdm::frame_layout frame(small_numerology(), 2, modem::modulation::qpsk);
  coding_config c;
  c.kind = coding_kind::ldpc;
  c.payload_chain = 2;
  EXPECT_THROW(decoder_sink(frame, c, {"a", "b"}), config_error);
}

TEST(PayloadSource, MissingFileIsAnIoError) {
  // An input file that cannot be read is a file problem: io_error, exit status 3 (README).
  EXPECT_THROW((void)open_byte_source("/nonexistent/amimo/payload.bin", 1, 0), io_error);
  EXPECT_THROW((void)open_byte_source("/", 1, 0), io_error);  // a directory
}

TEST(PayloadSource, ZmqPullAppendsMessagesUntilAnEmptyOne) {
  const std::string endpoint = "ipc://" + (std::filesystem::temp_directory_path() /
                                           ("amimo_pull_" + std::to_string(::getpid()))).string();
  zmq::context_t ctx(1);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.bind(endpoint);
  auto src = open_byte_source("zmq-pull:" + endpoint, 1, 0);
  EXPECT_TRUE(src->finite());
  push.send(zmq::str_buffer("abc"), zmq::send_flags::none);
  push.send(zmq::str_buffer("defg"), zmq::send_flags::none);
  zmq::message_t end_of_stream(0);
  push.send(end_of_stream, zmq::send_flags::none);
  std::string got;
  std::vector<std::uint8_t> buf(3);
  for (int i = 0; i < 400 && !src->ended(); ++i) {
    const std::size_t n = src->read(buf);
    got.append(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    if (n == 0) ::usleep(5000);
  }
  EXPECT_EQ(got, "abcdefg");
  EXPECT_TRUE(src->ended());
}

TEST(PayloadOutput, ZmqPushSendsUserOffsetFlagsAndBytes) {
  const std::string endpoint = "ipc://" + (std::filesystem::temp_directory_path() /
                                           ("amimo_push_" + std::to_string(::getpid()))).string();
  auto out = open_payload_output("zmq-push:" + endpoint, 2);
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvtimeo, 20);
  pull.connect(endpoint);
  // The output never blocks: a block sent before the connection is up is dropped (and
  // counted), so the same block is sent until one arrives (up to about 10 s).
  const std::vector<std::uint8_t> data{'x', 'y', 'z'};
  zmq::message_t msg;
  bool received = false;
  for (int attempt = 0; attempt < 500 && !received; ++attempt) {
    out->block(1, {0x0102, 3, true}, data);
    received = pull.recv(msg).has_value();
  }
  ASSERT_TRUE(received);
  const std::vector<std::uint8_t> want{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 1, 'x', 'y', 'z'};
  const auto* p = static_cast<const std::uint8_t*>(msg.data());
  EXPECT_EQ(std::vector<std::uint8_t>(p, p + msg.size()), want);
}

}  // namespace
}  // namespace amimo::payload
