#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/solver/solver_factory.h>

#include <Eigen/LU>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

namespace amimo::detect {
namespace {

struct fixture {
  std::unique_ptr<solver::linear_solver> solver = solver::create_linear_solver({"digital-f64", {}}, 8, 1);
};

TEST(LinearDetector, ZeroForcingInvertsANoiselessChannelExactlyInBothModes) {
  rng gen(1);
  cmat h(8, 4), s(4, 10);
  gen.fill_complex_normal(h);
  gen.fill_complex_normal(s);
  const cmat y = h * s;
  for (const detection_mode mode : {detection_mode::per_vector, detection_mode::per_block}) {
    fixture f;
    linear_detector det(detector_kind::zf, mode, *f.solver, 8, 4, 10);
    ASSERT_TRUE(det.set_channel(h, 0.1).resolved);
    cmat s_hat(4, 10);
    ASSERT_TRUE(det.detect(s_hat, y));
    EXPECT_LT((s_hat - s).norm(), 1e-9 * s.norm());
  }
}

TEST(LinearDetector, MmseMatchesDirectUnbiasedFormulaAndBothModesAgree) {
  rng gen(2);
  const double n0 = 0.3;
  cmat h(6, 3), y(6, 5);
  gen.fill_complex_normal(h);
  gen.fill_complex_normal(y);
  const cmat a = h.adjoint() * h + n0 * cmat::Identity(3, 3);
  const cmat a_inv = a.inverse();
  const cmat biased = a_inv * h.adjoint() * y;
  cmat vector_out(3, 5), block_out(3, 5);
  fixture f1, f2;
  linear_detector per_vector(detector_kind::mmse, detection_mode::per_vector, *f1.solver, 6, 3, 5);
  linear_detector per_block(detector_kind::mmse, detection_mode::per_block, *f2.solver, 6, 3, 5);
  per_vector.set_channel(h, n0);
  per_block.set_channel(h, n0);
  per_vector.detect(vector_out, y);
  per_block.detect(block_out, y);
  for (int k = 0; k < 3; ++k) {
    const double beta = 1.0 - n0 * a_inv(k, k).real();
    const double sinr = 1.0 / (n0 * a_inv(k, k).real()) - 1.0;
    EXPECT_NEAR(per_vector.sinr()[k], sinr, 1e-9 * sinr);
    EXPECT_NEAR(per_block.sinr()[k], sinr, 1e-9 * sinr);
    EXPECT_NEAR(per_vector.noise_variance()[k], 1.0 / sinr, 1e-9 / sinr);
    EXPECT_LT((vector_out.row(k) - biased.row(k) / beta).norm(), 1e-9 * biased.row(k).norm());
  }
  EXPECT_LT((vector_out - block_out).norm(), 1e-9 * vector_out.norm());
}

// Records how many right-hand sides each solve gets (digital-f64 underneath).
class rhs_recorder final : public solver::linear_solver {
 public:
  std::string_view name() const noexcept override { return "rhs-recorder"; }
  solver::matrix_status set_matrix(cmat_cref a, solver::matrix_structure structure) override {
    return inner_->set_matrix(a, structure);
  }
  solver::solve_status solve(cmat_ref x, cmat_cref b) override {
    columns.push_back(b.cols());
    return inner_->solve(x, b);
  }
  std::vector<Eigen::Index> columns;

