// The image-transmission demo: payload packing, lossless recovery at high SNR, PSNR against
// hand-computed values, degradation with fewer analog iterations, reproducibility, and
// every backend seeing the same channel.

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/demo/image_link.h>
#include <amimo/demo/image_output.h>

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>

namespace amimo::demo {
namespace {

report::rgb_image to_gray(const report::rgb_image& image) {
  report::rgb_image gray(image.width(), image.height());
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const report::rgb p = image.pixel(x, y);
      const auto v = static_cast<std::uint8_t>((p.r + p.g + p.b) / 3);
      gray.set_pixel(x, y, {v, v, v});
    }
  }
  return gray;
}

image_link_config make_config(modem::modulation modulation, double snr_db, const std::string& backends) {
  image_link_config c;
  c.antennas = 16;
  c.users = 4;
  c.modulation = modulation;
  c.snr_db = snr_db;
  c.backends = parse_backend_list(backends);
  return c;
}

// Bit errors computed independently from the two images' bytes.
std::uint64_t byte_bit_errors(const report::rgb_image& a, const report::rgb_image& b, bool gray) {
  std::uint64_t errors = 0;
  const auto& da = a.data();
  const auto& db = b.data();
  for (std::size_t i = 0; i < da.size(); ++i) {
    if (gray && i % 3 != 0) continue;
    errors += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(da[i] ^ db[i])));
  }
  return errors;
}

TEST(ImageBits, PacksMostSignificantBitFirstInRgbOrder) {
  report::rgb_image image(2, 1);
  image.set_pixel(0, 0, {0x80, 0x01, 0xFF});
  image.set_pixel(1, 0, {0x00, 0xA5, 0x3C});
  const std::vector<bit> bits = image_to_bits(image, false);
  ASSERT_EQ(bits.size(), 48U);
  const std::vector<bit> first = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(std::vector<bit>(bits.begin(), bits.begin() + 24), first);
  const std::vector<bit> green2 = {1, 0, 1, 0, 0, 1, 0, 1};
  EXPECT_EQ(std::vector<bit>(bits.begin() + 32, bits.begin() + 40), green2);
  EXPECT_EQ(bits_to_image(bits, 2, 1, false).data(), image.data());
}

TEST(ImageBits, GrayIsDetectedAndSentWithEightBitsPerPixel) {
  report::rgb_image gray(3, 2, {7, 7, 7});
  gray.set_pixel(2, 1, {200, 200, 200});
  EXPECT_TRUE(is_grayscale(gray));
  const std::vector<bit> bits = image_to_bits(gray, true);
  ASSERT_EQ(bits.size(), 48U);
  const std::vector<bit> last = {1, 1, 0, 0, 1, 0, 0, 0};  // 200
  EXPECT_EQ(std::vector<bit>(bits.end() - 8, bits.end()), last);
  EXPECT_EQ(bits_to_image(bits, 3, 2, true).data(), gray.data());
  gray.set_pixel(0, 0, {7, 7, 8});
  EXPECT_FALSE(is_grayscale(gray));
  EXPECT_FALSE(is_grayscale(default_test_image(32, 32)));
}

TEST(ImageQuality, PsnrMatchesHandComputedValue) {
  report::rgb_image a(2, 1, {0, 0, 0});
  report::rgb_image b(2, 1, {0, 0, 0});
  a.set_pixel(1, 0, {10, 20, 30});
  b.set_pixel(1, 0, {13, 16, 30});
  // Differences 3, -4, 0 over 6 samples: MSE = 25/6, PSNR = 10 log10(255² · 6 / 25).
  EXPECT_DOUBLE_EQ(mean_squared_error(a, b), 25.0 / 6.0);
  EXPECT_NEAR(psnr_db(a, b), 41.93296, 1e-4);
  EXPECT_TRUE(std::isinf(psnr_db(a, a)));
  EXPECT_GT(psnr_db(a, a), 0.0);
  report::rgb_image black(1, 1, {0, 0, 0});
  report::rgb_image white(1, 1, {255, 255, 255});
  EXPECT_DOUBLE_EQ(psnr_db(black, white), 0.0);
  EXPECT_THROW((void)psnr_db(a, black), std::invalid_argument);
}

