// The LP-INV mapping as a named profile option: the paper's circuit (A0 = D0/L, profiles
// paper-board and projected) against amimo's feedback mapping (feedback-board,
// feedback-projected). The feedback profiles' outputs are pinned bit for bit by
// test_reference_outputs.cpp; here: the profiles say what they are, the older spelling still
// works, and the paper mapping behaves as the paper reports (about 3 bits per LP-INV step
// and 2–3 bits per refinement iteration on well-conditioned 16×16 systems).
#include "analog_test_support.h"

#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace amimo::analog {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// amimo-solve's "dominant" family: I + r·S/ρ(S), S symmetric Gaussian with zero diagonal,
// r = (cond−1)/(cond+1): spectrum in [1−r, 1+r], unit diagonal.
rmat dominant_with_condition(int n, double cond, rng& gen) {
  rmat g(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) g(i, j) = gen.normal();
  }
  rmat sym = 0.5 * (g + g.transpose());
  sym.diagonal().setZero();
  const double radius = Eigen::SelfAdjointEigenSolver<rmat>(sym).eigenvalues().cwiseAbs().maxCoeff();
  return rmat::Identity(n, n) + ((cond - 1.0) / (cond + 1.0) / radius) * sym;
}

TEST(LpMapping, BuiltInProfilesNameTheirMappingAndSourceEveryValue) {
  const std::vector<std::pair<std::string, std::string>> expected = {{"paper-board", "paper"},
                                                                     {"projected", "paper"},
                                                                     {"feedback-board", "feedback"},
                                                                     {"feedback-projected", "feedback"},
                                                                     {"ideal", "feedback"}};
  for (const auto& [name, mapping] : expected) {
    const analog_profile p = load_analog_profile(name);
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.circuit.lp_mapping, mapping) << name;
    EXPECT_NE(profile_label(p).find(name + ", LP-INV mapping " + mapping), std::string::npos) << profile_label(p);
    // Every value carries its source (or the word "assumed").
    for (const auto& [key, value] : describe(p)) {
      if (key == "name") continue;
      const auto it = p.sources.find(key);
      ASSERT_NE(it, p.sources.end()) << name << ": " << key << " has no source";
      EXPECT_FALSE(it->second.empty()) << name << ": " << key;
    }
  }
  // A feedback profile is its paper profile with the other mapping: every other value equal.
  for (const auto& [paper, feedback] : {std::pair{"paper-board", "feedback-board"}, std::pair{"projected", "feedback-projected"}}) {
    const auto a = describe(load_analog_profile(paper));
    const auto b = describe(load_analog_profile(feedback));
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].first, b[i].first);
      if (a[i].first == "name" || a[i].first == "circuit.lp_mapping") continue;
      EXPECT_EQ(a[i].second, b[i].second) << paper << " vs " << feedback << ": " << a[i].first;
    }
  }
}

TEST(LpMapping, OptionAndOlderSpellingSelectTheMapping) {
  analog_profile p = load_analog_profile("feedback-board");
  apply_analog_options(p, {{"mapping", "paper"}});
  EXPECT_EQ(p.circuit.lp_mapping, "paper");
  apply_analog_options(p, {{"lp-diagonal", "feedback"}});
  EXPECT_EQ(p.circuit.lp_mapping, "feedback");
  apply_analog_options(p, {{"lp-diagonal", "array"}});  // the older name of the paper mapping
  EXPECT_EQ(p.circuit.lp_mapping, "paper");
  EXPECT_THROW(apply_analog_options(p, {{"mapping", "array"}}), config_error);
  EXPECT_THROW(apply_analog_options(p, {{"lp-diagonal", "paper"}}), config_error);
  const analog_profile old = parse_analog_profile("circuit: {lp_diagonal: array}", "test");
  EXPECT_EQ(old.circuit.lp_mapping, "paper");
  const analog_profile now = parse_analog_profile("circuit: {lp_mapping: {value: paper, source: x}}", "test");
  EXPECT_EQ(now.circuit.lp_mapping, "paper");
  EXPECT_EQ(now.sources.at("circuit.lp_mapping"), "x");
  EXPECT_THROW(parse_analog_profile("circuit: {lp_mapping: diagonal}", "test"), config_error);
  EXPECT_EQ(parse_analog_profile("name: x", "test").circuit.lp_mapping, "feedback");  // a file that does not say
  EXPECT_EQ(profile_from_options({}).name, std::string(default_profile_name));
}

