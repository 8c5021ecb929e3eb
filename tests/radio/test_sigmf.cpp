#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/radio/sigmf.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace amimo::radio {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

class SigmfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("amimo-test-sigmf-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string base(const std::string& name) const { return (dir_ / name).string(); }

  static std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  static std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static void write_text(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  /// Raw little-endian floats written independently of the sink.
  static void write_floats(const fs::path& path, const std::vector<float>& values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()),  // NOLINT
              static_cast<std::streamsize>(values.size() * sizeof(float)));
  }

  /// A valid hand-written metadata file (the test's own, not the sink's).
  static json valid_meta(int channels) {
    return json{{"global",
                 {{"core:datatype", "cf32_le"},
                  {"core:sample_rate", 1e6},
                  {"core:version", "1.2.0"},
                  {"core:num_channels", channels}}},
                {"captures", json::array({{{"core:sample_start", 0}, {"core:frequency", 2.4e9}}})},
                {"annotations", json::array()}};
  }

  /// Writes BASE.sigmf-meta and BASE.sigmf-data holding `samples` samples of `channels`
  /// channels, value of channel c at sample i = (i + 1000 c, -i).
  void write_recording(const std::string& b, const json& meta, int channels, int samples) {
    write_text(b + ".sigmf-meta", meta.dump());
    std::vector<float> values;
    for (int i = 0; i < samples; ++i) {
      for (int c = 0; c < channels; ++c) {
        values.push_back(static_cast<float>(i + 1000 * c));
        values.push_back(static_cast<float>(-i));
      }
    }
    write_floats(b + ".sigmf-data", values);
  }

  /// The message of the io_error thrown by opening `path` ("" when none is thrown).
  static std::string open_error(const std::string& path) {
    try {
      open_sigmf_source(path);
    } catch (const io_error& e) {
      return e.what();
    }
    return "";
  }

  /// A metadata text the source must refuse, with a message naming NAME.sigmf-meta.
  struct bad_case {
    std::string name;
    std::string meta_text;
    std::string expected;  // must appear in the message
  };

  /// Writes each case as a recording (its metadata text, 16 zero floats of data) and checks
  /// that opening it is refused with a message naming the metadata file and `expected`.
  void expect_refused(const std::vector<bad_case>& cases) const {
    for (const bad_case& c : cases) {
      write_text(base(c.name) + ".sigmf-meta", c.meta_text);
      write_floats(base(c.name) + ".sigmf-data", std::vector<float>(16, 0.0F));
      const std::string message = open_error(base(c.name));
      EXPECT_NE(message.find(c.name + ".sigmf-meta"), std::string::npos) << c.name << ": " << message;
      EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
    }
  }

  fs::path dir_;
};

std::vector<std::vector<cf32>> random_channels(int channels, std::size_t samples,
                                               std::uint64_t seed) {
  rng gen(seed);
  std::vector<std::vector<cf32>> out(static_cast<std::size_t>(channels),
                                     std::vector<cf32>(samples));
  for (auto& channel : out) {
    for (auto& v : channel) {
      const cf64 z = gen.complex_normal(1.0);
      v = cf32(static_cast<float>(z.real()), static_cast<float>(z.imag()));
    }
  }
  return out;
}

std::vector<const cf32*> const_pointers(const std::vector<std::vector<cf32>>& channels,
                                        std::size_t at) {
  std::vector<const cf32*> p;
  for (const auto& c : channels) p.push_back(c.data() + at);
  return p;
}

