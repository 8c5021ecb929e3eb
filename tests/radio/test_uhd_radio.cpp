// The UHD receive adapter against a scripted uhd::rx_streamer (no USRP needed): the
// script says what each recv() call returns (samples per channel, metadata error code,
// time stamp), the double records every recv() and stream command, and the tests check
// the samples, the counted events and the stream commands against the script.
// open_uhd_source() is run for real with args that match no device.

#include <amimo/core/error.h>
#include <amimo/radio/uhd_radio.h>

#include <gtest/gtest.h>

#include <uhd/types/stream_cmd.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using amimo::cf32;
using amimo::radio::read_status;
using amimo::radio::stream_description;
using amimo::radio::uhd_rx_adapter;
using amimo::radio::uhd_rx_settings;
using code = uhd::rx_metadata_t::error_code_t;
using namespace std::chrono_literals;

// Before UHD logs anything: keep its banner and info lines off the test output.
const bool kQuietUhd = [] { return setenv("UHD_LOG_CONSOLE_LEVEL", "warning", 0) == 0; }();

/// What one recv() call returns.
struct step {
  std::vector<std::vector<cf32>> samples;  ///< per channel, equal lengths (may be empty)
  code error = uhd::rx_metadata_t::ERROR_CODE_NONE;
  bool out_of_sequence = false;
  std::optional<long long> tick;  ///< time stamp of the first sample, in sample ticks
};

/// What the adapter passed to one recv() call.
struct recv_call {
  std::vector<void*> buffers;
  std::size_t nsamps = 0;
  double timeout = 0;
  bool one_packet = true;
};

/// Replays a script; every pure virtual of UHD 4.3's rx_streamer is implemented.
class scripted_streamer final : public uhd::rx_streamer {
 public:
  scripted_streamer(std::size_t channels, double rate, std::deque<step> script)
      : channels_(channels), rate_(rate), script_(std::move(script)) {}

  std::size_t get_num_channels() const override { return channels_; }
  std::size_t get_max_num_samps() const override { return 364; }

  std::size_t recv(const buffs_type& buffs, const std::size_t nsamps_per_buff,
                   uhd::rx_metadata_t& metadata, const double timeout,
                   const bool one_packet) override {
    recv_call call;
    for (std::size_t c = 0; c < buffs.size(); ++c) call.buffers.push_back(buffs[c]);
    call.nsamps = nsamps_per_buff;
    call.timeout = timeout;
    call.one_packet = one_packet;
    calls.push_back(call);
    metadata.reset();
    if (script_.empty()) {  // nothing more: like a device that sends nothing
      metadata.error_code = uhd::rx_metadata_t::ERROR_CODE_TIMEOUT;
      return 0;
    }
    step& s = script_.front();
    metadata.error_code = s.error;
    metadata.out_of_sequence = s.out_of_sequence;
    const std::size_t have = s.samples.empty() ? 0 : s.samples[0].size();
    const std::size_t n = std::min(have, nsamps_per_buff);
    if (s.tick) {
      metadata.has_time_spec = true;
      metadata.time_spec = uhd::time_spec_t::from_ticks(*s.tick, rate_);
    }
    for (std::size_t c = 0; c < s.samples.size(); ++c) {
      std::memcpy(buffs[c], s.samples[c].data(), n * sizeof(cf32));
      s.samples[c].erase(s.samples[c].begin(), s.samples[c].begin() + static_cast<long>(n));
    }
    if (n == have) {
      script_.pop_front();
    } else {  // a fragment: the rest comes with the next call, as UHD does
      s.error = uhd::rx_metadata_t::ERROR_CODE_NONE;
      if (s.tick) *s.tick += static_cast<long long>(n);
    }
    return n;
  }

  void issue_stream_cmd(const uhd::stream_cmd_t& stream_cmd) override {
    commands.push_back(stream_cmd);
  }

  std::vector<recv_call> calls;
  std::vector<uhd::stream_cmd_t> commands;

 private:
  std::size_t channels_;
  double rate_;
  std::deque<step> script_;
};

constexpr double kRate = 1e6;

/// Distinct, exactly representable samples: channel c, stream position i.
std::vector<cf32> ramp(std::size_t c, std::size_t first, std::size_t count) {
  std::vector<cf32> v(count);
  for (std::size_t i = 0; i < count; ++i) {
    v[i] = cf32(static_cast<float>(first + i) * 0.25f,
                -static_cast<float>(c + 1) * 0.5f - static_cast<float>(first + i));
  }
  return v;
}