TEST(ImageLink, RgbRoundTripIsLosslessAtHighSnr) {
  const report::rgb_image image = default_test_image(32, 32);
  for (const char* mode : {"per-vector", "per-block"}) {
    image_link_config c = make_config(modem::modulation::qpsk, 40.0, "digital-f64,digital-f32");
    c.mode = detect::parse_detection_mode(mode);
    const image_link_result r = run_image_link(image, c);
    EXPECT_FALSE(r.grayscale);
    EXPECT_EQ(r.payload_bits, 32U * 32U * 24U);
    EXPECT_EQ(r.vectors, 32U * 32U * 24U / 8U);
    EXPECT_EQ(r.channel_blocks, r.vectors / 16U);
    ASSERT_EQ(r.backends.size(), 2U);
    for (const backend_result& b : r.backends) {
      EXPECT_EQ(b.bit_errors, 0U) << mode << " " << b.backend.caption;
      EXPECT_EQ(b.image.data(), image.data());
      EXPECT_TRUE(std::isinf(b.psnr_db));
      EXPECT_EQ(b.mse, 0.0);
      EXPECT_EQ(b.stats.fallbacks, 0U);
      EXPECT_FALSE(b.modelled_cost);
    }
    EXPECT_NE(to_csv(r).find(",0,0.000000e+00,0,inf,"), std::string::npos) << to_csv(r);
  }
}

TEST(ImageLink, GrayRoundTripIsLosslessWithZeroPaddedLastVector) {
  // 31×29 gray = 7192 bits; 16-QAM × 4 users = 16 bits per vector → 450 vectors, 8 padding bits.
  const report::rgb_image gray = to_gray(default_test_image(31, 29));
  image_link_config c = make_config(modem::modulation::qam16, 45.0, "digital-f64");
  c.detector = detect::detector_kind::mmse;
  c.vectors_per_channel = 7;  // 450 = 64·7 + 2: a short last block
  const image_link_result r = run_image_link(gray, c);
  EXPECT_TRUE(r.grayscale);
  EXPECT_EQ(r.payload_bits, 31U * 29U * 8U);
  EXPECT_EQ(r.padding_bits, 8U);
  EXPECT_EQ(r.vectors, 450U);
  EXPECT_EQ(r.channel_blocks, 65U);
  ASSERT_EQ(r.backends.size(), 1U);
  EXPECT_EQ(r.backends[0].bit_errors, 0U);
  EXPECT_EQ(r.backends[0].image.data(), gray.data());
  EXPECT_TRUE(std::isinf(r.backends[0].psnr_db));
  const nlohmann::json j = nlohmann::json::parse(to_json(c, {"cmd", "gray.png", "out"}, r));
  EXPECT_TRUE(j["backends"][0]["measured"]["psnr_db"].is_null());
  EXPECT_TRUE(j["backends"][0]["measured"]["lossless"].get<bool>());
  EXPECT_EQ(j["image"]["bits_per_pixel"].get<int>(), 8);
}

TEST(ImageLink, ErrorsAndPsnrAgreeWithTheRecoveredPixels) {
  const report::rgb_image image = default_test_image(32, 32);
  const image_link_config c = make_config(modem::modulation::qam16, 4.0, "digital-f64");
  const image_link_result r = run_image_link(image, c);
  const backend_result& b = r.backends[0];
  EXPECT_GT(b.bit_errors, 100U);  // lossy at 4 dB
  EXPECT_EQ(b.bit_errors, byte_bit_errors(image, b.image, false));
  EXPECT_DOUBLE_EQ(b.ber, static_cast<double>(b.bit_errors) / (32.0 * 32.0 * 24.0));
  EXPECT_DOUBLE_EQ(b.psnr_db, 10.0 * std::log10(255.0 * 255.0 / mean_squared_error(image, b.image)));
}