bool same_bits(cf32 a, cf32 b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Writes `signal` through a sink in pieces of `piece` samples and closes it.
void record(const std::string& path, const std::vector<std::vector<cf32>>& signal, double rate,
            double frequency, const sigmf_options& options, std::size_t piece) {
  const int channels = static_cast<int>(signal.size());
  auto sink = create_sigmf_sink(path, {channels, rate, frequency}, options);
  const std::size_t n = signal[0].size();
  for (std::size_t at = 0; at < n; at += piece) {
    const auto p = const_pointers(signal, at);
    sink->write(p, std::min(piece, n - at));
  }
  EXPECT_EQ(sink->events().samples, n);
  sink->close();
  sink->close();  // idempotent
}

/// Reads the whole stream in chunks of `chunk` samples (stops at end_of_stream or `limit`).
std::vector<std::vector<cf32>> play(radio_source& source, std::size_t chunk, std::size_t limit,
                                    read_status* last_status = nullptr) {
  const auto channels = static_cast<std::size_t>(source.description().channels);
  std::vector<std::vector<cf32>> out(channels);
  std::vector<std::vector<cf32>> buffers(channels, std::vector<cf32>(chunk));
  std::vector<cf32*> p;
  for (auto& b : buffers) p.push_back(b.data());
  for (int guard = 0; guard < 1000000; ++guard) {
    const read_result r = source.read(p, chunk, 10ms);
    EXPECT_LE(r.count, chunk);
    for (std::size_t c = 0; c < channels; ++c) {
      out[c].insert(out[c].end(), buffers[c].begin(),
                    buffers[c].begin() + static_cast<std::ptrdiff_t>(r.count));
    }
    if (last_status != nullptr) *last_status = r.status;
    if (r.status == read_status::end_of_stream || out[0].size() >= limit) break;
  }
  return out;
}

TEST_F(SigmfTest, MultiChannelRoundTripIsBitExactInOddChunks) {
  const int channels = 3;
  const std::size_t n = 100003;  // beyond one internal buffer (1 MiB / 24 B = 43690 samples)
  const auto signal = random_channels(channels, n, 7);
  sigmf_options options;
  options.description = "round trip";
  options.datetime = "2024-05-06T07:08:09.123Z";
  record(base("rt.sigmf-meta"), signal, 30.72e6, 3.5e9, options, 977);

  EXPECT_EQ(files_in(dir_), (std::vector<std::string>{"rt.sigmf-data", "rt.sigmf-meta"}));
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4093}, n + 5}) {
    auto source = open_sigmf_source(base("rt"));
    EXPECT_EQ(source->name(), "sigmf");
    const stream_description d = source->description();
    EXPECT_EQ(d.channels, channels);
    EXPECT_EQ(d.sample_rate, 30.72e6);
    EXPECT_EQ(d.center_frequency, 3.5e9);
    read_status last = read_status::ok;
    const auto got = play(*source, chunk, n + 10, &last);
    EXPECT_EQ(last, read_status::end_of_stream);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(channels));
    for (int c = 0; c < channels; ++c) {
      const auto& want = signal[static_cast<std::size_t>(c)];
      const auto& have = got[static_cast<std::size_t>(c)];
      ASSERT_EQ(have.size(), n) << "chunk " << chunk;
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < n; ++i) mismatches += same_bits(want[i], have[i]) ? 0U : 1U;
      EXPECT_EQ(mismatches, 0U) << "channel " << c << " chunk " << chunk;
    }
    EXPECT_EQ(source->events().samples, n);
    EXPECT_EQ(source->events().nonfinite_samples, 0U);
    EXPECT_EQ(source->events().other_errors, 0U);
    // After the end: end_of_stream again, nothing delivered.
    std::vector<cf32> scratch(3 * 4);
    std::array<cf32*, 3> p{scratch.data(), scratch.data() + 4, scratch.data() + 8};
    const read_result again = source->read(p, 4, 0ms);
    EXPECT_EQ(again.count, 0U);
    EXPECT_EQ(again.status, read_status::end_of_stream);
  }
}

TEST_F(SigmfTest, DataFileInterleavesChannelsSampleBySampleAsLittleEndianFloats) {
  // Channel c, sample i = (10 i + c, -(10 i + c) - 0.5): every float is distinct.
  const int channels = 4;
  const std::size_t n = 5;
  std::vector<std::vector<cf32>> signal(channels, std::vector<cf32>(n));
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto v = static_cast<float>(10 * i + c);
      signal[c][i] = cf32(v, -v - 0.5F);
    }
  }
  record(base("layout"), signal, 1e6, 0.0, {}, 2);

  const std::string bytes = read_text(dir_ / "layout.sigmf-data");
  ASSERT_EQ(bytes.size(), n * channels * 8);
  for (std::size_t k = 0; k < n * channels; ++k) {
    const std::size_t i = k / channels;
    const std::size_t c = k % channels;
    // Decode little-endian by hand (independent of the host's float layout assumptions).
    std::uint32_t re_bits = 0;
    std::uint32_t im_bits = 0;
    for (std::size_t b = 0; b < 4; ++b) {
      re_bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[8 * k + b]))
                 << (8 * b);
      im_bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[8 * k + 4 + b]))
                 << (8 * b);
    }
    float re = 0.0F;
    float im = 0.0F;
    std::memcpy(&re, &re_bits, 4);
    std::memcpy(&im, &im_bits, 4);
    const auto v = static_cast<float>(10 * i + c);
    EXPECT_EQ(re, v) << "sample " << i << " channel " << c;
    EXPECT_EQ(im, -v - 0.5F) << "sample " << i << " channel " << c;
  }
  // 1.0f little-endian is 00 00 80 3f: channel 1 sample 0 real part = 1.0.
  EXPECT_EQ(bytes.substr(8, 4), std::string("\x00\x00\x80\x3f", 4));
}