step data(std::size_t channels, std::size_t first, std::size_t count,
          std::optional<long long> tick = std::nullopt, code error = code::ERROR_CODE_NONE) {
  step s;
  for (std::size_t c = 0; c < channels; ++c) s.samples.push_back(ramp(c, first, count));
  s.tick = tick;
  s.error = error;
  return s;
}

step event(code error, bool out_of_sequence = false) {
  step s;
  s.error = error;
  s.out_of_sequence = out_of_sequence;
  return s;
}

stream_description described(int channels) {
  stream_description d;
  d.channels = channels;
  d.sample_rate = kRate;
  d.center_frequency = 3.5e9;
  return d;
}

/// Per-channel output buffers and the pointer span read() takes.
struct buffers {
  buffers(std::size_t channels, std::size_t size)
      : data(channels, std::vector<cf32>(size, cf32(-7.0f, -7.0f))) {
    for (auto& d : data) ptrs.push_back(d.data());
  }
  std::span<cf32* const> span() const { return {ptrs.data(), ptrs.size()}; }
  bool holds(std::size_t c, const std::vector<cf32>& expected, std::size_t at = 0) const {
    return std::memcmp(data[c].data() + at, expected.data(), expected.size() * sizeof(cf32)) == 0;
  }
  std::vector<std::vector<cf32>> data;
  std::vector<cf32*> ptrs;
};

TEST(UhdRxAdapter, CleanStreamIsDeliveredBitExactPerChannel) {
  auto fake = std::make_shared<scripted_streamer>(
      2, kRate, std::deque<step>{data(2, 0, 300, 0), data(2, 300, 200, 300)});
  uhd_rx_adapter source(fake, described(2));
  EXPECT_EQ(source.name(), "uhd");
  EXPECT_EQ(source.description().channels, 2);
  buffers out(2, 1000);

  // 250 asked of a 300-sample packet: UHD fragments it; the rest comes next.
  auto r = source.read(out.span(), 250, 100ms);
  ASSERT_EQ(r.status, read_status::ok);
  ASSERT_EQ(r.count, 250u);
  EXPECT_TRUE(out.holds(0, ramp(0, 0, 250)));
  EXPECT_TRUE(out.holds(1, ramp(1, 0, 250)));
  EXPECT_EQ(out.data[0][250], cf32(-7.0f, -7.0f));  // nothing written past count

  r = source.read(out.span(), 1000, 100ms);
  ASSERT_EQ(r.count, 50u);
  EXPECT_TRUE(out.holds(0, ramp(0, 250, 50)));
  EXPECT_TRUE(out.holds(1, ramp(1, 250, 50)));
  r = source.read(out.span(), 1000, 100ms);
  ASSERT_EQ(r.count, 200u);
  EXPECT_TRUE(out.holds(0, ramp(0, 300, 200)));
  EXPECT_TRUE(out.holds(1, ramp(1, 300, 200)));

  const auto& e = source.events();
  EXPECT_EQ(e.samples, 500u);
  EXPECT_EQ(e.timeouts + e.overflows + e.late_packets + e.dropped_samples + e.other_errors +
                e.nonfinite_samples,
            0u);
  // recv() fills the caller's buffers directly (no copy), never in one-packet mode.
  for (const auto& call : fake->calls) {
    ASSERT_EQ(call.buffers.size(), 2u);
    EXPECT_EQ(call.buffers[0], out.ptrs[0]);
    EXPECT_EQ(call.buffers[1], out.ptrs[1]);
    EXPECT_FALSE(call.one_packet);
  }
  EXPECT_EQ(fake->calls[0].nsamps, 250u);
  EXPECT_EQ(fake->calls[1].nsamps, 1000u);
}

