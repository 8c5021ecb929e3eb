#include "sweep_test_support.h"

#include <amimo/sweep/sweep_output.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <thread>

namespace amimo::sweep {
namespace {

using detect::detector_kind;
using testing::curve;
using testing::run_quietly;

sweep_config small_config() {
  sweep_config c;
  c.antennas = 4;
  c.users = 2;
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detector_kind::zf, detector_kind::mmse};
  c.solvers = {{"digital-f64", {}}, {"digital-f32", {}}};
  c.snr_db = {0.0, 6.0};
  c.min_errors = 300;
  c.max_bits = 200000;
  c.vectors_per_channel = 4;
  c.seed = 5;
  return c;
}

TEST(SweepRunner, ResultForASeedDoesNotDependOnTheThreadCount) {
  sweep_config c = small_config();
  c.threads = 1;
  const sweep_result one = run_quietly(c);
  for (const int threads : {2, 3}) {
    c.threads = threads;
    const sweep_result many = run_quietly(c);
    ASSERT_EQ(one.points.size(), many.points.size());
    for (std::size_t p = 0; p < one.points.size(); ++p) {
      ASSERT_EQ(one.points[p].curves.size(), many.points[p].curves.size());
      EXPECT_EQ(one.points[p].stop_reason, many.points[p].stop_reason);
      for (std::size_t i = 0; i < one.points[p].curves.size(); ++i) {
        const auto& a = one.points[p].curves[i];
        const auto& b = many.points[p].curves[i];
        EXPECT_EQ(a.errors.bits(), b.errors.bits());
        EXPECT_EQ(a.errors.bit_errors(), b.errors.bit_errors());
        EXPECT_EQ(a.errors.symbol_errors(), b.errors.symbol_errors());
        EXPECT_EQ(a.errors.frame_errors(), b.errors.frame_errors());
        EXPECT_EQ(a.stats.solves, b.stats.solves);
      }
    }
  }
}

TEST(SweepRunner, DifferentSeedsGiveDifferentRealisations) {
  sweep_config c = small_config();
  const sweep_result a = run_quietly(c);
  c.seed = 6;
  const sweep_result b = run_quietly(c);
  EXPECT_NE(a.points[0].curves[0].errors.bit_errors(), b.points[0].curves[0].errors.bit_errors());
}

TEST(SweepRunner, AddingASolverDoesNotChangeWhatTheOthersSee) {
  // Every curve sees the same channel, bits and noise: the f64 curve is identical
  // whether or not f32 runs beside it, and the two differ from each other only by precision.
  sweep_config c = small_config();
  c.solvers = {{"digital-f64", {}}};
  const sweep_result alone = run_quietly(c);
  c.solvers = {{"digital-f32", {}}, {"digital-f64", {}}};
  const sweep_result together = run_quietly(c);
  for (std::size_t p = 0; p < alone.points.size(); ++p) {
    for (const detector_kind kind : {detector_kind::zf, detector_kind::mmse}) {
      const auto& a = curve(alone.points[p], kind, "digital-f64");
      const auto& b = curve(together.points[p], kind, "digital-f64");
      const auto& f32 = curve(together.points[p], kind, "digital-f32");
      EXPECT_EQ(a.errors.bit_errors(), b.errors.bit_errors());
      EXPECT_EQ(a.errors.bits(), b.errors.bits());
      // Well-conditioned 4×2 systems: FP32 makes the same decisions almost everywhere.
      EXPECT_NEAR(static_cast<double>(f32.errors.bit_errors()), static_cast<double>(b.errors.bit_errors()),
                  0.01 * static_cast<double>(b.errors.bit_errors()) + 2.0);
    }
  }
}

TEST(SweepRunner, MmseIsNeverWorseThanZfBeyondNoise) {
  sweep_config c = small_config();
  c.antennas = 8;
  c.users = 6;
  c.modulation = modem::modulation::qam16;
  c.solvers = {{"digital-f64", {}}};
  c.snr_db = {0.0, 5.0, 10.0, 15.0};
  c.min_errors = 1000;
  c.max_bits = 400000;
  for (const point_result& p : run_quietly(c).points) {
    const auto& zf = curve(p, detector_kind::zf, "digital-f64");
    const auto& mmse = curve(p, detector_kind::mmse, "digital-f64");
    EXPECT_LE(mmse.errors.ber_interval().low, zf.errors.ber_interval().high) << "SNR " << p.snr_db;
    // Same realisations for both: MMSE should in fact be strictly better at low SNR.
    if (p.snr_db <= 5.0) {
      EXPECT_LT(mmse.errors.ber(), zf.errors.ber());
    }
  }
}

TEST(SweepRunner, Qam256AtHighSnrIsErrorFree) {
  sweep_config c = small_config();
  c.antennas = 16;
  c.users = 4;
  c.modulation = modem::modulation::qam256;
  c.snr_db = {45.0};
  c.max_bits = 200000;
  const sweep_result r = run_quietly(c);
  for (const curve_point& cp : r.points.at(0).curves) {
    EXPECT_EQ(cp.errors.bit_errors(), 0U) << detect::to_string(cp.detector) << "/" << cp.solver;
    EXPECT_GE(cp.errors.bits(), 200000U);
  }
  EXPECT_EQ(r.points[0].stop_reason, "max_bits");
}

TEST(SweepRunner, StopRulesMinErrorsMaxBitsAndSkippingErrorFreeCurves) {
  sweep_config c = small_config();
  c.snr_db = {-5.0, 40.0, 45.0};
  c.min_errors = 100;
  c.max_bits = 50000;
  const sweep_result r = run_quietly(c);
  ASSERT_EQ(r.points.size(), 2U);  // 45 dB skipped: every curve was error-free at 40 dB
  EXPECT_EQ(r.skipped_snr_db, std::vector<double>{45.0});
  EXPECT_EQ(r.points[0].stop_reason, "min_errors");
  for (const curve_point& cp : r.points[0].curves) EXPECT_GE(cp.errors.bit_errors(), 100U);
  EXPECT_EQ(r.points[1].stop_reason, "max_bits");
  for (const curve_point& cp : r.points[1].curves) {
    EXPECT_EQ(cp.errors.bits(), 50000U - 50000U % 16U + (50000U % 16U ? 16U : 0U));
  }
}

// Clumped errors (one channel per 1000 vectors, 1×1 Rayleigh: a deep fade fills a frame): a
// point stops on min_errors only once the errors sit in min_error_frames frames. On the count
// alone it stopped after a few bad frames (BER biased high, +39% over 200 seeds).
TEST(SweepRunner, MinErrorsNeedsTheErrorsSpreadOverFrames) {
  sweep_config c;
  c.antennas = 1;
  c.users = 1;
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detector_kind::zf};
  c.solvers = {{"digital-f64", {}}};
  c.snr_db = {20.0};
  c.vectors_per_channel = 1000;
  c.min_errors = 100;
  c.max_bits = 4'000'000;
  c.seed = 3;
  c.threads = 1;
  const sweep_result spread = run_quietly(c);
  ASSERT_EQ(spread.points.size(), 1U);
  EXPECT_EQ(spread.points[0].stop_reason, "min_errors");
  const metrics::error_counter& e = spread.points[0].curves[0].errors;
  EXPECT_GE(e.bit_errors(), 100U);
  EXPECT_GE(e.frame_errors(), 30U);
  // The count alone (min_error_frames 1) stops with the errors in fewer frames.
  c.min_error_frames = 1;
  const sweep_result count_only = run_quietly(c);
  EXPECT_EQ(count_only.points[0].stop_reason, "min_errors");
  EXPECT_LT(count_only.points[0].curves[0].errors.frame_errors(), 30U);
}