TEST_F(SigmfTest, MetadataHasSigmfFieldsWithTheRightTypes) {
  const auto signal = random_channels(2, 10, 1);
  sigmf_options options;
  options.description = "two antennas";
  options.author = "tester";
  options.hw = "bench";
  options.datetime = "2025-01-31T12:34:56.789Z";
  options.channel_layout = {4, 9};
  options.annotations = {{2, 3, "frame", "first frame"}};
  record(base("meta.sigmf-data"), signal, 15.36e6, 1.8e9, options, 10);

  const json meta = json::parse(read_text(dir_ / "meta.sigmf-meta"));
  const json& g = meta.at("global");
  EXPECT_EQ(g.at("core:datatype"), "cf32_le");
  ASSERT_TRUE(g.at("core:sample_rate").is_number());
  EXPECT_EQ(g.at("core:sample_rate").get<double>(), 15.36e6);
  ASSERT_TRUE(g.at("core:version").is_string());
  EXPECT_EQ(g.at("core:version").get<std::string>().substr(0, 2), "1.");
  ASSERT_TRUE(g.at("core:num_channels").is_number_unsigned());
  EXPECT_EQ(g.at("core:num_channels").get<int>(), 2);
  EXPECT_EQ(g.at("core:recorder"), "amimo");
  EXPECT_EQ(g.at("core:description"), "two antennas");
  EXPECT_EQ(g.at("core:author"), "tester");
  EXPECT_EQ(g.at("core:hw"), "bench");
  EXPECT_EQ(g.at("amimo:channel_layout"), json::array({4, 9}));
  ASSERT_TRUE(g.at("core:extensions").is_array());
  EXPECT_EQ(g.at("core:extensions").at(0).at("name"), "amimo");
  EXPECT_EQ(g.at("core:extensions").at(0).at("optional"), true);
  // Every namespaced key is core: or amimo:.
  for (const auto& [key, value] : g.items()) {
    EXPECT_TRUE(key.rfind("core:", 0) == 0 || key.rfind("amimo:", 0) == 0) << key;
  }

  const json& captures = meta.at("captures");
  ASSERT_TRUE(captures.is_array());
  ASSERT_EQ(captures.size(), 1U);
  ASSERT_TRUE(captures[0].at("core:sample_start").is_number_unsigned());
  EXPECT_EQ(captures[0].at("core:sample_start").get<int>(), 0);
  EXPECT_EQ(captures[0].at("core:frequency").get<double>(), 1.8e9);
  EXPECT_EQ(captures[0].at("core:datetime"), "2025-01-31T12:34:56.789Z");
  const json& annotations = meta.at("annotations");
  ASSERT_TRUE(annotations.is_array());
  ASSERT_EQ(annotations.size(), 1U);
  EXPECT_EQ(annotations[0].at("core:sample_start").get<int>(), 2);
  EXPECT_EQ(annotations[0].at("core:sample_count").get<int>(), 3);
  EXPECT_EQ(annotations[0].at("core:label"), "frame");
  EXPECT_EQ(annotations[0].at("core:comment"), "first frame");

  const sigmf_metadata m = read_sigmf_metadata(base("meta"));
  EXPECT_EQ(m.datatype, "cf32_le");
  EXPECT_EQ(m.sample_rate, 15.36e6);
  EXPECT_EQ(m.channels, 2);
  EXPECT_EQ(m.frequency, 1.8e9);
  EXPECT_EQ(m.datetime, "2025-01-31T12:34:56.789Z");
  EXPECT_EQ(m.description, "two antennas");
  EXPECT_EQ(m.author, "tester");
  EXPECT_EQ(m.recorder, "amimo");
  EXPECT_EQ(m.total_samples, 10U);
  EXPECT_EQ(m.channel_layout, (std::vector<int>{4, 9}));
  ASSERT_EQ(m.annotations.size(), 1U);
  EXPECT_EQ(m.annotations[0].label, "frame");
  EXPECT_EQ(m.meta_path, base("meta") + ".sigmf-meta");
  EXPECT_EQ(m.data_path, base("meta") + ".sigmf-data");
}