TEST(LpMapping, PaperMappingIsAThreeBitLpInvAndGainsTwoToThreeBitsPerIteration) {
  // paper-board on well-conditioned 16×16 systems (dominant, condition number 1.5): the
  // paper reports ~3 bits per iteration. Contraction per iteration = ρ(I − Ā·Ã0⁻¹), with
  // Ā − A0 the truncated lower slices (|entries| < 1/L = 2^−3): a 3-bit LP-INV.
  constexpr int n = 16;
  constexpr int iters = 6;
  analog_profile p = load_analog_profile("paper-board");
  apply_analog_options(p, {{"iters", std::to_string(iters)}});
  auto refine = create_analog_backend(p, analog_mode::refine, n, 3);
  auto lp = create_analog_backend(p, analog_mode::lp_only, n, 3);
  rng gen(101);
  std::vector<std::vector<double>> per_k(iters);
  std::vector<double> lp_errors;
  for (int trial = 0; trial < 24; ++trial) {
    const rmat a = dominant_with_condition(n, 1.5, gen);
    const rvec x = testing::random_vector(n, gen);
    refine->reseed(derive_seed(101, {static_cast<std::uint64_t>(trial)}));
    const auto t = testing::run(*refine, a, x);
    ASSERT_FALSE(t.status.fallback) << trial;
    ASSERT_EQ(t.errors.size(), static_cast<std::size_t>(iters));
    for (int k = 0; k < iters; ++k) per_k[static_cast<std::size_t>(k)].push_back(t.errors[static_cast<std::size_t>(k)]);
    lp->reseed(derive_seed(102, {static_cast<std::uint64_t>(trial)}));
    const auto one = testing::run(*lp, a, x);
    ASSERT_FALSE(one.status.fallback) << trial;
    lp_errors.push_back(one.final_error);
  }
  const double lp_bits = -std::log2(median(lp_errors));
  // Bits per iteration: least-squares slope of −log2(median error) over k = 1..iters.
  double sk = 0, sy = 0, skk = 0, sky = 0;
  for (int k = 1; k <= iters; ++k) {
    const double y = -std::log2(median(per_k[static_cast<std::size_t>(k - 1)]));
    sk += k;
    sy += y;
    skk += k * k;
    sky += k * y;
  }
  const double slope = (iters * sky - sk * sy) / (iters * skk - sk * sk);
  std::cout << "paper-board 16x16 cond 1.5: LP-INV alone " << lp_bits << " bits, " << slope
            << " bits per iteration (median error at k = " << iters << ": " << median(per_k.back()) << ")\n";
  EXPECT_GT(lp_bits, 2.0);
  EXPECT_LT(lp_bits, 4.0);
  EXPECT_GE(slope, 2.0);
  EXPECT_LE(slope, 3.0);

  // The feedback mapping on the same systems gains clearly more per iteration (it resolves
  // the small couplings at the array's own full scale) — the two are different circuits.
  apply_analog_options(p, {{"mapping", "feedback"}});
  auto feedback = create_analog_backend(p, analog_mode::refine, n, 3);
  rng again(101);
  std::vector<double> fb_k2;
  for (int trial = 0; trial < 24; ++trial) {
    const rmat a = dominant_with_condition(n, 1.5, again);
    const rvec x = testing::random_vector(n, again);
    feedback->reseed(derive_seed(101, {static_cast<std::uint64_t>(trial)}));
    fb_k2.push_back(testing::run(*feedback, a, x).errors[1]);
  }
  EXPECT_LT(median(fb_k2) * 8.0, median(per_k[1]));
}

}  // namespace
}  // namespace amimo::analog