TEST(ImageLink, FewerAnalogIterationsDegradeTheImage) {
  // 256-QAM at 30 dB, the default profile (feedback-board): on i.i.d. Rayleigh one iteration leaves ~1e-2
  // BER while 2–3 reach FP32 digital; on a correlated (Kronecker 0.5/0.3) channel the
  // refinement converges more slowly and every iteration visibly helps.
  const report::rgb_image image = default_test_image(32, 32);
  for (const bool correlated : {false, true}) {
    for (const std::uint64_t seed : {1U, 2U}) {
      image_link_config c =
          make_config(modem::modulation::qam256, 30.0, "digital-f32,analog:iters=1,analog:iters=2,analog:iters=3");
      c.seed = seed;
      if (correlated) {
        c.channel = "kronecker";
        c.rho_bs = 0.5;
        c.rho_ue = 0.3;
      }
      const image_link_result r = run_image_link(image, c);
      const backend_result& f32 = r.backends[0];
      const backend_result& it1 = r.backends[1];
      const backend_result& it2 = r.backends[2];
      const backend_result& it3 = r.backends[3];
      const std::string what = (correlated ? "kronecker seed " : "rayleigh seed ") + std::to_string(seed);
      EXPECT_EQ(it1.backend.caption, "analog 1 it (feedback-board, feedback mapping)");
      EXPECT_TRUE(it1.modelled_cost);
      EXPECT_GT(it1.stats.modelled_solve_joules, 0.0);
      EXPECT_EQ(f32.bit_errors, 0U) << what;
      EXPECT_GT(it1.ber, 5.0 * it2.ber) << what;
      EXPECT_GT(it1.ber, 5e-3) << what;
      EXPECT_LT(it1.psnr_db, it2.psnr_db) << what;
      if (correlated) {
        EXPECT_GT(it2.ber, it3.ber) << what;
        EXPECT_LT(it2.psnr_db, it3.psnr_db) << what;
      } else {
        EXPECT_GE(it2.ber, it3.ber) << what;
        EXPECT_LE(it2.psnr_db, it3.psnr_db) << what;
        EXPECT_LE(it3.bit_errors, 2U) << what;  // matches FP32 digital within a couple of bits
      }
    }
  }
}

TEST(ImageLink, SameSeedReproducesAndAnotherSeedChangesTheNoise) {
  const report::rgb_image image = default_test_image(32, 32);
  image_link_config c = make_config(modem::modulation::qam16, 4.0, "digital-f64,analog:iters=2");
  const image_link_result a = run_image_link(image, c);
  const image_link_result b = run_image_link(image, c);
  c.seed = 99;
  const image_link_result other = run_image_link(image, c);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_GT(a.backends[i].bit_errors, 0U);
    EXPECT_EQ(a.backends[i].image.data(), b.backends[i].image.data());
    EXPECT_EQ(a.backends[i].bit_errors, b.backends[i].bit_errors);
    EXPECT_NE(a.backends[i].image.data(), other.backends[i].image.data());
  }
}

TEST(ImageLink, EveryBackendSeesTheSameChannelAndNoise) {
  const report::rgb_image image = default_test_image(32, 32);
  const image_link_config c =
      make_config(modem::modulation::qam64, 10.0, "digital-f64,digital-f64,analog:iters=2,analog:iters=2");
  const image_link_result r = run_image_link(image, c);
  ASSERT_EQ(r.backends.size(), 4U);
  EXPECT_GT(r.backends[0].bit_errors, 0U);
  EXPECT_EQ(r.backends[0].image.data(), r.backends[1].image.data());
  EXPECT_EQ(r.backends[2].image.data(), r.backends[3].image.data());
  // Distinct captions and file names for the duplicates.
  EXPECT_EQ(r.backends[0].backend.slug, "digital-f64");
  EXPECT_EQ(r.backends[1].backend.slug, "digital-f64-2");
  EXPECT_EQ(r.backends[1].backend.caption, "digital-f64 #2");
  EXPECT_EQ(r.backends[3].backend.slug, "analog-2-it-2");
}