TEST(UhdRxAdapter, OverflowIsCountedAndTheStreamGoesOn) {
  // 100 samples at t=0, an overflow, then samples again from t=150: 50 were lost.
  auto fake = std::make_shared<scripted_streamer>(
      1, kRate,
      std::deque<step>{data(1, 0, 100, 0), event(code::ERROR_CODE_OVERFLOW), data(1, 150, 100, 150),
                       event(code::ERROR_CODE_OVERFLOW, /*out_of_sequence=*/true),
                       data(1, 250, 10, 250)});
  uhd_rx_adapter source(fake, described(1));
  buffers out(1, 400);

  auto r = source.read(out.span(), 400, 100ms);
  ASSERT_EQ(r.count, 100u);
  EXPECT_EQ(source.events().overflows, 0u);
  // The overflow came with no samples: the same read goes on and returns what follows.
  r = source.read(out.span(), 400, 100ms);
  ASSERT_EQ(r.status, read_status::ok);
  ASSERT_EQ(r.count, 100u);
  EXPECT_TRUE(out.holds(0, ramp(0, 150, 100)));
  EXPECT_EQ(source.events().overflows, 1u);
  EXPECT_EQ(source.events().dropped_samples, 50u);
  EXPECT_EQ(source.out_of_sequence(), 0u);

  // A transport loss ('D'): counted apart; no gap in the time stamps, nothing dropped.
  r = source.read(out.span(), 400, 100ms);
  ASSERT_EQ(r.count, 10u);
  EXPECT_TRUE(out.holds(0, ramp(0, 250, 10)));
  EXPECT_EQ(source.events().overflows, 2u);
  EXPECT_EQ(source.out_of_sequence(), 1u);
  EXPECT_EQ(source.events().dropped_samples, 50u);
  EXPECT_EQ(source.events().samples, 210u);
  EXPECT_EQ(source.events().timeouts, 0u);
}

TEST(UhdRxAdapter, OverflowReportedWithSamplesDeliversThem) {
  auto fake = std::make_shared<scripted_streamer>(
      1, kRate, std::deque<step>{data(1, 0, 40, std::nullopt, code::ERROR_CODE_OVERFLOW)});
  uhd_rx_adapter source(fake, described(1));
  buffers out(1, 100);
  const auto r = source.read(out.span(), 100, 100ms);
  ASSERT_EQ(r.count, 40u);
  EXPECT_TRUE(out.holds(0, ramp(0, 0, 40)));
  EXPECT_EQ(source.events().overflows, 1u);
  EXPECT_EQ(fake->calls.size(), 1u);
}

TEST(UhdRxAdapter, TimeoutIsCountedAndReturnedAtOnce) {
  auto fake = std::make_shared<scripted_streamer>(1, kRate, std::deque<step>{});
  uhd_rx_adapter source(fake, described(1));
  buffers out(1, 100);
  const auto r = source.read(out.span(), 100, 20ms);
  EXPECT_EQ(r.status, read_status::timeout);
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(source.events().timeouts, 1u);
  EXPECT_EQ(source.events().samples, 0u);
  // One recv(), waiting at most the caller's timeout (single channel: no start delay).
  ASSERT_EQ(fake->calls.size(), 1u);
  EXPECT_GT(fake->calls[0].timeout, 0.0);
  EXPECT_LE(fake->calls[0].timeout, 0.020);
  EXPECT_EQ(out.data[0][0], cf32(-7.0f, -7.0f));

  source.read(out.span(), 100, 0ms);
  EXPECT_EQ(source.events().timeouts, 2u);
  EXPECT_EQ(fake->calls.back().timeout, 0.0);
}

TEST(UhdRxAdapter, StartIsTimedForSeveralChannelsAndStopFollowsDestruction) {
  auto fake = std::make_shared<scripted_streamer>(2, kRate, std::deque<step>{data(2, 0, 10)});
  {
    uhd_rx_settings settings;
    settings.device_time = [] { return uhd::time_spec_t(12.5); };
    settings.start_delay_s = 0.25;
    uhd_rx_adapter source(fake, described(2), settings);
    EXPECT_TRUE(fake->commands.empty());  // nothing is started before the first read
    buffers out(2, 10);
    ASSERT_EQ(source.read(out.span(), 10, 50ms).count, 10u);
    ASSERT_EQ(fake->commands.size(), 1u);
    const auto& start = fake->commands[0];
    EXPECT_EQ(start.stream_mode, uhd::stream_cmd_t::STREAM_MODE_START_CONTINUOUS);
    EXPECT_FALSE(start.stream_now);
    EXPECT_EQ(start.time_spec.get_full_secs(), 12);
    EXPECT_DOUBLE_EQ(start.time_spec.get_frac_secs(), 0.75);
    // The first recv waits for the start time as well as the caller's timeout.
    ASSERT_EQ(fake->calls.size(), 1u);
    EXPECT_GT(fake->calls[0].timeout, 0.25);
    EXPECT_LE(fake->calls[0].timeout, 0.30);
    source.read(out.span(), 10, 50ms);  // later reads: the caller's timeout only
    EXPECT_LE(fake->calls.back().timeout, 0.05);
    EXPECT_EQ(fake->commands.size(), 1u);  // started once
  }
  ASSERT_EQ(fake->commands.size(), 2u);
  EXPECT_EQ(fake->commands[1].stream_mode, uhd::stream_cmd_t::STREAM_MODE_STOP_CONTINUOUS);
}