// An error-free curve skips only the SNRs above the one it was error-free at, whatever the
// list's order: "25,10,0" once ran 25 dB alone (every later point was switched off), exit 0.
TEST(SweepRunner, AnErrorFreeCurveSkipsOnlyHigherSnrsWhateverTheListOrder) {
  sweep_config c = small_config();
  c.snr_db = {45.0, -5.0, 40.0, 50.0, 0.0};
  c.min_errors = 100;
  c.max_bits = 50000;
  const sweep_result r = run_quietly(c);
  std::vector<double> run;
  for (const point_result& p : r.points) run.push_back(p.snr_db);
  EXPECT_EQ(run, (std::vector<double>{45.0, -5.0, 40.0, 0.0}));  // in list order
  EXPECT_EQ(r.skipped_snr_db, std::vector<double>{50.0});        // above 45 dB, said
  for (const point_result& p : r.points) {
    EXPECT_EQ(p.curves.size(), 4U) << p.snr_db;
    EXPECT_EQ(p.stop_reason, p.snr_db > 30.0 ? "max_bits" : "min_errors") << p.snr_db;
  }
  const nlohmann::json doc = nlohmann::json::parse(to_json(c, "test", r));
  EXPECT_EQ(doc["skipped_snr_db"], nlohmann::json::array({50.0}));
  EXPECT_EQ(doc["points"].size(), 4U * 4U);
}

