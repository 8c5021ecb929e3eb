// The link configuration's channel keys: CDL geometry, the time-domain channel filter, the
// pilot layout, and the cyclic-prefix warning; keys and named files that cannot be read.
#include <amimo/core/error.h>
#include <amimo/pipeline/link_config.h>

#include <gtest/gtest.h>

namespace amimo::pipeline {
namespace {

link_config parse(const std::map<std::string, std::string>& overrides) {
  return parse_link_config(embedded_link_config(), overrides);
}

TEST(LinkConfigChannel, CdlKeysReachTheModel) {
  const auto c = parse({{"channel", "cdl-d"}, {"array_rows", "4"}, {"element_spacing", "0.7"}, {"asd_deg", "12"}});
  EXPECT_EQ(c.channel.model, "cdl-d");
  EXPECT_EQ(c.channel.cdl.array_rows, 4);
  EXPECT_DOUBLE_EQ(c.channel.cdl.element_spacing, 0.7);
  EXPECT_DOUBLE_EQ(c.channel.cdl.asd_deg, 12.0);
  EXPECT_NE(channel_models::describe(c.channel).find("UPA 4x4"), std::string::npos);
  EXPECT_THROW(parse({{"channel", "cdl-d"}, {"array_rows", "3"}}), config_error);  // 16 antennas
}

// Both ends read the pilot layout from the same keys; the emulator steps once per symbol
// of the longer frame.
TEST(LinkConfigChannel, PilotLayoutKeysReachBothEnds) {
  const auto front = parse({{"doppler", "100"}});
  EXPECT_EQ(front.rx.layout.additional_pilots, 0);
  EXPECT_EQ(front.channel.steps_per_frame, 14);
  const auto c = parse({{"doppler", "100"}, {"additional_pilots", "2"}, {"time_interpolation", "hold"}});
  EXPECT_EQ(c.rx.layout.additional_pilots, 2);
  EXPECT_EQ(c.rx.interpolation, time_interpolation::hold);
  EXPECT_EQ(c.channel.steps_per_frame, 16);
  EXPECT_EQ(parse({}).rx.interpolation, time_interpolation::linear);
  EXPECT_THROW(parse({{"time_interpolation", "cubic"}}), config_error);
  EXPECT_THROW(parse({{"additional_pilots", "9"}}), config_error);
  EXPECT_THROW(parse({{"additional_pilots", "2"}, {"data_symbols", "2"}}), config_error);
}

TEST(LinkConfigChannel, ChannelFilterIsCheckedAndBecomesEmulatorOptions) {
  EXPECT_FALSE(parse({}).emulator_options().time_domain);
  const auto c = parse({{"channel_filter", "sinc"}, {"sinc_half_width", "8"}});
  EXPECT_TRUE(c.emulator_options().time_domain);
  EXPECT_EQ(c.emulator_options().fir.half_width, 8);
  EXPECT_THROW(parse({{"channel_filter", "fir"}}), config_error);
  EXPECT_THROW(parse({{"sinc_half_width", "0"}}), config_error);
}

// The sinc filter must meet the used band to 1e-3 (channel/fractional_delay.h): half-widths
// below 8 are refused (W = 4 missed a fractional delay's response by 5e-2 inside |f| ≤ 0.3),
// and so is a used band wider than the FIR covers (500 of 512 subcarriers reach |f| = 0.49,
// where W = 16 misses by 0.9), naming the keys; the per-subcarrier filter has no such limit.
TEST(LinkConfigChannel, SincFilterMustCoverTheUsedBand) {
  const auto message = [](const std::map<std::string, std::string>& overrides) -> std::string {
    try {
      (void)parse(overrides);
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  };
  for (const char* w : {"1", "4", "7"}) {
    const std::string m = message({{"channel_filter", "sinc"}, {"sinc_half_width", w}});
    EXPECT_NE(m.find("sinc_half_width"), std::string::npos) << w << ": " << m;
  }
  const std::string wide = message({{"channel_filter", "sinc"}, {"used_subcarriers", "500"}});
  EXPECT_NE(wide.find("used_subcarriers"), std::string::npos) << wide;
  EXPECT_NE(wide.find("sinc_half_width"), std::string::npos) << wide;
  EXPECT_NE(message({{"channel_filter", "sinc"}, {"used_subcarriers", "500"}, {"sinc_half_width", "8"}}), "");
  EXPECT_EQ(message({{"channel_filter", "frequency"}, {"used_subcarriers", "500"}}), "");
  EXPECT_EQ(message({{"channel_filter", "sinc"}, {"used_subcarriers", "420"}}), "");  // |f| ≤ 0.41 at W = 16
  EXPECT_EQ(message({{"channel_filter", "sinc"}, {"sinc_half_width", "8"}}), "");     // default 300 of 512
}

TEST(LinkConfigChannel, EmulatorThreadsAreCheckedAndBecomeEmulatorOptions) {
  EXPECT_EQ(parse({}).emulator_options().threads, 1);
  EXPECT_EQ(parse({{"emulator_threads", "2"}}).emulator_options().threads, 2);
  EXPECT_EQ(parse({{"emulator_threads", "0"}}).emulator_options().threads, 0);
  EXPECT_THROW(parse({{"emulator_threads", "-1"}}), config_error);
  EXPECT_THROW(parse({{"emulator_threads", "100000"}}), config_error);
}

TEST(LinkConfigChannel, ChannelTimeSetsTheStatesPerFrame) {
  // Default numerology: 14 symbols per frame.
  EXPECT_EQ(parse({}).channel.steps_per_frame, 14);
  EXPECT_EQ(parse({{"channel_time", "frame"}}).channel.steps_per_frame, 1);
  EXPECT_EQ(parse({{"channel_time", "symbols:1"}}).channel.steps_per_frame, 14);
  EXPECT_EQ(parse({{"channel_time", "symbols:2"}}).channel.steps_per_frame, 7);
  EXPECT_EQ(parse({{"channel_time", "symbols:3"}}).channel.steps_per_frame, 5);
  EXPECT_EQ(parse({{"channel_time", "symbols:14"}}).channel.steps_per_frame, 1);
  for (const char* bad : {"symbols:0", "symbols:15", "symbols:", "symbols:x", "symbols:-2", "symbols:99999", "slot"})
    EXPECT_THROW(parse({{"channel_time", bad}}), config_error) << bad;
}

TEST(LinkConfigChannel, WarnsWhenTheChannelOutlastsTheCyclicPrefix) {
  // Default numerology: CP 36 samples at 7.68 MS/s (4.7 µs). TDL-A 100 ns: last tap 7.4
  // samples, no warning. TDL-C 1000 ns: last tap 66 samples.
  EXPECT_EQ(cyclic_prefix_warning(parse({{"channel", "tdl-a"}, {"delay_spread", "100e-9"}})), "");
  const auto freq = cyclic_prefix_warning(parse({{"channel", "tdl-c"}, {"delay_spread", "1000e-9"}}));
  EXPECT_NE(freq.find("not modelled"), std::string::npos) << freq;
  const auto sinc =
      cyclic_prefix_warning(parse({{"channel", "tdl-c"}, {"delay_spread", "1000e-9"}, {"channel_filter", "sinc"}}));
  EXPECT_NE(sinc.find("adds the inter-symbol interference"), std::string::npos) << sinc;
}

// Keys that are not plain names (a fuzz finding: yaml-cpp's conversion exception escaped the
// parser) and a profile file that does not exist are refused with amimo's errors.
TEST(LinkConfig, NonScalarKeysAndMissingProfileFilesAreClearErrors) {
  for (const char* text : {"? [antennas]\n: 16\n", "{users: 4}: 4\n", "? {a: b}\n: c\nusers: 4\n", "~: 4\n"}) {
    try {
      (void)parse_link_config(text, {});
      ADD_FAILURE() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("key"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)parse_link_config("solver: analog\nanalog: {profile: /nonexistent/amimo-profile.yaml}\n", {}),
               io_error);
}

/// The config_error message of parsing `yaml` with `overrides`, or "" when it parses.
std::string message(const std::string& yaml, const std::map<std::string, std::string>& overrides = {}) {
  try {
    (void)parse_link_config(yaml, overrides);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// A repeated key was read silently (the first copy), and an SNR of −1000 dB made every sample
// NaN; both are clear errors now, the SNR with the sweep's −50…100 dB range.
TEST(LinkConfig, RepeatedKeysAndOutOfRangeSnrAreClearErrors) {
  EXPECT_NE(message("snr_db: 20\nsnr_db: 0\n").find("'snr_db' given twice (line 2)"), std::string::npos);
  EXPECT_NE(message("solver: analog\nanalog: {iters: 1, iters: 2}\n").find("option 'iters' given twice"),
            std::string::npos);
  EXPECT_EQ(message("snr_db: 20\n", {{"snr_db", "10"}}), "");  // an override replaces, never repeats
  EXPECT_NE(message("snr_db: -1000\n").find("'snr_db' must lie in -50..100 dB (got -1000)"), std::string::npos);
  EXPECT_NE(message("snr_db: 100.5\n").find("must lie in -50..100 dB"), std::string::npos);
  EXPECT_NE(message("snr_db: .nan\n").find("must lie in -50..100 dB"), std::string::npos);
  EXPECT_EQ(message("snr_db: -50\n"), "");
  EXPECT_EQ(message("snr_db: 100\n"), "");
}

// Command-line values of text keys are the text as given: through YAML, "b #1" lost its
// comment-like tail and "c: d" became a mapping. Other keys are still read as YAML.
TEST(LinkConfig, TextOverridesAreTakenAsTheyStand) {
  EXPECT_EQ(parse({{"sink", "sigmf:rec/b #1"}}).sink, "sigmf:rec/b #1");
  EXPECT_EQ(parse({{"sink", "sigmf:rec/c: d"}}).sink, "sigmf:rec/c: d");
  const auto coded = parse({{"coding", "ldpc"}, {"payload", "pay #1.bin,[x]"}, {"users", "2"}});
  EXPECT_EQ(coded.coding.payloads, (std::vector<std::string>{"pay #1.bin", "[x]"}));
  EXPECT_DOUBLE_EQ(parse({{"delay_spread", "300e-9"}}).channel.delay_spread_s, 300e-9);
  EXPECT_EQ(parse({{"estimation_smoothing", "2"}}).rx.estimation_smoothing, 2);
  EXPECT_EQ(parse({{"cfo_hz", "[10, 20, 30, 40]"}}).cfo_hz.size(), 4U);
  EXPECT_EQ(parse({{"solver", "analog"}, {"analog", "{iters: 2}"}}).analog_options.at("iters"), "2");
}

// A second YAML document was dropped silently ("frames: 1\n---\nsnr_db: 500" ran), and a
// shape whose frame needs terabytes passed validation and died in an allocation.
TEST(LinkConfig, ExtraDocumentsAndOversizedFramesAreRefused) {
  EXPECT_NE(message("frames: 1\n---\nsnr_db: 500\n").find("more than one YAML document"), std::string::npos);
  EXPECT_NE(message("frames: 1\n---\n---\nsnr_db: 500\n").find("line 2"), std::string::npos);  // an empty one
  EXPECT_EQ(message("frames: 1\n...\n"), "");
  EXPECT_EQ(message("---\nframes: 1\n"), "");
  (void)message(std::string(",\0n\0|", 5));  // YAML::LoadAll looped for ever on it (a fuzz finding)
  const std::string huge = message("", {{"antennas", "1024"}, {"fft_size", "65536"}, {"used_subcarriers", "65534"},
                                        {"cp_length", "65535"}, {"data_symbols", "1024"}});
  EXPECT_NE(huge.find("more than the 2 GiB limit"), std::string::npos) << huge;
  EXPECT_NE(huge.find("1024 antennas × 134478846 samples per frame"), std::string::npos) << huge;
  EXPECT_EQ(message("", {{"preset", "128x8"}}), "");  // the largest preset is far below it
}

}  // namespace
}  // namespace amimo::pipeline