TEST(UhdRxAdapter, SingleChannelStartsNowAndUnstartedStreamIsNotStopped) {
  auto fake = std::make_shared<scripted_streamer>(1, kRate, std::deque<step>{data(1, 0, 5)});
  {
    uhd_rx_settings settings;
    settings.device_time = [] { return uhd::time_spec_t(3.0); };
    uhd_rx_adapter source(fake, described(1), settings);
    buffers out(1, 5);
    ASSERT_EQ(source.read(out.span(), 5, 50ms).count, 5u);
  }
  ASSERT_EQ(fake->commands.size(), 2u);
  EXPECT_EQ(fake->commands[0].stream_mode, uhd::stream_cmd_t::STREAM_MODE_START_CONTINUOUS);
  EXPECT_TRUE(fake->commands[0].stream_now);
  EXPECT_EQ(fake->commands[1].stream_mode, uhd::stream_cmd_t::STREAM_MODE_STOP_CONTINUOUS);

  auto idle = std::make_shared<scripted_streamer>(1, kRate, std::deque<step>{});
  { uhd_rx_adapter never_read(idle, described(1)); }
  EXPECT_TRUE(idle->commands.empty());
}

TEST(UhdRxAdapter, LateStartIsCountedAndReissuedWithAFreshTime) {
  auto fake = std::make_shared<scripted_streamer>(
      2, kRate,
      std::deque<step>{event(code::ERROR_CODE_LATE_COMMAND), data(2, 0, 20),
                       event(code::ERROR_CODE_LATE_COMMAND), data(2, 20, 20)});
  double now = 1.0;
  uhd_rx_settings settings;
  settings.device_time = [&now] { return uhd::time_spec_t(now); };
  settings.start_delay_s = 0.5;
  uhd_rx_adapter source(fake, described(2), settings);
  buffers out(2, 100);

  auto r = source.read(out.span(), 100, 50ms);
  EXPECT_EQ(r.status, read_status::timeout);
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(source.events().late_packets, 1u);
  EXPECT_EQ(source.events().timeouts, 0u);
  uhd::rx_metadata_t late;
  late.error_code = code::ERROR_CODE_LATE_COMMAND;
  EXPECT_EQ(source.last_error(), late.strerror());
  ASSERT_EQ(fake->commands.size(), 2u);
  EXPECT_EQ(fake->commands[1].stream_mode, uhd::stream_cmd_t::STREAM_MODE_STOP_CONTINUOUS);

  now = 4.0;
  r = source.read(out.span(), 100, 50ms);
  ASSERT_EQ(r.count, 20u);
  EXPECT_TRUE(out.holds(1, ramp(1, 0, 20)));
  ASSERT_EQ(fake->commands.size(), 3u);
  EXPECT_EQ(fake->commands[2].stream_mode, uhd::stream_cmd_t::STREAM_MODE_START_CONTINUOUS);
  EXPECT_FALSE(fake->commands[2].stream_now);
  EXPECT_DOUBLE_EQ(fake->commands[2].time_spec.get_real_secs(), 4.5);

  // Once streaming, a late packet is only counted: no restart.
  r = source.read(out.span(), 100, 50ms);
  ASSERT_EQ(r.count, 20u);
  EXPECT_TRUE(out.holds(0, ramp(0, 20, 20)));
  EXPECT_EQ(source.events().late_packets, 2u);
  EXPECT_EQ(fake->commands.size(), 3u);
}

TEST(UhdRxAdapter, ManyChannelsLandInTheirOwnBuffersAligned) {
  constexpr std::size_t kChannels = 4;
  auto fake = std::make_shared<scripted_streamer>(
      kChannels, kRate, std::deque<step>{data(kChannels, 0, 64, 0), data(kChannels, 64, 64, 64)});
  uhd_rx_adapter source(fake, described(static_cast<int>(kChannels)));
  // The caller's channel buffers are columns of one block, in reversed order.
  std::vector<cf32> block(kChannels * 128, cf32(-7.0f, -7.0f));
  std::vector<cf32*> ptrs;
  for (std::size_t c = 0; c < kChannels; ++c) ptrs.push_back(&block[(kChannels - 1 - c) * 128]);
  std::size_t got = 0;
  while (got < 128) {
    std::vector<cf32*> at;
    for (cf32* p : ptrs) at.push_back(p + got);
    const auto r = source.read(at, 128 - got, 100ms);
    ASSERT_EQ(r.status, read_status::ok);
    got += r.count;
  }
  for (std::size_t c = 0; c < kChannels; ++c) {
    const auto expected = ramp(c, 0, 128);
    EXPECT_EQ(std::memcmp(ptrs[c], expected.data(), 128 * sizeof(cf32)), 0) << "channel " << c;
  }
  EXPECT_EQ(source.events().samples, 128u);
  EXPECT_EQ(source.events().dropped_samples, 0u);
}