TEST(BackendList, ParsesNamesOptionsCaptionsAndSlugs) {
  const std::vector<backend_choice> list =
      parse_backend_list("digital-f32,analog:iters=2,analog:iters=3;profile=ideal,analog,analog-lp");
  ASSERT_EQ(list.size(), 5U);
  EXPECT_EQ(list[0].caption, "digital-f32");
  EXPECT_EQ(list[1].spec.name, "analog");
  EXPECT_EQ(list[1].spec.options.at("iters"), "2");
  EXPECT_EQ(list[1].caption, "analog 2 it (feedback-board, feedback mapping)");
  EXPECT_EQ(list[1].slug, "analog-2-it");
  EXPECT_EQ(list[2].spec.options.at("profile"), "ideal");
  EXPECT_EQ(list[2].caption, "analog 3 it (ideal, feedback mapping)");
  EXPECT_EQ(list[2].slug, "analog-3-it-ideal");
  EXPECT_EQ(list[3].caption, "analog 3 it (feedback-board, feedback mapping)");  // the default profile: 3 iterations
  EXPECT_EQ(list[3].slug, "analog-3-it");
  EXPECT_EQ(list[4].caption, "analog-lp (feedback-board, feedback mapping)");
  const std::vector<backend_choice> paper = parse_backend_list("analog:profile=paper-board,analog:mapping=paper");
  EXPECT_EQ(paper[0].caption, "analog 3 it (paper-board, paper mapping)");
  EXPECT_EQ(paper[1].caption, "analog 3 it (feedback-board, paper mapping)");
  // ':' inside a value continues it (endpoints).
  const std::vector<backend_choice> remote = parse_backend_list("remote:endpoint=tcp://127.0.0.1:5555:backend=analog");
  EXPECT_EQ(remote[0].spec.options.at("endpoint"), "tcp://127.0.0.1:5555");
  EXPECT_TRUE(reports_modelled_cost(remote[0].spec));
}

TEST(BackendList, RejectsBadEntriesWithAMessage) {
  const auto message = [](const char* text) {
    try {
      (void)parse_backend_list(text);
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message("digital-f32,quantum").find("unknown solver 'quantum'"), std::string::npos);
  EXPECT_NE(message("analog:iterz=2").find("iterz"), std::string::npos);
  EXPECT_NE(message("analog:iters").find("not key=value"), std::string::npos);
  EXPECT_NE(message("analog:iters=0").find("iters"), std::string::npos);
  EXPECT_NE(message("analog:iters=1:iters=2").find("twice"), std::string::npos);
  EXPECT_NE(message("digital-f32,,analog").find("empty"), std::string::npos);
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message("digital-f64:iters=2").find("no option"), std::string::npos);
}

TEST(ImageLinkConfig, RejectsZfWithMoreUsersThanAntennasAndBadSnr) {
  image_link_config c = make_config(modem::modulation::qpsk, 20.0, "digital-f64");
  c.antennas = 4;
  c.users = 8;
  EXPECT_THROW(validate(c), config_error);
  c.detector = detect::detector_kind::mmse;
  EXPECT_NO_THROW(validate(c));
  c.snr_db = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(validate(c), config_error);
  c.snr_db = 20.0;
  c.channel = "nosuch";
  EXPECT_THROW(validate(c), config_error);
  c.channel = "rayleigh";
  c.vectors_per_channel = 0;
  EXPECT_THROW(validate(c), config_error);
  c.vectors_per_channel = 16;
  c.backends.clear();
  EXPECT_THROW(validate(c), config_error);
}