 private:
  std::unique_ptr<solver::linear_solver> inner_ = solver::create_linear_solver({"digital-f64", {}}, 8, 1);
};

// Per-block mode solves for the filter with the fewer right-hand sides (DESIGN.md §2):
// A X = I (K columns) and W = X Hᴴ when K < N, A W = Hᴴ (N columns) otherwise; either way
// the output is the unbiased MMSE estimate of the closed form.
TEST(LinearDetector, PerBlockSolvesWithTheFewerRightHandSides) {
  rng gen(5);
  const double n0 = 0.2;
  for (const auto& [antennas, users] : {std::pair{8, 3}, std::pair{2, 3}, std::pair{4, 4}}) {
    cmat h(antennas, users), y(antennas, 6);
    gen.fill_complex_normal(h);
    gen.fill_complex_normal(y);
    const cmat a_inv = (h.adjoint() * h + n0 * cmat::Identity(users, users)).inverse();
    const cmat w = a_inv * h.adjoint();
    const cmat g = w * h;
    rhs_recorder rec;
    linear_detector det(detector_kind::mmse, detection_mode::per_block, rec, antennas, users, 6);
    ASSERT_TRUE(det.set_channel(h, n0).resolved);
    ASSERT_EQ(rec.columns.size(), 1U);
    EXPECT_EQ(rec.columns[0], std::min(antennas, users)) << antennas << "x" << users;
    cmat s_hat(users, 6);
    ASSERT_TRUE(det.detect(s_hat, y));
    const cmat want = w * y;
    for (int k = 0; k < users; ++k) {
      const cmat row = want.row(k) / g(k, k);
      EXPECT_LT((s_hat.row(k) - row).norm(), 1e-10 * row.norm()) << antennas << "x" << users << " user " << k;
    }
  }
}

TEST(LinearDetector, ZeroForcingMeanPostDetectionSnrIsSnrTimesNMinusKPlusOne) {
  // 1/[(HᴴH)⁻¹]_kk ~ Gamma(N−K+1, 1) in i.i.d. Rayleigh, so E[SINR] = (Es/N0)(N−K+1).
  fixture f;
  const int n = 8, k = 3;
  const double n0 = 0.5;
  linear_detector det(detector_kind::zf, detection_mode::per_block, *f.solver, n, k, 1);
  rng gen(3);
  cmat h(n, k);
  double sum = 0.0;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    gen.fill_complex_normal(h);
    det.set_channel(h, n0);
    sum += det.sinr()[0];
  }
  const double expected = (n - k + 1) / n0;
  // Standard error of the Gamma(6) mean over 20000 draws ≈ 0.12%.
  EXPECT_NEAR(sum / draws, expected, 0.01 * expected);
}

TEST(LinearDetector, SingularChannelGivesZeroSymbolsAndInfiniteNoiseVariance) {
  fixture f;
  linear_detector det(detector_kind::zf, detection_mode::per_vector, *f.solver, 4, 2, 3);
  cmat h = cmat::Zero(4, 2);
  h(0, 0) = 1.0;  // second user never reaches the array
  EXPECT_FALSE(det.set_channel(h, 0.1).resolved);
  cmat s_hat = cmat::Ones(2, 3);
  EXPECT_FALSE(det.detect(s_hat, cmat::Ones(4, 3)));
  EXPECT_EQ(s_hat, cmat::Zero(2, 3));
  EXPECT_EQ(det.sinr()[1], 0.0);
  EXPECT_TRUE(std::isinf(det.noise_variance()[1]));
}

TEST(LinearDetector, NanChannelIsUnresolvedNotPropagated) {
  fixture f;
  linear_detector det(detector_kind::mmse, detection_mode::per_block, *f.solver, 4, 2, 1);
  cmat h = cmat::Ones(4, 2);
  h(2, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(det.set_channel(h, 0.1).resolved);
  cmat s_hat(2, 1);
  det.detect(s_hat, cmat::Ones(4, 1));
  EXPECT_TRUE(s_hat.allFinite());
}

TEST(LinearDetector, ZeroForcingWithMoreUsersThanAntennasIsAConfigError) {
  fixture f;
  EXPECT_THROW(linear_detector(detector_kind::zf, detection_mode::per_vector, *f.solver, 2, 4, 1), config_error);
  EXPECT_NO_THROW(linear_detector(detector_kind::mmse, detection_mode::per_vector, *f.solver, 2, 4, 1));
}

TEST(LinearDetector, NamesParseAndUnknownNamesAreRejected) {
  EXPECT_EQ(parse_detector_kind("mmse"), detector_kind::mmse);
  EXPECT_EQ(parse_detection_mode("per-block"), detection_mode::per_block);
  EXPECT_THROW(parse_detector_kind("ml"), config_error);
  EXPECT_THROW(parse_detection_mode("batch"), config_error);
}


// The issue that motivated the quality rule: per-block MMSE at very high SNR used to derive
// SINR from 1 − w_k·h_k, which cancels; any f32 rounding made it ≤ 0 and the stream's LLRs 0.
TEST(LinearDetector, F32AtVeryHighSnrKeepsEveryStreamAndMatchesF64Sinr) {
  const int n = 16, k = 4;
  auto f64 = solver::create_linear_solver({"digital-f64", {}}, k, 1);
  auto f32 = solver::create_linear_solver({"digital-f32", {}}, k, 1);
  rng gen(21);
  cmat h(n, k);
  for (const detector_kind kind : {detector_kind::mmse, detector_kind::zf}) {
    for (const detection_mode mode : {detection_mode::per_block, detection_mode::per_vector}) {
      linear_detector d64(kind, mode, *f64, n, k, 4);
      linear_detector d32(kind, mode, *f32, n, k, 4);
      for (const double snr_db : {40.0, 60.0, 80.0}) {
        const double n0 = std::pow(10.0, -snr_db / 10.0);
        for (int draw = 0; draw < 50; ++draw) {
          gen.fill_complex_normal(h);
          ASSERT_EQ(d64.set_channel(h, n0).erased_streams, 0);
          ASSERT_EQ(d32.set_channel(h, n0).erased_streams, 0) << to_string(kind) << " " << to_string(mode);
          const cmat a_inv = (h.adjoint() * h + (kind == detector_kind::mmse ? n0 : 0.0) * cmat::Identity(k, k)).inverse();
          for (int u = 0; u < k; ++u) {
            const double d = a_inv(u, u).real();
            const double exact = kind == detector_kind::zf ? 1.0 / (n0 * d) : 1.0 / (n0 * d) - 1.0;
            EXPECT_NEAR(d64.sinr()[u], exact, 1e-6 * exact);
            // f32's solve error adds interference of order (1e-7)², far below N0 here.
            EXPECT_NEAR(d32.sinr()[u], exact, 0.05 * exact) << snr_db << " dB, stream " << u;
            EXPECT_GT(d32.sinr()[u], 0.0);
          }
        }
      }
    }
  }
}

// A deliberately inexact solver: the stated SINR must be the one the output really has.
// The analog backend with one refinement iteration leaves a large residual interference;
// the detector must measure it through G = W·H. Checked against the error variance of the
// equalised symbols over many noise and symbol draws (an independent, empirical figure).
TEST(LinearDetector, StatedSinrIsTheMeasuredErrorVarianceOfAnInexactFilter) {
  const int n = 16, k = 4, t = 64;
  auto analog = solver::create_linear_solver({"analog", {{"profile", "paper-board"}, {"iters", "1"}}}, k, 5);
  for (const detection_mode mode : {detection_mode::per_block, detection_mode::per_vector}) {
    for (const detector_kind kind : {detector_kind::mmse, detector_kind::zf}) {
      rng gen(31);
      cmat h(n, k), s(k, t), noise(n, t), s_hat(k, t);
      gen.fill_complex_normal(h);
      const double n0 = 1e-3;
      analog->reseed(7);
      linear_detector det(kind, mode, *analog, n, k, t);
      ASSERT_EQ(det.set_channel(h, n0).erased_streams, 0);
      std::vector<double> error(k, 0.0);
      std::vector<double> bias(k, 0.0);
      const int rounds = 300;
      for (int r = 0; r < rounds; ++r) {
        gen.fill_complex_normal(s);  // unit-energy Gaussian symbols
        gen.fill_complex_normal(noise, n0);
        const cmat y = h * s + noise;
        if (mode == detection_mode::per_vector) analog->reseed(7);
        ASSERT_TRUE(det.detect(s_hat, y));
        for (int u = 0; u < k; ++u) {
          error[u] += (s_hat.row(u) - s.row(u)).squaredNorm() / t;
          bias[u] += std::real((s_hat.row(u) * s.row(u).adjoint())(0, 0) / s.row(u).squaredNorm());
        }
      }
      for (int u = 0; u < k; ++u) {
        const double measured = error[u] / rounds;
        if (mode == detection_mode::per_block) {
          // The filter is fixed: the stated variance is exact in expectation (±5% over
          // 300×64 draws).
          EXPECT_NEAR(measured, det.noise_variance()[u], 0.05 * det.noise_variance()[u]) << to_string(kind) << " " << u;
        } else {
          // Per-vector solves are each a fresh inexact solve: same order as the filter's.
          EXPECT_LT(measured, 3.0 * det.noise_variance()[u]) << to_string(kind) << " " << u;
          EXPECT_GT(measured, det.noise_variance()[u] / 3.0) << to_string(kind) << " " << u;
        }
        EXPECT_NEAR(bias[u] / rounds, 1.0, 0.02);  // unbiased output
      }
    }
  }
}

// The batch detector's vectorised per-block rule against the scalar rule (bit for bit, on
// lanes the loop's vector body and its tail both reach) and against closed-form values: SINR
// |g|²/d, scale 1/g, the 150 dB cap at zero disturbance, erasure of unresolved, non-finite,
// overflowing and vanishing gains.
TEST(LinearDetector, ManyStreamsPerBlockQualityIsTheScalarRuleBitForBit) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<cf64> edge_gains = {{0.0, 0.0},   {1e-160, 0.0}, {1e-150, 1e-150}, {inf, 0.0},
                                        {0.0, nan},   {1e155, 1e155}, {1e-154, 1e-155}, {3.0, -4.0},
                                        {-1e-3, 2e-3}, {0.5, 0.0}};
  const std::vector<double> edge_disturbances = {0.0, 1e-300, inf, nan, 1.0, 1e300, -0.0, 2.5, -1.0};
  rng gen(17);
  const int count = 203;  // not a multiple of any vector width: the scalar tail runs too
  std::vector<double> g_re(count), g_im(count), disturbance(count), sinr(count), nv(count), sr(count), si(count);
  std::vector<unsigned char> resolved(count);
  for (int i = 0; i < count; ++i) {
    const auto u = static_cast<std::size_t>(i);
    // Edge cases in the first 90 lanes (the vector body) and in the last three (the tail:
    // capped at zero disturbance, a NaN disturbance, a subnormal |g|²).
    const bool edge = i < 90;
    cf64 g = edge ? edge_gains[u % edge_gains.size()]
                  : gen.complex_normal() * std::pow(10.0, 12.0 * (gen.uniform() - 0.5));
    double d = edge ? edge_disturbances[(u / edge_gains.size()) % edge_disturbances.size()]
                    : std::pow(10.0, 8.0 * (gen.uniform() - 0.5));
    if (i == count - 3) std::tie(g, d) = std::pair(cf64(3.0, -4.0), 0.0);
    if (i == count - 2) std::tie(g, d) = std::pair(cf64(0.5, 0.0), nan);
    if (i == count - 1) std::tie(g, d) = std::pair(cf64(1e-154, 1e-155), 1.0);
    g_re[u] = g.real();
    g_im[u] = g.imag();
    disturbance[u] = d;
    resolved[u] = gen.below(8) == 0 && i < count - 3 ? 0 : 1;
  }
  assess_streams_per_block(count, g_re.data(), g_im.data(), disturbance.data(), resolved.data(), sinr.data(),
                           nv.data(), sr.data(), si.data());
  const double max_sinr = 1e15;  // the 150 dB cap
  int kept = 0, capped = 0;
  for (int i = 0; i < count; ++i) {
    const auto u = static_cast<std::size_t>(i);
    const cf64 g(g_re[u], g_im[u]);
    const stream_quality q = assess_stream(detector_kind::mmse, detection_mode::per_block, 0.1, g, disturbance[u],
                                           0.0, resolved[u] != 0);
    SCOPED_TRACE(testing::Message() << "stream " << i << " g " << g << " d " << disturbance[u]);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(sinr[u]), std::bit_cast<std::uint64_t>(q.sinr));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(sr[u]), std::bit_cast<std::uint64_t>(q.scale.real()));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(si[u]), std::bit_cast<std::uint64_t>(q.scale.imag()));
    const double power = std::norm(g);
    const bool usable = resolved[u] != 0 && std::isfinite(power) && power >= std::numeric_limits<double>::min() &&
                        !std::isnan(disturbance[u]) && disturbance[u] >= 0.0 && power / disturbance[u] > 0.0;
    if (!usable) {
      EXPECT_EQ(sinr[u], 0.0);
      EXPECT_EQ(nv[u], linear_detector::kErased);
      EXPECT_EQ(sr[u], 0.0);
      EXPECT_EQ(si[u], 0.0);
      continue;
    }
    ++kept;
    const double expected = std::min(power / disturbance[u], max_sinr);
    capped += expected == max_sinr ? 1 : 0;
    EXPECT_NEAR(sinr[u], expected, 1e-15 * expected);  // a few roundings apart
    EXPECT_EQ(nv[u], 1.0 / sinr[u]);
    const cf64 inverse = 1.0 / g;
    EXPECT_NEAR(sr[u], inverse.real(), 1e-15 * std::abs(inverse));
    EXPECT_NEAR(si[u], inverse.imag(), 1e-15 * std::abs(inverse));
  }
  EXPECT_GT(kept, 100);
  EXPECT_GT(capped, 2);
}