// SigMF requires annotations sorted by core:sample_start; the sink wrote them in the order
// given. Now sorted (stably: two at the same sample keep their order). The reader takes an
// unsorted list (another tool's non-conforming recording) and returns it sorted.
TEST_F(SigmfTest, AnnotationsAreWrittenAndReadSortedBySampleStart) {
  const auto signal = random_channels(1, 10, 2);
  sigmf_options options;
  options.datetime = "2025-01-31T12:34:56Z";
  options.annotations = {{7, 1, "c", ""}, {2, 1, "a", ""}, {7, 1, "d", ""}, {5, 1, "b", ""}};
  record(base("ann.sigmf-data"), signal, 1e6, 1e9, options, 10);
  const json meta = json::parse(read_text(dir_ / "ann.sigmf-meta"));
  std::vector<std::string> labels;
  std::vector<std::uint64_t> starts;
  for (const json& a : meta.at("annotations")) {
    labels.push_back(a.at("core:label").get<std::string>());
    starts.push_back(a.at("core:sample_start").get<std::uint64_t>());
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(starts, (std::vector<std::uint64_t>{2, 5, 7, 7}));

  json unsorted = valid_meta(1);
  unsorted["annotations"] = json::array({{{"core:sample_start", 4}, {"core:label", "late"}},
                                         {{"core:sample_start", 1}, {"core:label", "early"}}});
  write_recording(base("unsorted"), unsorted, 1, 8);
  const sigmf_metadata m = read_sigmf_metadata(base("unsorted"));
  ASSERT_EQ(m.annotations.size(), 2U);
  EXPECT_EQ(m.annotations[0].label, "early");
  EXPECT_EQ(m.annotations[1].label, "late");
}

TEST_F(SigmfTest, DefaultDatetimeIsNowInUtcAndOptionalFieldsAreOmitted) {
  const auto signal = random_channels(1, 4, 2);
  record(base("now"), signal, 1e6, 0.0, {}, 4);
  const json meta = json::parse(read_text(dir_ / "now.sigmf-meta"));
  const std::string datetime = meta.at("captures").at(0).at("core:datetime");
  EXPECT_TRUE(is_sigmf_datetime(datetime)) << datetime;
  EXPECT_EQ(datetime.substr(0, 2), "20");
  EXPECT_FALSE(meta.at("global").contains("core:author"));
  EXPECT_FALSE(meta.at("global").contains("core:hw"));
  EXPECT_EQ(meta.at("global").at("amimo:channel_layout"), json::array({0}));
  EXPECT_TRUE(meta.at("annotations").is_array());
  EXPECT_TRUE(meta.at("annotations").empty());

  EXPECT_TRUE(is_sigmf_datetime("2024-02-29T23:59:60Z"));
  EXPECT_TRUE(is_sigmf_datetime("2024-02-29T23:59:59.000000001Z"));
  EXPECT_FALSE(is_sigmf_datetime("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(is_sigmf_datetime("2024-01-01 00:00:00Z"));
  EXPECT_FALSE(is_sigmf_datetime("2024-01-01T00:00:00"));
  EXPECT_FALSE(is_sigmf_datetime("2024-01-01T00:00:00.Z"));
  EXPECT_FALSE(is_sigmf_datetime("2024-01-01T00:00:00+01:00"));
}

TEST_F(SigmfTest, LoopModeRepeatsTheRecording) {
  const int channels = 2;
  const int samples = 5;
  write_recording(base("loop"), valid_meta(channels), channels, samples);
  sigmf_source_options options;
  options.loop = true;
  auto source = open_sigmf_source(base("loop.sigmf-data"), options);
  std::array<std::vector<cf32>, 2> buffers{std::vector<cf32>(13), std::vector<cf32>(13)};
  std::array<cf32*, 2> p{buffers[0].data(), buffers[1].data()};
  for (int call = 0; call < 3; ++call) {
    const read_result r = source->read(p, 13, 0ms);
    ASSERT_EQ(r.count, 13U);
    EXPECT_EQ(r.status, read_status::ok);
    for (std::size_t k = 0; k < 13; ++k) {
      const int i = static_cast<int>((static_cast<std::size_t>(call) * 13 + k) % samples);
      for (int c = 0; c < channels; ++c) {
        EXPECT_EQ(buffers[static_cast<std::size_t>(c)][k],
                  cf32(static_cast<float>(i + 1000 * c), static_cast<float>(-i)));
      }
    }
  }
  EXPECT_EQ(source->events().samples, 39U);

  // Without loop: 5 samples, then end_of_stream with the last ones.
  auto once = open_sigmf_source(base("loop"));
  const read_result r1 = once->read(p, 3, 0ms);
  EXPECT_EQ(r1.count, 3U);
  EXPECT_EQ(r1.status, read_status::ok);
  const read_result r2 = once->read(p, 13, 0ms);
  EXPECT_EQ(r2.count, 2U);
  EXPECT_EQ(r2.status, read_status::end_of_stream);
  EXPECT_EQ(buffers[1][1], cf32(1004.0F, -4.0F));
}

TEST_F(SigmfTest, EmptyRecordingEndsEvenWhenLooping) {
  write_recording(base("empty"), valid_meta(1), 1, 0);
  sigmf_source_options options;
  options.loop = true;
  auto source = open_sigmf_source(base("empty"), options);
  std::vector<cf32> buffer(8);
  std::array<cf32*, 1> p{buffer.data()};
  const read_result r = source->read(p, 8, 0ms);
  EXPECT_EQ(r.count, 0U);
  EXPECT_EQ(r.status, read_status::end_of_stream);
}

TEST_F(SigmfTest, NonFiniteSamplesAreDeliveredAndCounted) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<cf32>> signal{{cf32(1, 2), cf32(nan, 0), cf32(3, 4), cf32(0, -inf)},
                                        {cf32(inf, inf), cf32(5, 6), cf32(7, 8), cf32(9, 10)}};
  auto sink = create_sigmf_sink(base("nan"), {2, 1e6, 0.0}, {});
  const auto p = const_pointers(signal, 0);
  sink->write(p, 4);
  EXPECT_EQ(sink->events().nonfinite_samples, 3U);
  sink->close();

  auto source = open_sigmf_source(base("nan"));
  const auto got = play(*source, 3, 100);
  ASSERT_EQ(got[0].size(), 4U);
  EXPECT_TRUE(std::isnan(got[0][1].real()));
  EXPECT_EQ(got[0][3].imag(), -inf);
  EXPECT_EQ(got[1][0], cf32(inf, inf));
  EXPECT_EQ(got[1][3], cf32(9, 10));
  EXPECT_EQ(source->events().nonfinite_samples, 3U);
}

TEST_F(SigmfTest, ReadsCi16LittleEndianScaledToFullScaleOne) {
  json meta = valid_meta(2);
  meta["global"]["core:datatype"] = "ci16_le";
  write_text(base("ci16") + ".sigmf-meta", meta.dump());
  // Sample 0: ch0 (16384, -32768), ch1 (1, 0); sample 1: ch0 (-1, 32767), ch1 (0, 8192).
  const std::string bytes("\x00\x40\x00\x80\x01\x00\x00\x00\xff\xff\xff\x7f\x00\x00\x00\x20", 16);
  write_text(base("ci16") + ".sigmf-data", bytes);
  auto source = open_sigmf_source(base("ci16"));
  const auto got = play(*source, 10, 100);
  ASSERT_EQ(got[0].size(), 2U);
  EXPECT_EQ(got[0][0], cf32(0.5F, -1.0F));
  EXPECT_EQ(got[1][0], cf32(1.0F / 32768.0F, 0.0F));
  EXPECT_EQ(got[0][1], cf32(-1.0F / 32768.0F, 32767.0F / 32768.0F));
  EXPECT_EQ(got[1][1], cf32(0.0F, 0.25F));
}

TEST_F(SigmfTest, DestroyedWithoutCloseLeavesNothingBehind) {
  const auto signal = random_channels(2, 50000, 3);
  {
    auto sink = create_sigmf_sink(base("abandoned"), {2, 1e6, 0.0}, {});
    const auto p = const_pointers(signal, 0);
    sink->write(p, 50000);                 // beyond one buffer: the temporary data file has content
    EXPECT_FALSE(files_in(dir_).empty());  // a temporary exists while writing
    for (const auto& name : files_in(dir_))
      EXPECT_EQ(name.rfind(".abandoned.sigmf-data.tmp", 0), 0U);
  }
  EXPECT_TRUE(files_in(dir_).empty());

  // An existing recording is untouched by an abandoned rewrite.
  record(base("kept"), signal, 1e6, 0.0, {}, 50000);
  const std::string before = read_text(dir_ / "kept.sigmf-data");
  {
    auto sink = create_sigmf_sink(base("kept"), {2, 1e6, 0.0}, {});
    const auto p = const_pointers(signal, 0);
    sink->write(p, 10);
  }
  EXPECT_EQ(files_in(dir_), (std::vector<std::string>{"kept.sigmf-data", "kept.sigmf-meta"}));
  EXPECT_EQ(read_text(dir_ / "kept.sigmf-data"), before);
}

TEST_F(SigmfTest, SinkRefusesBadDescriptionsAndMisuse) {
  EXPECT_THROW(create_sigmf_sink(base("x"), {0, 1e6, 0.0}, {}), config_error);
  EXPECT_THROW(create_sigmf_sink(base("x"), {1, 0.0, 0.0}, {}), config_error);
  EXPECT_THROW(create_sigmf_sink(base("x"), {1, std::nan(""), 0.0}, {}), config_error);
  EXPECT_THROW(create_sigmf_sink(base("x"), {1, 1e6, HUGE_VAL}, {}), config_error);
  sigmf_options bad_time;
  bad_time.datetime = "yesterday";
  EXPECT_THROW(create_sigmf_sink(base("x"), {1, 1e6, 0.0}, bad_time), config_error);
  sigmf_options bad_layout;
  bad_layout.channel_layout = {0, 1, 2};
  EXPECT_THROW(create_sigmf_sink(base("x"), {2, 1e6, 0.0}, bad_layout), config_error);
  try {
    create_sigmf_sink((dir_ / "no-such-dir" / "x").string(), {1, 1e6, 0.0}, {});
    FAIL() << "expected io_error";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-dir"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir_).empty());

  auto sink = create_sigmf_sink(base("x"), {2, 1e6, 0.0}, {});
  std::vector<cf32> one(4);
  std::array<const cf32*, 1> too_few{one.data()};
  EXPECT_THROW(sink->write(too_few, 4), config_error);
  sink->close();
  std::array<const cf32*, 2> two{one.data(), one.data()};
  EXPECT_THROW(sink->write(two, 4), io_error);
  EXPECT_EQ(read_sigmf_metadata(base("x")).total_samples, 0U);
}

TEST_F(SigmfTest, MissingFilesAreClearErrors) {
  std::string message = open_error(base("absent"));
  EXPECT_NE(message.find("absent.sigmf-meta"), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;

  write_text(base("nodata") + ".sigmf-meta", valid_meta(1).dump());
  message = open_error(base("nodata"));
  EXPECT_NE(message.find("nodata.sigmf-data"), std::string::npos) << message;

  message = open_error(base("rec.sigmf"));
  EXPECT_NE(message.find("archives"), std::string::npos) << message;
}

TEST_F(SigmfTest, TruncatedDataIsRefusedNamingTheFile) {
  write_recording(base("trunc"), valid_meta(2), 2, 10);
  fs::resize_file(base("trunc") + ".sigmf-data", 10 * 16 - 3);
  const std::string message = open_error(base("trunc"));
  EXPECT_NE(message.find("trunc.sigmf-data"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("16-byte"), std::string::npos) << message;
  EXPECT_THROW(read_sigmf_metadata(base("trunc")), io_error);

  // core:trailing_bytes is honoured.
  json meta = valid_meta(2);
  meta["global"]["core:trailing_bytes"] = 13;
  write_text(base("trunc") + ".sigmf-meta", meta.dump());
  EXPECT_EQ(read_sigmf_metadata(base("trunc")).total_samples, 9U);
}

TEST_F(SigmfTest, CorruptMetadataIsRefusedNamingFileAndField) {
  const auto with_global = [](const char* key, const json& value) {
    json meta = valid_meta(1);
    meta["global"][key] = value;
    return meta.dump();
  };
  const auto without_global = [](const char* key) {
    json meta = valid_meta(1);
    meta["global"].erase(key);
    return meta.dump();
  };
  json bad_frequency = valid_meta(1);
  bad_frequency["captures"][0]["core:frequency"] = "2.4 GHz";
  json header_bytes = valid_meta(1);
  header_bytes["captures"][0]["core:header_bytes"] = 16;
  const std::vector<bad_case> cases{
      {"badjson", "{\"global\": {\"core:datatype\": \"cf32_le\",", "not valid JSON"},
      {"nanlit", R"({"global": {"core:datatype": "cf32_le", "core:sample_rate": NaN}})",
       "not valid JSON"},
      {"array", "[1, 2]", "top level"},
      {"noglobal", R"({"captures": []})", "\"global\""},
      {"wrongtype", with_global("core:datatype", "cf32_be"), "core:datatype \"cf32_be\""},
      {"ri8", with_global("core:datatype", "ri8"), "cf32_le"},
      {"notype", without_global("core:datatype"), "core:datatype is missing"},
      {"zerorate", with_global("core:sample_rate", 0), "core:sample_rate"},
      {"negrate", with_global("core:sample_rate", -1e6), "core:sample_rate"},
      {"nullrate", with_global("core:sample_rate", nullptr), "core:sample_rate"},
      {"hugerate", R"({"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e999}})",
       "1e999"},
      {"norate", without_global("core:sample_rate"), "core:sample_rate is missing"},
      {"halfchan", with_global("core:num_channels", 2.5), "core:num_channels"},
      {"strchan", with_global("core:num_channels", "2"), "core:num_channels"},
      {"negchan", with_global("core:num_channels", -2), "core:num_channels"},
      {"zerochan", with_global("core:num_channels", 0), "core:num_channels"},
      {"layout", with_global("amimo:channel_layout", json::array({0, 1})), "amimo:channel_layout"},
      {"freq", bad_frequency.dump(), "core:frequency"},
      {"header", header_bytes.dump(), "core:header_bytes"},
      {"metaonly", with_global("core:metadata_only", true), "core:metadata_only"},
  };
  expect_refused(cases);

  // Absent core:num_channels means one channel.
  write_recording(
      base("onechan"),
      [] {
        json meta = valid_meta(1);
        meta["global"].erase("core:num_channels");
        return meta;
      }(),
      1, 6);
  const sigmf_metadata m = read_sigmf_metadata(base("onechan"));
  EXPECT_EQ(m.channels, 1);
  EXPECT_EQ(m.total_samples, 6U);
  EXPECT_EQ(m.frequency, 2.4e9);
  EXPECT_EQ(m.channel_layout, (std::vector<int>{0}));
}

TEST_F(SigmfTest, CloseReplacesAnOlderRecordingWhole) {
  const auto first = random_channels(1, 100, 4);
  const auto second = random_channels(2, 30, 5);
  record(base("again"), first, 1e6, 1e9, {}, 100);
  record(base("again"), second, 2e6, 2e9, {}, 7);
  const sigmf_metadata m = read_sigmf_metadata(base("again"));
  EXPECT_EQ(m.channels, 2);
  EXPECT_EQ(m.sample_rate, 2e6);
  EXPECT_EQ(m.total_samples, 30U);
  auto source = open_sigmf_source(base("again"));
  const auto got = play(*source, 64, 1000);
  ASSERT_EQ(got[1].size(), 30U);
  EXPECT_TRUE(same_bits(got[1][29], second[1][29]));
  EXPECT_EQ(files_in(dir_), (std::vector<std::string>{"again.sigmf-data", "again.sigmf-meta"}));
}

// Malformed metadata that the reader took before (audit of 2026-12-03): each is refused with
// a message naming the file and the field.
TEST_F(SigmfTest, MalformedMetadataIsRefusedNotGuessed) {
  const auto with_captures = [](const json& captures) {
    json meta = valid_meta(1);
    meta["captures"] = captures;
    return meta.dump();
  };
  const auto with_global = [](const char* key, const json& value, int channels = 1) {
    json meta = valid_meta(channels);
    meta["global"][key] = value;
    return meta.dump();
  };
  const std::vector<bad_case> cases{
      // Out of order: the first capture starts at 50, another at 0 (its frequency was lost).
      {"order", with_captures(json::array({{{"core:sample_start", 50}, {"core:frequency", 2.4e9}},
                                            {{"core:sample_start", 0}, {"core:frequency", 3.5e9}}})),
       "sorted"},
      {"laterstr", with_captures(json::array({{{"core:sample_start", 0}}, {{"core:sample_start", "abc"}}})),
       "captures[1] core:sample_start"},
      {"laterneg", with_captures(json::array({{{"core:sample_start", 0}}, {{"core:sample_start", -5}}})),
       "captures[1] core:sample_start"},
      {"nostart", with_captures(json::array({{{"core:frequency", 1e9}}})), "captures[0] has no core:sample_start"},
      {"dupkey",
       R"({"global": {"core:datatype": "cf32_le", "core:sample_rate": -5, "core:sample_rate": 7.68e6}})",
       "\"core:sample_rate\" appears twice"},
      {"dupnested",
       R"({"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6},
           "captures": [{"core:sample_start": 0, "core:frequency": 1, "core:frequency": 2}]})",
       "\"core:frequency\" appears twice"},
      {"mdonly", with_global("core:metadata_only", "yes"), "core:metadata_only must be true or false"},
      {"version", with_global("core:version", "9.9.9"), "core:version \"9.9.9\""},
      {"layoutdup", with_global("amimo:channel_layout", json::array({0, 0}), 2), "names antenna 0 twice"},
      {"layoutbig", with_global("amimo:channel_layout", json::array({7, 99999}), 2), "99999 is out of range"},
  };
  expect_refused(cases);

  // Sorted captures: the frequency is the one of the capture at sample 0, not of a later one;
  // with no capture at sample 0 there is none.
  write_recording(base("sorted"),
                  json::parse(with_captures(json::array({{{"core:sample_start", 0}, {"core:frequency", 3.5e9}},
                                                         {{"core:sample_start", 2}, {"core:frequency", 2.4e9}}}))),
                  1, 4);
  EXPECT_EQ(read_sigmf_metadata(base("sorted")).frequency, 3.5e9);
  write_recording(base("late"), json::parse(with_captures(json::array({{{"core:sample_start", 2},
                                                                        {"core:frequency", 2.4e9}}}))),
                  1, 4);
  EXPECT_EQ(read_sigmf_metadata(base("late")).frequency, 0.0);
  // The sink refuses what the reader refuses.
  sigmf_options twice;
  twice.channel_layout = {3, 3};
  EXPECT_THROW(create_sigmf_sink(base("twice"), {2, 1e6, 0.0}, twice), config_error);
  sigmf_options beyond;
  beyond.channel_layout = {0, 4096};
  EXPECT_THROW(create_sigmf_sink(base("beyond"), {2, 1e6, 0.0}, beyond), config_error);
}