TEST(Mosaic, HoldsEveryTileWithItsCaption) {
  const report::rgb_image image = default_test_image(32, 32);
  const image_link_config c = make_config(modem::modulation::qpsk, 40.0, "digital-f64,digital-f32,analog-lp");
  const image_link_result r = run_image_link(image, c);
  const report::rgb_image mosaic = render_mosaic(image, c, r);
  // Four tiles of 256×256 (32 px scaled ×8) in a 3-column grid: two rows.
  EXPECT_GE(mosaic.width(), 3 * 256);
  EXPECT_GE(mosaic.height(), 2 * 256);
  // The top-left tile is the original scaled ×8: find it by content.
  bool found = false;
  for (int y = 0; y + 256 <= mosaic.height() && !found; ++y) {
    for (int x = 0; x + 256 <= mosaic.width() && !found; ++x) {
      if (mosaic.pixel(x, y) != image.pixel(0, 0) || mosaic.pixel(x + 7, y + 7) != image.pixel(0, 0)) continue;
      bool all = true;
      for (int v = 0; v < 32 && all; ++v) {
        for (int u = 0; u < 32 && all; ++u) all = mosaic.pixel(x + 8 * u + 3, y + 8 * v + 5) == image.pixel(u, v);
      }
      found = all;
    }
  }
  EXPECT_TRUE(found);
}

// coding ldpc: where the code holds the image comes back exactly; where it does not, the failed
// blocks' pixels are grey and counted, never shown or scored as decoded data.
TEST(ImageLink, LdpcCodedImageIsExactAtHighSnrAndGreyWhereBlocksFail) {
  const report::rgb_image image = default_test_image(24, 20);
  image_link_config c = make_config(modem::modulation::qpsk, 25.0, "digital-f64");
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.vectors_per_channel = 256;  // G = 512 bits per user and block: A = 256 (38.214)
  const image_link_result good = run_image_link(image, c);
  EXPECT_EQ(good.tb_bits, 256);
  EXPECT_EQ(good.g_bits, 512);
  EXPECT_EQ(good.channel_blocks, (good.payload_bits + 4 * 256 - 1) / (4 * 256));
  EXPECT_EQ(good.padding_bits, good.channel_blocks * 4 * 256 - good.payload_bits);
  const backend_result& g = good.backends.at(0);
  EXPECT_EQ(g.transport_blocks, good.channel_blocks * 4);
  EXPECT_EQ(g.block_errors, 0U);
  EXPECT_EQ(g.bits, good.payload_bits);
  EXPECT_EQ(byte_bit_errors(image, g.image, false), 0U);
  EXPECT_TRUE(std::isinf(g.psnr_db));

  c.snr_db = -15.0;  // far below what a rate-1/2 code carries even after 16x4 ZF's array gain
  const image_link_result bad = run_image_link(image, c);
  const backend_result& b = bad.backends.at(0);
  EXPECT_EQ(b.block_errors, b.transport_blocks);
  EXPECT_EQ(b.bits, 0U);
  EXPECT_EQ(b.bit_errors, 0U);
  EXPECT_EQ(b.erased_bits, bad.payload_bits);
  EXPECT_GT(b.channel_bit_errors, b.channel_bits / 10);  // the channel itself is poor
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const report::rgb p = b.image.pixel(x, y);
      ASSERT_TRUE(p.r == kFailedBlockGrey.r && p.g == kFailedBlockGrey.g && p.b == kFailedBlockGrey.b) << x << "," << y;
    }
  }
  const std::string csv = to_csv(bad);
  EXPECT_NE(csv.find("block_errors"), std::string::npos);

  c.vectors_per_channel = 8;  // G = 16 bits: no transport block fits
  EXPECT_THROW(validate(c), config_error);
  c.vectors_per_channel = 256;
  c.coding = "turbo";
  EXPECT_THROW(validate(c), config_error);
}

