// amimo-sweep with coding ldpc: configuration checks, the code on a known channel (an
// orthogonal AWGN channel: the per-stream SNR is N·Es/N0), the stop rules on block errors
// and the "every curve decodes the same blocks" property.
#include "sweep_test_support.h"

#include <amimo/core/error.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace amimo::sweep {
namespace {

using detect::detector_kind;
using testing::curve;
using testing::run_quietly;

sweep_config awgn_coded() {
  sweep_config c;
  c.antennas = 1;
  c.users = 1;
  c.channel = "awgn";
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detector_kind::zf};
  c.solvers = {{"digital-f64", {}}};
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.vectors_per_channel = 512;  // G = 1024 coded bits per block: TBS 528 (38.214)
  c.min_block_errors = 20;
  c.max_blocks = 120;
  c.max_bits = 100'000'000;
  c.threads = 1;
  c.seed = 3;
  return c;
}

TEST(SweepCoding, ConfigurationIsChecked) {
  sweep_config c = awgn_coded();
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(user_transport_block(c).tb_bits, 528);
  EXPECT_EQ(user_transport_block(c).g_bits, 1024);
  c.coding = "turbo";
  EXPECT_THROW(validate(c), config_error);
  c = awgn_coded();
  c.vectors_per_channel = 16;  // G = 32 bits cannot carry the smallest TB (24 + CRC16)
  try {
    validate(c);
    ADD_FAILURE() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("vectors_per_channel"), std::string::npos) << e.what();
  }
  c = awgn_coded();
  c.code_rate = 1.0;
  EXPECT_THROW(validate(c), config_error);
  c = awgn_coded();
  c.ldpc_alpha = 0.0;
  EXPECT_THROW(validate(c), config_error);
  c = awgn_coded();
  c.ldpc_iterations = 0;
  EXPECT_THROW(validate(c), config_error);
  c = awgn_coded();
  c.tb_bits = 1000;  // 1016 bits with CRC in 1024: effective rate 0.99 > 0.95
  EXPECT_THROW(validate(c), config_error);

  const sweep_config y = parse_sweep_yaml(
      "coding: ldpc\ncode_rate: 0.4\ntb_bits: 304\nldpc_iterations: 7\nldpc_alpha: 0.625\n"
      "min_block_errors: 9\nmax_blocks: 99\n");
  EXPECT_EQ(y.coding, "ldpc");
  EXPECT_DOUBLE_EQ(y.code_rate, 0.4);
  EXPECT_EQ(y.tb_bits, 304);
  EXPECT_EQ(y.ldpc_iterations, 7);
  EXPECT_DOUBLE_EQ(y.ldpc_alpha, 0.625);
  EXPECT_EQ(y.min_block_errors, 9U);
  EXPECT_EQ(y.max_blocks, 99U);
}

// QPSK on AWGN, R ≈ 1/2 (1 information bit per symbol). At Es/N0 = 5 dB the uncoded BER is
// Q(√(Es/N0)) ≈ 3.6% yet every block decodes; at −3 dB even a Gaussian input carries only
// log2(1 + 0.5) = 0.58 < 1 bit per symbol: every block fails, whatever the decoder.
TEST(SweepCoding, StatisticalCodeCorrectsAboveAndFailsBelowCapacity) {
  sweep_config c = awgn_coded();
  c.snr_db = {5.0, -3.0};
  c.max_blocks = 60;
  const sweep_result r = run_quietly(c);
  // No block error at max_blocks at 5 dB skips only higher SNRs: −3 dB, later in the list, runs.
  ASSERT_EQ(r.points.size(), 2U);
  EXPECT_TRUE(r.skipped_snr_db.empty());
  const curve_point& good = r.points[0].curves.at(0);
  EXPECT_EQ(r.points[0].stop_reason, "max_blocks");
  EXPECT_EQ(good.blocks, 60U);
  EXPECT_EQ(good.block_errors, 0U);
  const double q = 0.5 * std::erfc(std::sqrt(std::pow(10.0, 0.5)) / std::sqrt(2.0));
  EXPECT_NEAR(good.errors.ber(), q, 0.15 * q);  // uncoded BER: coded bits, hard decisions
  EXPECT_GT(good.code_blocks, 0U);

  const curve_point& bad = r.points[1].curves.at(0);
  EXPECT_EQ(r.points[1].snr_db, -3.0);
  EXPECT_EQ(r.points[1].stop_reason, "min_block_errors");
  EXPECT_EQ(bad.block_errors, bad.blocks);  // BLER = 1
  EXPECT_EQ(bad.undetected_block_errors, 0U);
  EXPECT_GE(bad.block_errors, c.min_block_errors);
  const metrics::interval ci = bad.bler_interval();
  EXPECT_DOUBLE_EQ(ci.high, 1.0);
  EXPECT_GT(ci.low, 0.8);
}