TEST(LinearDetector, UnresolvedStreamsAreErasures) {
  fixture f;
  for (const detection_mode mode : {detection_mode::per_block, detection_mode::per_vector}) {
    linear_detector det(detector_kind::zf, mode, *f.solver, 4, 2, 3);
    cmat h = cmat::Zero(4, 2);
    h(0, 0) = 1.0;
    const channel_report report = det.set_channel(h, 0.1);
    EXPECT_FALSE(report.resolved);
    EXPECT_EQ(report.erased_streams, 2);
    EXPECT_TRUE(det.erased(0));
    EXPECT_TRUE(det.erased(1));
    rng gen(4);
    gen.fill_complex_normal(h);
    EXPECT_EQ(det.set_channel(h, 0.1).erased_streams, 0);
    EXPECT_FALSE(det.erased(0));
    EXPECT_GT(det.sinr()[0], 0.0);
  }
}

}  // namespace
}  // namespace amimo::detect

namespace amimo::detect {
namespace {

// A received vector with a non-finite sample refuses the call (detect() false, output 0):
// per block its vector's output would otherwise be NaN beside a finite SINR.
TEST(LinearDetector, NonFiniteReceivedSamplesRefuseTheCall) {
  rng gen(77);
  cmat h(8, 4);
  gen.fill_complex_normal(h);
  for (const detection_mode mode : {detection_mode::per_block, detection_mode::per_vector}) {
    auto solver = solver::create_linear_solver({"digital-f64", {}}, 4, 1);
    linear_detector det(detector_kind::mmse, mode, *solver, 8, 4, 3);
    ASSERT_TRUE(det.set_channel(h, 0.05).resolved);
    cmat y(8, 3);
    gen.fill_complex_normal(y);
    cmat s(4, 3);
    EXPECT_TRUE(det.detect(s, y));
    EXPECT_TRUE(s.allFinite());
    for (const cf64 bad : {cf64(std::numeric_limits<double>::quiet_NaN(), 0.0),
                           cf64(0.0, std::numeric_limits<double>::infinity())}) {
      cmat yb = y;
      yb(3, 1) = bad;
      s.setConstant(cf64(5.0, 5.0));
      EXPECT_FALSE(det.detect(s, yb)) << to_string(mode);
      EXPECT_EQ(s.norm(), 0.0) << to_string(mode);
    }
  }
}

}  // namespace
}  // namespace amimo::detect