// A directory in the way is found when the sink is created (not after every frame was
// generated), and an older recording is kept; a base path that names a directory is refused.
TEST_F(SigmfTest, SinkRefusesDirectoriesWhenCreatedAndKeepsAnOlderRecording) {
  fs::create_directory(base("rec") + ".sigmf-data");
  write_text(base("rec") + ".sigmf-meta", "older metadata");
  EXPECT_THROW(create_sigmf_sink(base("rec"), {1, 1e6, 0.0}, {}), io_error);
  fs::create_directory(base("m") + ".sigmf-meta");
  EXPECT_THROW(create_sigmf_sink(base("m"), {1, 1e6, 0.0}, {}), io_error);
  fs::create_directory(base("d"));
  EXPECT_THROW(create_sigmf_sink(base("d") + "/", {1, 1e6, 0.0}, {}), config_error);
  EXPECT_THROW(create_sigmf_sink(base("d"), {1, 1e6, 0.0}, {}), io_error);
  EXPECT_TRUE(fs::is_empty(base("d")));

  // A directory put in the way after creation: close() fails before it touches anything.
  write_text(base("late") + ".sigmf-meta", "older metadata");
  auto sink = create_sigmf_sink(base("late"), {1, 1e6, 0.0}, {});
  fs::create_directory(base("late") + ".sigmf-data");
  EXPECT_THROW(sink->close(), io_error);
  EXPECT_EQ(read_text(base("late") + ".sigmf-meta"), "older metadata");
  EXPECT_EQ(read_text(base("rec") + ".sigmf-meta"), "older metadata");
  EXPECT_TRUE(fs::is_directory(base("late") + ".sigmf-data"));
  EXPECT_EQ(files_in(dir_), (std::vector<std::string>{"d", "late.sigmf-data", "late.sigmf-meta", "m.sigmf-meta",
                                                      "rec.sigmf-data", "rec.sigmf-meta"}));
}

}  // namespace
}  // namespace amimo::radio
