// amimo-bs's report (bs_report.h) on receiver statistics: per-frame solver costs over the
// frames actually detected, and figures that cannot be computed printed "-" / null.
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/bs_report.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::frame_buffer;
using test_support::randomise;

receiver_config analog_config() {
  auto cfg = test_support::two_chain_config(8, 4, modem::modulation::qpsk, 21);
  cfg.chains = {{detect::detector_kind::zf, {"analog", {{"profile", "paper-board"}, {"iters", "2"}}}, {}}};
  return cfg;
}

/// Streams frames [first, first + frames) of `em` into `rx`, one frame per push.
void stream(ofdm::uplink_emulator& em, receiver& rx, int frames, std::uint64_t first = 0) {
  const int len = rx.layout().layout().frame_length();
  frame_buffer buf(em.antennas(), len);
  for (int f = 0; f < frames; ++f) {
    em.generate(buf.pointers(), first + static_cast<std::uint64_t>(f));
    std::vector<const cf32*> p;
    for (auto& r : buf.rows) p.push_back(r.data());
    rx.push(p, static_cast<std::size_t>(len));
  }
}

// Frames the identifier cannot match (here: sent with another PRBS seed) are detected, so
// their solves are in the chain's totals: the per-frame cost must divide by every detected
// frame, and equal a run whose frames all match. (Dividing by identified frames gave twice
// it here, and 0 J/frame for a run with no identified frame.)
TEST(BsReport, PerFrameSolverCostCountsUnmatchedFramesToo) {
  const auto cfg = analog_config();
  fixed_channel ch(8, 4, {0});
  randomise(ch, 4, {1.0});
  const auto run = [&](int matched, int unmatched) {
    receiver rx(cfg);
    ofdm::uplink_emulator good(rx.layout(), ch, 30.0, cfg.seed);
    ofdm::uplink_emulator other(rx.layout(), ch, 30.0, cfg.seed + 1000);
    stream(good, rx, matched);
    stream(other, rx, unmatched, static_cast<std::uint64_t>(matched));
    rx.finish();
    return rx.stats();
  };
  const auto all_matched = run(8, 0);
  const auto mixed = run(4, 4);
  const auto none_matched = run(0, 8);
  // finish() decodes the last frame too (the end of the burst): 8 frames detected per run.
  ASSERT_EQ(all_matched.frames, 8U);
  ASSERT_EQ(all_matched.chains[0].detected_frames, 8U);
  ASSERT_EQ(mixed.frames, 4U);
  ASSERT_EQ(mixed.unmatched_frames, 4U);
  ASSERT_EQ(mixed.chains[0].detected_frames, 8U);
  ASSERT_EQ(none_matched.frames, 0U);
  ASSERT_EQ(none_matched.chains[0].detected_frames, 8U);

  const double reference = modelled_joules_per_frame(all_matched.chains[0]);
  ASSERT_GT(reference, 0.0);
  // The same channel every frame; only the noise differs, and with it the estimate.
  EXPECT_NEAR(modelled_joules_per_frame(mixed.chains[0]), reference, 0.02 * reference);
  EXPECT_NEAR(modelled_joules_per_frame(none_matched.chains[0]), reference, 0.02 * reference);
  const double seconds = modelled_seconds_per_frame(all_matched.chains[0]);
  ASSERT_GT(seconds, 0.0);
  EXPECT_NEAR(modelled_seconds_per_frame(mixed.chains[0]), seconds, 0.02 * seconds);
  EXPECT_NEAR(modelled_seconds_per_frame(none_matched.chains[0]), seconds, 0.02 * seconds);
  EXPECT_GT(solver_seconds_per_frame(none_matched.chains[0]), 0.0);
}

/// An analog chain's statistics with nothing detected, and the link config naming it.
struct empty_run {
  link_config config;
  receiver_stats stats;
  empty_run() {
    config.rx.users = 2;
    config.rx.chains = {{detect::detector_kind::zf, {"analog", {}}, {}}};
    chain_stats cs;
    cs.label = "zf/analog";
    cs.user_bits.assign(2, 0);
    cs.user_errors.assign(2, 0);
    cs.user_erased_bits.assign(2, 0);
    cs.user_error_energy.assign(2, 0.0);
    cs.user_symbols.assign(2, 0);
    stats.chains.push_back(cs);
  }
};

nlohmann::json written_json(const empty_run& e, const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::create_directories(dir);
  run_summary r;
  r.stop_reason = "frames";
  write_bs_report(dir.string(), e.config, e.stats, r);
  std::ifstream in(dir / "bs.json");
  return nlohmann::json::parse(in);
}

TEST(BsReport, NoDetectedFrameGivesNoPerFrameCost) {
  const empty_run e;
  EXPECT_TRUE(std::isnan(modelled_joules_per_frame(e.stats.chains[0])));
  const std::string table = summary_table(e.stats, e.config, run_summary{});
  EXPECT_EQ(table.find("nan"), std::string::npos) << table;
  const auto j = written_json(e, "bs_report_no_frames");
  const auto& chain = j["chains"][0];
  EXPECT_TRUE(chain["modelled_joules_per_frame"].is_null());
  EXPECT_TRUE(chain["modelled_seconds_per_frame"].is_null());
  EXPECT_EQ(chain["detected_frames"], 0);
}