sweep_config rayleigh_coded() {
  sweep_config c;
  c.antennas = 8;
  c.users = 4;
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detector_kind::zf, detector_kind::mmse};
  c.solvers = {{"digital-f64", {}}, {"digital-f32", {}}};
  c.coding = "ldpc";
  c.code_rate = 0.5;
  c.vectors_per_channel = 128;  // G = 256
  c.snr_db = {0.0, 4.0};
  c.min_block_errors = 15;
  c.max_blocks = 400;
  c.seed = 11;
  return c;
}

TEST(SweepCoding, EveryCurveDecodesTheSameBlocksWhateverTheThreads) {
  sweep_config c = rayleigh_coded();
  c.threads = 1;
  const sweep_result one = run_quietly(c);
  c.threads = 2;
  const sweep_result two = run_quietly(c);
  c.threads = 1;
  c.solvers = {{"digital-f64", {}}};
  const sweep_result alone = run_quietly(c);
  ASSERT_EQ(one.points.size(), two.points.size());
  for (std::size_t p = 0; p < one.points.size(); ++p) {
    for (std::size_t i = 0; i < one.points[p].curves.size(); ++i) {
      EXPECT_EQ(one.points[p].curves[i].blocks, two.points[p].curves[i].blocks);
      EXPECT_EQ(one.points[p].curves[i].block_errors, two.points[p].curves[i].block_errors);
      EXPECT_EQ(one.points[p].curves[i].decoder_iterations, two.points[p].curves[i].decoder_iterations);
    }
    for (const detector_kind kind : {detector_kind::zf, detector_kind::mmse}) {
      const curve_point& f64 = curve(one.points[p], kind, "digital-f64");
      const curve_point& f32 = curve(one.points[p], kind, "digital-f32");
      EXPECT_EQ(f64.blocks, f32.blocks);  // same stop point: the same blocks were sent
      EXPECT_EQ(f64.blocks % static_cast<std::uint64_t>(c.users), 0U);
      // FP32 vs FP64 on well-conditioned 8×4 systems: nearly the same decisions, so nearly
      // the same decoded blocks.
      EXPECT_NEAR(static_cast<double>(f32.block_errors), static_cast<double>(f64.block_errors),
                  0.1 * static_cast<double>(f64.block_errors) + 2.0);
      if (p < alone.points.size() && one.points[p].stop_reason == alone.points[p].stop_reason) {
        const curve_point& a = curve(alone.points[p], kind, "digital-f64");
        if (a.blocks == f64.blocks) {
          EXPECT_EQ(a.block_errors, f64.block_errors);
        }
      }
    }
  }
  // MMSE is never worse than ZF at the coded level (same blocks, lower MSE) beyond noise.
  const curve_point& zf = curve(one.points[0], detector_kind::zf, "digital-f64");
  const curve_point& mmse = curve(one.points[0], detector_kind::mmse, "digital-f64");
  EXPECT_LE(mmse.bler(), zf.bler() + 0.05);
}

// "analog k iterations vs FP32" at the coded level: per-entry options make separate curves
// with their own labels, all decoding the same blocks.
TEST(SweepCoding, AnalogIterationCountsAreSeparateCurvesOnTheSameBlocks) {
  sweep_config c;
  c.antennas = 8;
  c.users = 4;
  c.modulation = modem::modulation::qam16;
  c.detectors = {detector_kind::zf};
  c.solvers = parse_solver_list("digital-f32,analog:iters=1,analog:iters=3");
  c.coding = "ldpc";
  c.code_rate = 0.75;
  c.vectors_per_channel = 128;
  c.snr_db = {20.0};
  c.min_block_errors = 1000;
  c.max_blocks = 200;
  c.threads = 1;
  c.seed = 4;
  EXPECT_EQ(solver_label(c, 1), "analog:iters=1");
  EXPECT_EQ(solver_name_of_label(solver_label(c, 1)), "analog");
  EXPECT_TRUE(reports_modelled_cost(c, solver_label(c, 2)));
  const sweep_result r = run_quietly(c);
  const curve_point& f32 = curve(r.points[0], detector_kind::zf, "digital-f32");
  const curve_point& one = curve(r.points[0], detector_kind::zf, "analog:iters=1");
  const curve_point& three = curve(r.points[0], detector_kind::zf, "analog:iters=3");
  EXPECT_EQ(one.blocks, f32.blocks);
  EXPECT_EQ(three.blocks, f32.blocks);
  // One analog pass leaves a residual far above FP32's: more block errors, never fewer.
  EXPECT_GT(one.block_errors, f32.block_errors);
  EXPECT_GE(one.block_errors, three.block_errors);
  EXPECT_DOUBLE_EQ(one.stats.mean_iterations(), 1.0);
  EXPECT_DOUBLE_EQ(three.stats.mean_iterations(), 3.0);

  c.solvers = parse_solver_list("analog:iters=2,analog:iters=2");
  EXPECT_THROW(validate(c), config_error);
}

}  // namespace
}  // namespace amimo::sweep