TEST(UhdRxAdapter, NonFiniteSamplesAreCountedAndPassedOn) {
  step s = data(2, 0, 8);
  s.samples[0][3] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0f);
  s.samples[1][0] = cf32(std::numeric_limits<float>::infinity(), 1.0f);
  s.samples[1][7] = cf32(0.0f, -std::numeric_limits<float>::infinity());
  const auto expected = s.samples;
  auto fake = std::make_shared<scripted_streamer>(2, kRate, std::deque<step>{s});
  uhd_rx_adapter source(fake, described(2));
  buffers out(2, 8);
  ASSERT_EQ(source.read(out.span(), 8, 50ms).count, 8u);
  EXPECT_EQ(source.events().nonfinite_samples, 3u);
  EXPECT_TRUE(out.holds(0, expected[0]));
  EXPECT_TRUE(out.holds(1, expected[1]));
}

TEST(UhdRxAdapter, OtherErrorsAreCountedWithUhdsMessage) {
  auto fake = std::make_shared<scripted_streamer>(
      1, kRate, std::deque<step>{event(code::ERROR_CODE_BAD_PACKET), data(1, 0, 4)});
  uhd_rx_adapter source(fake, described(1));
  buffers out(1, 4);
  auto r = source.read(out.span(), 4, 50ms);
  EXPECT_EQ(r.status, read_status::timeout);
  EXPECT_EQ(source.events().other_errors, 1u);
  EXPECT_EQ(source.events().timeouts, 0u);
  uhd::rx_metadata_t bad;
  bad.error_code = code::ERROR_CODE_BAD_PACKET;
  EXPECT_EQ(source.last_error(), bad.strerror());
  EXPECT_FALSE(source.last_error().empty());
  r = source.read(out.span(), 4, 50ms);  // the stream goes on
  ASSERT_EQ(r.count, 4u);
  EXPECT_TRUE(out.holds(0, ramp(0, 0, 4)));
}

TEST(UhdRxAdapter, BadConstructionAndCallsAreRefusedClearly) {
  auto two = std::make_shared<scripted_streamer>(2, kRate, std::deque<step>{});
  EXPECT_THROW(uhd_rx_adapter(two, described(3)), amimo::config_error);
  EXPECT_THROW(uhd_rx_adapter(nullptr, described(1)), amimo::config_error);
  uhd_rx_adapter source(two, described(2));
  buffers one(1, 4);
  EXPECT_THROW(source.read(one.span(), 4, 10ms), amimo::config_error);
  EXPECT_TRUE(two->calls.empty());
}

TEST(OpenUhdSource, NoMatchingDeviceIsAConfigError) {
  ASSERT_TRUE(kQuietUhd);
  amimo::radio::uhd_options options;
  options.args = "type=nonexistent,serial=0";
  try {
    amimo::radio::open_uhd_source(options);
    FAIL() << "expected config_error";
  } catch (const amimo::config_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("no UHD device found for args 'type=nonexistent,serial=0'"),
        std::string::npos)
        << e.what();
  }
}

TEST(OpenUhdSource, InvalidOptionsAreRefusedBeforeLookingForADevice) {
  amimo::radio::uhd_options options;
  options.args = "type=nonexistent";
  options.channels.clear();
  EXPECT_THROW(amimo::radio::open_uhd_source(options), amimo::config_error);
  options.channels = {0, 0};
  EXPECT_THROW(amimo::radio::open_uhd_source(options), amimo::config_error);
  options.channels = {0};
  options.rate = 0;
  EXPECT_THROW(amimo::radio::open_uhd_source(options), amimo::config_error);
  options.rate = 1e6;
  options.start_delay_s = std::nan("");
  EXPECT_THROW(amimo::radio::open_uhd_source(options), amimo::config_error);
}

}  // namespace