// The CDL geometry reaches the coded path too: a narrow and a wide departure angle spread
// are different channels (highly correlated columns at 2 degrees), so the uncoded bit errors
// of the coded link differ. The coded path once built its channel without the geometry and
// gave byte-identical results for any --asd.
TEST(ImageLink, LdpcCodedLinkUsesTheCdlGeometry) {
  const report::rgb_image image = default_test_image(16, 16);
  image_link_config c = make_config(modem::modulation::qam64, 14.0, "digital-f64");
  c.antennas = 8;
  c.channel = "cdl-c";
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.cdl.asd_deg = 2.0;
  const image_link_result narrow = run_image_link(image, c);
  c.cdl.asd_deg = 50.0;  // CDL-C's scaling reaches about 59.5 degrees (60 is refused)
  const image_link_result wide = run_image_link(image, c);
  const backend_result& n = narrow.backends.at(0);
  const backend_result& w = wide.backends.at(0);
  EXPECT_EQ(n.channel_bits, w.channel_bits);
  EXPECT_NE(n.channel_bit_errors, w.channel_bit_errors);
  EXPECT_TRUE(n.image.data() != w.image.data());
  // Narrow spread: nearly collinear user channels, so ZF amplifies noise far more.
  EXPECT_GT(n.channel_bit_errors, w.channel_bit_errors);
}

// Coded bits are scrambled per block: a block without usable information (narrow angular
// spread, ZF in deep fades) fails its CRC instead of decoding to the all-zero codeword, which
// passes it (6 of 506 failed blocks went undetected here, about 0.008 expected with CRC16).
TEST(ImageLink, BlocksWithoutInformationFailTheirCrc) {
  const report::rgb_image image = default_test_image(32, 32);
  image_link_config c = make_config(modem::modulation::qam64, 14.0, "digital-f32");
  c.antennas = 8;
  c.channel = "cdl-c";
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.cdl.asd_deg = 2.0;
  const image_link_result r = run_image_link(image, c);
  const backend_result& b = r.backends.at(0);
  ASSERT_GT(b.block_errors, 200U) << "the case must fail most blocks";
  EXPECT_EQ(b.undetected_block_errors, 0U);
}

// A stop request (amimo-image's signal handler) ends the run before the next channel block:
// the blocks not sent are erased — never scored as decisions of zeros, and, coded, failed
// (grey) — and the result says so. Set before the run: nothing is sent.
TEST(ImageLink, AStopRequestErasesTheBlocksNotSent) {
  const report::rgb_image image = default_test_image(32, 32);
  const std::atomic<bool> stop{true};
  for (const std::string coding : {"none", "ldpc"}) {
    image_link_config c = make_config(modem::modulation::qam16, 30.0, "digital-f64");
    c.coding = coding;
    const image_link_result r = run_image_link(image, c, &stop);
    EXPECT_TRUE(r.interrupted) << coding;
    EXPECT_EQ(r.blocks_sent, 0U) << coding;
    const backend_result& b = r.backends.at(0);
    EXPECT_EQ(b.bits, 0U) << coding;
    EXPECT_EQ(b.bit_errors, 0U) << coding;
    EXPECT_EQ(b.erased_bits, r.payload_bits) << coding;
    EXPECT_EQ(b.transport_blocks, 0U) << coding;
    EXPECT_EQ(b.stats.solves, 0U) << coding;
    // Nothing received is not lossless, and a BER over no bits is not 0.
    const nlohmann::json j = nlohmann::json::parse(to_json(c, {"cmd", "in.png", "out"}, r));
    EXPECT_TRUE(j["image"]["interrupted"].get<bool>()) << coding;
    const auto& m = j["backends"][0]["measured"];
    EXPECT_FALSE(m["lossless"].get<bool>()) << coding;
    EXPECT_TRUE(m["ber"].is_null()) << coding;
    EXPECT_NE(result_table(r).find("interrupted after 0 of"), std::string::npos) << coding;
  }
  const std::atomic<bool> go{false};
  const image_link_result whole = run_image_link(image, make_config(modem::modulation::qam16, 30.0, "digital-f64"), &go);
  EXPECT_FALSE(whole.interrupted);
  EXPECT_EQ(whole.blocks_sent, whole.channel_blocks);
  EXPECT_EQ(whole.backends.at(0).erased_bits, 0U);
}