// Eb/N0 is per information bit: a coded run includes the code rate A/G (QPSK, G = 1024 coded
// bits carrying A = 528 payload bits: Es/N0 0 dB is Eb/N0 −0.134 dB; it said −3.01 dB, per
// coded bit).
TEST(SweepRunner, EbN0IsPerInformationBitCodedAndUncoded) {
  sweep_config c;
  c.antennas = 8;
  c.users = 4;
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detector_kind::mmse};
  c.snr_db = {0.0};
  c.vectors_per_channel = 512;
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.max_blocks = 4;
  c.threads = 1;
  const fec::transport_block_config tb = user_transport_block(c);
  ASSERT_EQ(tb.tb_bits, 528);  // the 38.214 TBS for G = 1024, R = 0.5
  ASSERT_EQ(tb.g_bits, 1024);
  const sweep_result coded = run_quietly(c);
  ASSERT_EQ(coded.points.size(), 1U);
  EXPECT_NEAR(coded.points[0].ebn0_db, -10.0 * std::log10(2.0 * 528.0 / 1024.0), 1e-12);
  EXPECT_NEAR(coded.points[0].ebn0_db, -0.1336, 1e-4);
  const nlohmann::json doc = nlohmann::json::parse(to_json(c, "test", coded));
  EXPECT_NE(doc["units"]["ebn0_db"].get<std::string>().find("per information bit"), std::string::npos);
  EXPECT_NE(parameter_header(c, "test").find("Eb/N0: per information bit"), std::string::npos);

  c.coding = "none";
  c.snr_db = {0.0, 4.0};
  c.min_errors = 10;
  c.max_bits = 10000;
  const sweep_result uncoded = run_quietly(c);
  ASSERT_EQ(uncoded.points.size(), 2U);
  for (const point_result& p : uncoded.points) {
    EXPECT_NEAR(p.ebn0_db, p.snr_db - 10.0 * std::log10(2.0), 1e-12);
  }
}

TEST(SweepRunner, StopRequestEndsTheRunAndKeepsWhatWasMeasured) {
  sweep_config c = small_config();
  c.snr_db = {30.0, 31.0, 32.0};
  c.min_errors = 1000000;
  c.max_bits = 1'000'000'000;
  c.max_seconds = 30.0;
  sweep_observer observer;
  sweep_control control;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    control.stop_run = true;
  });
  const sweep_result r = run_sweep(c, observer, control);
  stopper.join();
  EXPECT_TRUE(r.interrupted);
  ASSERT_EQ(r.points.size(), 1U);
  EXPECT_EQ(r.points[0].stop_reason, "interrupted");
  EXPECT_GT(r.points[0].curves[0].errors.bits(), 0U);
}

}  // namespace
}  // namespace amimo::sweep