// No frame found (`--frames 3 --snr -50`): nothing was scored, estimated or timed, so BER,
// EVM, LLR-sign BER, N0, Es/N0 and the latencies are "-" / null, never a 0 that reads as
// measured. The same report with scored bits prints its figures, a measured 0 included.
TEST(BsReport, NothingScoredPrintsDashAndNull) {
  const empty_run e;
  const std::string table = summary_table(e.stats, e.config, run_summary{});
  EXPECT_EQ(table.find("0.000e+00 ["), std::string::npos) << table;  // BER of no bits
  EXPECT_NE(table.find("N0 - from the guard bins; Es/N0 - dB"), std::string::npos) << table;
  EXPECT_NE(table.find("detect -/-"), std::string::npos) << table;
  EXPECT_EQ(table.find("0.000/0.000"), std::string::npos) << table;
  const auto j = written_json(e, "bs_report_nothing_scored");
  const auto& chain = j["chains"][0];
  EXPECT_TRUE(chain["ber"].is_null());
  EXPECT_TRUE(chain["llr_sign_ber"].is_null());
  EXPECT_TRUE(chain["users"][0]["ber"].is_null());
  EXPECT_TRUE(chain["users"][0]["evm"].is_null());
  EXPECT_TRUE(j["receiver"]["noise_variance"].is_null());
  EXPECT_TRUE(j["receiver"]["snr_estimate_db"].is_null());
  EXPECT_TRUE(j["latency"]["detect"]["p50"].is_null());
  EXPECT_TRUE(j["latency"]["detect"]["p99"].is_null());

  empty_run scored;
  auto& cs = scored.stats.chains[0];
  cs.bits = 1000;
  cs.user_bits = {500, 500};
  cs.user_symbols = {250, 250};
  cs.user_error_energy = {2.5, 2.5};
  scored.stats.frames = 1;
  scored.stats.noise_variance = 0.01;
  scored.stats.snr_estimate = 100.0;
  scored.stats.latency[static_cast<std::size_t>(stage::detect)].add(0.002);
  const std::string measured = summary_table(scored.stats, scored.config, run_summary{});
  EXPECT_NE(measured.find("0.000e+00 ["), std::string::npos) << measured;
  EXPECT_NE(measured.find("Es/N0 20.00 dB"), std::string::npos) << measured;
  EXPECT_NE(measured.find("detect 2.000/2.000"), std::string::npos) << measured;
  const auto k = written_json(scored, "bs_report_scored");
  EXPECT_EQ(k["chains"][0]["ber"], 0.0);
  EXPECT_NEAR(k["chains"][0]["users"][0]["evm"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(k["receiver"]["snr_estimate_db"].get<double>(), 20.0, 1e-12);
  EXPECT_NEAR(k["latency"]["detect"]["p50"].get<double>(), 0.002, 1e-12);
}

// Nothing received or processed (no frame found, a source that sent nothing): the
// throughput and real-time factor are "-" in the table and the status line and null in
// bs.json; they printed 0.00, which reads as measured. With samples processed they are
// numbers in all three.
TEST(BsReport, NothingProcessedPrintsDashForThroughputAndRealTimeFactor) {
  const empty_run e;
  run_summary r;
  r.wall_seconds = 1.0;
  const std::string table = summary_table(e.stats, e.config, r);
  EXPECT_NE(table.find("throughput: - Msamples/s per antenna over the run, receiver real-time factor - ("),
            std::string::npos)
      << table;
  EXPECT_NE(status_line(e.stats, e.config, 1.0).find("| - Msps/antenna | RTF -"), std::string::npos)
      << status_line(e.stats, e.config, 1.0);
  const auto j = written_json(e, "bs_report_nothing_processed");
  EXPECT_TRUE(j["receiver"]["real_time_factor"].is_null()) << j["receiver"]["real_time_factor"];

  empty_run processed;
  processed.stats.samples = 2'000'000;
  processed.stats.busy_seconds = 0.5;
  const double rtf = real_time_factor(processed.stats, processed.config);
  ASSERT_TRUE(std::isfinite(rtf));
  ASSERT_GT(rtf, 0.0);
  const std::string measured = summary_table(processed.stats, processed.config, r);
  EXPECT_NE(measured.find(fmt::format("throughput: 2.00 Msamples/s per antenna over the run, receiver real-time "
                                      "factor {:.2f} (",
                                      rtf)),
            std::string::npos)
      << measured;
  EXPECT_NE(status_line(processed.stats, processed.config, 1.0).find(fmt::format("| 2.00 Msps/antenna | RTF {:.2f}", rtf)),
            std::string::npos);
  const auto k = written_json(processed, "bs_report_processed");
  EXPECT_NEAR(k["receiver"]["real_time_factor"].get<double>(), rtf, 1e-12);
}

/// bs.csv as rows of column name → field (the fields hold no commas or quotes).
std::vector<std::map<std::string, std::string>> written_csv(const empty_run& e, const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::create_directories(dir);
  run_summary r;
  r.stop_reason = "frames";
  write_bs_report(dir.string(), e.config, e.stats, r);
  std::ifstream in(dir / "bs.csv");
  const auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t comma = line.find(','); comma != std::string::npos; comma = line.find(',', start)) {
      fields.push_back(line.substr(start, comma - start));
      start = comma + 1;
    }
    fields.push_back(line.substr(start));
    return fields;
  };
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = split(line);
    EXPECT_EQ(fields.size(), header.size()) << line;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// A user's bs.csv row repeated the chain's solver totals (solves, fallbacks, solver time,
// modelled J and s per frame) as if they were that user's. They are the chain's (a
// subcarrier's solve serves every user): the `all` row carries them, a user's row leaves
// them empty and carries its own bits, errors and erased bits.
TEST(BsReport, UserRowsOfTheCsvCarryUserFiguresNotTheChainsSolverTotals) {
  empty_run e;
  auto& cs = e.stats.chains[0];
  cs.frames = 2;
  cs.detected_frames = 2;
  cs.bits = 1000;
  cs.bit_errors = 3;
  cs.user_bits = {600, 400};
  cs.user_errors = {1, 2};
  cs.user_erased_bits = {0, 8};
  cs.erased_bits = 8;
  cs.solver.solves = 600;
  cs.solver.fallbacks = 4;
  cs.solver.measured_seconds = 0.25;
  cs.unresolved_subcarriers = 5;
  const auto rows = written_csv(e, "bs_report_user_rows");
  ASSERT_EQ(rows.size(), 3U);
  const auto& all = rows[0];
  EXPECT_EQ(all.at("user"), "all");
  EXPECT_EQ(all.at("bits"), "1000");
  EXPECT_EQ(all.at("solves"), "600");
  EXPECT_EQ(all.at("fallbacks"), "4");
  EXPECT_EQ(all.at("unresolved_subcarriers"), "5");
  EXPECT_FALSE(all.at("solver_measured_seconds").empty());
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& user = rows[k + 1];
    EXPECT_EQ(user.at("user"), std::to_string(k));
    EXPECT_EQ(user.at("frames"), "2");
    EXPECT_EQ(user.at("bits"), std::to_string(cs.user_bits[k]));
    EXPECT_EQ(user.at("bit_errors"), std::to_string(cs.user_errors[k]));
    EXPECT_EQ(user.at("erased_bits"), std::to_string(cs.user_erased_bits[k]));
    for (const char* column : {"solves", "fallbacks", "unresolved_subcarriers", "solver_measured_seconds",
                               "modelled_joules_per_frame", "modelled_seconds_per_frame"}) {
      EXPECT_EQ(user.at(column), "") << "user " << k << " column " << column;
    }
  }
}