// amimo-image's files are one result, written as a set: a failure midway leaves the previous
// run's files, never this run's recovered images beside an older run's mosaic and JSON.
class ImageOutputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("amimo-test-image-output-" + std::string(test->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    config_ = make_config(modem::modulation::qam16, 0.0, "digital-f64");  // bit errors that differ by seed
    first_ = run_image_link(image_, config_);
    image_link_config other = config_;
    other.seed = 2;  // other noise: other recovered image, CSV and JSON
    second_ = run_image_link(image_, other);
    write_outputs(image_, config_, info("first run"), first_);
  }
  void TearDown() override {
    file_io_testing::set_temporary_name_source({});
    std::filesystem::remove_all(dir_);
  }
  image_run_info info(const std::string& command_line) const { return {command_line, "(test)", dir_}; }
  static std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Every file of the first run, by name (mosaic.png left out when `with_mosaic` is false).
  std::map<std::string, std::string> files(bool with_mosaic = true) const {
    std::map<std::string, std::string> out;
    for (const char* name : {"original.png", "recovered-digital-f64.png", "mosaic.png", "image.csv", "image.json"}) {
      if (with_mosaic || std::string(name) != "mosaic.png") out[name] = read(dir_ / name);
    }
    return out;
  }
  int temporaries() const {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().filename().string().find(".tmp-") != std::string::npos) ++count;
    }
    return count;
  }

  std::filesystem::path dir_;
  report::rgb_image image_ = default_test_image(16, 16);
  image_link_config config_;
  image_link_result first_;
  image_link_result second_;
};

// A directory where mosaic.png goes: its rename would fail after the recovered image had been
// replaced, so nothing is renamed and the first run's files stay.
TEST_F(ImageOutputFiles, ADirectoryAtTheMosaicLeavesThePreviousFiles) {
  ASSERT_NE(to_csv(second_), to_csv(first_));
  ASSERT_TRUE(second_.backends.at(0).image.data() != first_.backends.at(0).image.data());
  const auto before = files(false);
  std::filesystem::remove(dir_ / "mosaic.png");
  std::filesystem::create_directory(dir_ / "mosaic.png");
  try {
    write_outputs(image_, config_, info("second run"), second_);
    FAIL() << "wrote over a directory";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("mosaic.png"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files(false) == before);
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "mosaic.png"));
  EXPECT_EQ(temporaries(), 0);
}

// Every name mosaic.png's temporary could take is taken: the mosaic cannot be written at all,
// and the whole previous set, mosaic included, is what the directory still holds.
TEST_F(ImageOutputFiles, AnUnwritableMosaicTemporaryLeavesThePreviousSet) {
  const auto before = files();
  ASSERT_FALSE(before.at("mosaic.png").empty());
  constexpr std::uint64_t kBase = 0x1a6e000000000000ULL;
  file_io_testing::set_temporary_name_source([n = std::uint64_t{0}]() mutable { return kBase + n++; });
  // More than all the names every writer of the call (and the directory probe) can draw.
  for (std::uint64_t i = 0; i < 8 * file_io_testing::temporary_name_attempts; ++i) {
    std::filesystem::create_directory(file_io_testing::temporary_name(dir_ / "mosaic.png", kBase + i));
  }
  EXPECT_THROW(write_outputs(image_, config_, info("second run"), second_), io_error);
  EXPECT_TRUE(files() == before);
  file_io_testing::set_temporary_name_source({});
  for (std::uint64_t i = 0; i < 8 * file_io_testing::temporary_name_attempts; ++i) {
    std::filesystem::remove(file_io_testing::temporary_name(dir_ / "mosaic.png", kBase + i));
  }
  EXPECT_EQ(temporaries(), 0);
  // And with the way clear the second run replaces every file.
  write_outputs(image_, config_, info("second run"), second_);
  EXPECT_EQ(read(dir_ / "image.csv"), to_csv(second_));
  EXPECT_TRUE(files().at("recovered-digital-f64.png") != before.at("recovered-digital-f64.png"));
}

}  // namespace
}  // namespace amimo::demo