// The calibration ratio needs errors to judge: with no sign error observed and under one
// claimed, the table prints '-' and bs.json must say null too (it wrote 0.0). With errors it
// is the ratio in both.
TEST(BsReport, LlrCalibrationNotJudgeableIsNullInJson) {
  empty_run e;
  auto& cs = e.stats.chains[0];
  const std::vector<float> confident(200, 12.0F);  // claims 200 / (1 + e^12) ≈ 0.001 errors
  const std::vector<bit> zeros(200, 0);
  cs.llr.add(confident, zeros);
  cs.bits = 200;
  ASSERT_EQ(cs.llr.sign_errors(), 0U);
  ASSERT_LT(cs.llr.claimed_errors(), 1.0);
  const auto j = written_json(e, "bs_report_llr_unjudged");
  EXPECT_TRUE(j["chains"][0]["llr_calibration"].is_null()) << j["chains"][0]["llr_calibration"];

  empty_run judged;
  auto& js = judged.stats.chains[0];
  std::vector<float> llrs(200, 0.0F);  // |L| = 0 claims an error with probability 1/2
  std::vector<bit> ref(200, 0);
  for (std::size_t i = 0; i < 100; ++i) llrs[i] = -1e-3F;  // 100 wrong signs of |L| ≈ 0
  for (std::size_t i = 100; i < 200; ++i) llrs[i] = 1e-3F;
  js.llr.add(llrs, ref);
  js.bits = 200;
  const double expected = js.llr.calibration_ratio();
  ASSERT_TRUE(std::isfinite(expected));
  const auto k = written_json(judged, "bs_report_llr_judged");
  EXPECT_DOUBLE_EQ(k["chains"][0]["llr_calibration"].get<double>(), expected);
  EXPECT_NE(summary_table(judged.stats, judged.config, run_summary{}).find(fmt::format(" {:.2f} ", expected)),
            std::string::npos);
}

}  // namespace
}  // namespace amimo::pipeline
