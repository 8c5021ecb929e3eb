// Tests of the frequency-selective channel models: the 3GPP tables against values copied
// from TR 38.901 V16 Tables 7.7.2-1/2/3, and the statistics of the generated channels
// (power, power-delay profile, frequency correlation, Doppler, spatial correlation) against
// closed forms computed here, independently of the model code. Monte Carlo tolerances are
// several standard errors wide and every test is seeded.

#include <amimo/core/error.h>
#include <channel_models/flat_models.h>
#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <limits>
#include <map>
#include <numbers>
#include <vector>

namespace amimo::channel_models {
namespace {

using channel::selective_channel_model;

// The PDP the model should use, computed here from the table: round every delay to the
// sample grid, merge coincident taps, normalise the total power to 1.
std::map<int, double> expected_pdp(const std::string& model, double ds, double fs) {
  const tdl_table table = tdl_profile(model);
  std::map<int, double> pdp;
  double total = 0.0;
  for (std::size_t i = 0; i < table.normalised_delays.size(); ++i) {
    const double p = std::pow(10.0, table.powers_db[i] / 10.0);
    pdp[static_cast<int>(std::lround(table.normalised_delays[i] * ds * fs))] += p;
    total += p;
  }
  for (auto& entry : pdp) entry.second /= total;
  return pdp;
}

// Doppler for 1 ms frames at the first zero of J0 (2π f_D T = 2.4048...): ρ = 0, so every
// next_frame() is an independent draw and Monte Carlo tests need not rebuild the model.
constexpr double independent_doppler_hz = 2.404825557695773 / (2.0 * std::numbers::pi * 1e-3);

TEST(TdlModels, TablesMatchTr38901) {
  const tdl_table a = tdl_profile("tdl-a");
  const tdl_table b = tdl_profile("tdl-b");
  const tdl_table c = tdl_profile("tdl-c");
  ASSERT_EQ(a.normalised_delays.size(), 23U);
  ASSERT_EQ(b.normalised_delays.size(), 23U);
  ASSERT_EQ(c.normalised_delays.size(), 24U);
  ASSERT_EQ(a.powers_db.size(), 23U);
  ASSERT_EQ(b.powers_db.size(), 23U);
  ASSERT_EQ(c.powers_db.size(), 24U);
  // First and last taps, and the strongest (0 dB) tap, as printed in the standard.
  EXPECT_EQ(a.normalised_delays[0], 0.0);
  EXPECT_EQ(a.powers_db[0], -13.4);
  EXPECT_EQ(a.normalised_delays[1], 0.3819);
  EXPECT_EQ(a.powers_db[1], 0.0);
  EXPECT_EQ(a.normalised_delays[22], 9.6586);
  EXPECT_EQ(a.powers_db[22], -29.7);
  EXPECT_EQ(b.normalised_delays[0], 0.0);
  EXPECT_EQ(b.powers_db[0], 0.0);
  EXPECT_EQ(b.normalised_delays[22], 4.7834);
  EXPECT_EQ(b.powers_db[22], -11.3);
  EXPECT_EQ(c.normalised_delays[0], 0.0);
  EXPECT_EQ(c.powers_db[0], -4.4);
  EXPECT_EQ(c.normalised_delays[5], 0.6366);
  EXPECT_EQ(c.powers_db[5], 0.0);
  EXPECT_EQ(c.normalised_delays[23], 8.6523);
  EXPECT_EQ(c.powers_db[23], -22.8);
  // The tables are scaled to unit RMS delay spread (38.901 §7.7.3); a typo in any
  // sizeable tap moves this by far more than the tables' own rounding (< 1e-4).
  for (const tdl_table& t : {a, b, c}) {
    double p_sum = 0.0, m1 = 0.0, m2 = 0.0;
    for (std::size_t i = 0; i < t.powers_db.size(); ++i) {
      const double p = std::pow(10.0, t.powers_db[i] / 10.0);
      p_sum += p;
      m1 += p * t.normalised_delays[i];
      m2 += p * t.normalised_delays[i] * t.normalised_delays[i];
    }
    m1 /= p_sum;
    m2 /= p_sum;
    EXPECT_NEAR(std::sqrt(m2 - m1 * m1), 1.0, 2e-4);
  }
  EXPECT_THROW(tdl_profile("tdl-d"), config_error);
}

TEST(TdlModels, QuantisedDelaysMergeOnTheSampleGrid) {
  // TDL-A at DS = 100 ns, 7.68 MS/s: normalised delay × 0.768, rounded.
  selective_channel_config config;
  const auto model = create_selective_channel_model(config);
  const std::vector<int> delays(model->tap_delays().begin(), model->tap_delays().end());
  EXPECT_EQ(delays, (std::vector<int>{0, 1, 2, 3, 4, 7}));
  const auto pdp = quantised_power_delay_profile(config);
  EXPECT_EQ(pdp.delays, delays);
  // Last tap alone on sample 7: its share of the total linear power.
  double total = 0.0;
  for (const double p_db : tdl_profile("tdl-a").powers_db) total += std::pow(10.0, p_db / 10.0);
  EXPECT_NEAR(pdp.powers.back(), std::pow(10.0, -2.97) / total, 1e-15);
  const auto expected = expected_pdp("tdl-a", 100e-9, 7.68e6);
  ASSERT_EQ(expected.size(), pdp.powers.size());
  std::size_t i = 0;
  for (const auto& [d, p] : expected) {
    EXPECT_EQ(pdp.delays[i], d);
    EXPECT_NEAR(pdp.powers[i], p, 1e-14);
    ++i;
  }
  // A fine grid keeps every TDL-C tap apart except those closer than half a sample.
  const auto fine = create_selective_channel_model({"tdl-c", 4, 2, 1e-6, 122.88e6});
  EXPECT_EQ(fine->tap_delays().size(), expected_pdp("tdl-c", 1e-6, 122.88e6).size());
  EXPECT_EQ(fine->tap_delays().back(), 1063);  // 8.6523 × 122.88 = 1063.2
}

TEST(TdlModels, MeasuredPowerDelayProfileMatchesTheTable) {
  for (const char* name : {"tdl-a", "tdl-b", "tdl-c"}) {
    SCOPED_TRACE(name);
    const selective_channel_config config{name, 8, 4, 300e-9, 30.72e6, independent_doppler_hz, 1e-3};
    auto model = create_selective_channel_model(config);
    const auto expected = expected_pdp(name, 300e-9, 30.72e6);
    const std::vector<int> taps(model->tap_delays().begin(), model->tap_delays().end());
    ASSERT_EQ(taps.size(), expected.size());
    std::vector<double> measured(taps.size(), 0.0);
    rng gen(11);
    const int draws = 800;
    for (int i = 0; i < draws; ++i) {
      model->next_frame(gen);
      for (std::size_t l = 0; l < taps.size(); ++l) {
        measured[l] += model->tap_gain(static_cast<int>(l)).squaredNorm();
      }
    }
    std::size_t l = 0;
    for (const auto& [d, p] : expected) {
      EXPECT_EQ(taps[l], d);
      // Mean of 800 × 32 unit-exponential entries: relative standard error 0.6 %.
      EXPECT_NEAR(measured[l] / (draws * 32.0), p, 0.03 * p + 1e-4);
      ++l;
    }
  }
}

TEST(TdlModels, FrequencyResponseIsTheDftOfTheTaps) {
  auto model = create_selective_channel_model({"tdl-c", 3, 2, 300e-9, 30.72e6});
  rng gen(5);
  model->next_frame(gen);
  const int n = 256;
  // Impulse response on the sample grid, then a direct DFT of it.
  std::vector<cmat> impulse(static_cast<std::size_t>(n), cmat::Zero(3, 2));
  for (std::size_t l = 0; l < model->tap_delays().size(); ++l) {
    impulse[static_cast<std::size_t>(model->tap_delays()[l])] += model->tap_gain(static_cast<int>(l));
  }
  cmat h(3, 2);
  for (const int f : {-128, -37, -1, 0, 1, 5, 127}) {
    cmat expected = cmat::Zero(3, 2);
    for (int t = 0; t < n; ++t) {
      expected += std::polar(1.0, -2.0 * std::numbers::pi * f * t / n) * impulse[static_cast<std::size_t>(t)];
    }
    model->frequency_response(h, f, n);
    EXPECT_LT((h - expected).cwiseAbs().maxCoeff(), 1e-10) << "f = " << f;
  }
  cmat h_alias(3, 2);
  model->frequency_response(h, 7, n);
  model->frequency_response(h_alias, 7 - n, n);  // periodic in f with period n
  EXPECT_LT((h - h_alias).cwiseAbs().maxCoeff(), 1e-12);
  cmat wrong(2, 2);
  EXPECT_THROW(model->frequency_response(wrong, 0, n), std::invalid_argument);
  EXPECT_THROW(model->frequency_response(h, 0, 0), std::invalid_argument);
}

TEST(TdlModels, FrequencyResponseHasUnitPowerAndTheClosedFormCorrelation) {
  // E[H_ij(f) H_ij*(f + Δ)] = Σ_l p_l exp(+j 2π Δ d_l / n) for the quantised PDP.
  const int n = 512, antennas = 8, users = 4;
  const selective_channel_config config{"tdl-c", antennas, users, 300e-9, 30.72e6, 300.0, 1e-3};
  auto model = create_selective_channel_model(config);
  const auto expected = expected_pdp("tdl-c", 300e-9, 30.72e6);
  const std::vector<int> lags{0, 1, 3, 8, 20, 60};
  std::vector<cf64> measured(lags.size(), 0.0);
  cmat h0(antennas, users), h1(antennas, users);
  rng gen(21);
  const int frames = 1000;
  for (int i = 0; i < frames; ++i) {
    // Doppler 300 Hz × 1 ms gives ρ = J0(0.6π) ≈ 0.29 between frames, and a random
    // subcarrier per frame: consecutive samples are nearly independent.
    model->next_frame(gen);
    const int f = static_cast<int>(gen.below(n)) - n / 2;
    model->frequency_response(h0, f, n);
    for (std::size_t k = 0; k < lags.size(); ++k) {
      model->frequency_response(h1, f + lags[k], n);
      measured[k] += (h0.array() * h1.array().conjugate()).sum();
    }
  }
  for (std::size_t k = 0; k < lags.size(); ++k) {
    cf64 closed = 0.0;
    for (const auto& [d, p] : expected) closed += p * std::polar(1.0, 2.0 * std::numbers::pi * lags[k] * d / n);
    const cf64 mean = measured[k] / static_cast<double>(frames * antennas * users);
    EXPECT_LT(std::abs(mean - closed), 0.03) << "lag " << lags[k] << ": " << mean << " vs " << closed;
  }
  EXPECT_NEAR(measured[0].real() / (frames * antennas * users), 1.0, 0.03);
  // The closed form is not trivial at these lags (the test would catch a wrong sign or scale).
  cf64 at20 = 0.0;
  for (const auto& [d, p] : expected) at20 += p * std::polar(1.0, 2.0 * std::numbers::pi * 20 * d / n);
  EXPECT_LT(std::abs(at20), 0.8);
}

TEST(TdlModels, PowerIsNormalisedOnEverySubcarrier) {
  for (const char* name : {"tdl-a", "tdl-b", "flat"}) {
    SCOPED_TRACE(name);
    const int n = 128;
    double power = 0.0;
    int count = 0;
    cmat h(4, 4);
    rng gen(31);
    auto model = create_selective_channel_model({name, 4, 4, 200e-9, 15.36e6, independent_doppler_hz, 1e-3});
    for (int i = 0; i < 600; ++i) {
      model->next_frame(gen);
      for (const int f : {-64, -20, 0, 33}) {
        model->frequency_response(h, f, n);
        power += h.squaredNorm();
        count += 16;
      }
    }
    // 600 independent draws × 16 entries, a few subcarriers each: standard error ≈ 1.3 %.
    EXPECT_NEAR(power / count, 1.0, 0.04);
  }
}

TEST(TdlModels, DopplerFrameCorrelationIsBesselJ0) {
  const double fd = 200.0, t = 1e-3;
  const double rho = std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * fd * t);
  EXPECT_NEAR(std::cyl_bessel_j(0.0, 1.0), 0.7651976865579666, 1e-12);  // tabulated J0(1)
  EXPECT_NEAR(rho, 0.6425, 1e-3);                                       // J0(0.4π)
  auto model = create_selective_channel_model({"tdl-b", 8, 4, 100e-9, 30.72e6, fd, t});
  const std::size_t taps = model->tap_delays().size();
  rng gen(41);
  model->next_frame(gen);
  std::vector<cmat> prev(taps), prev2(taps);
  for (std::size_t l = 0; l < taps; ++l) prev[l] = prev2[l] = model->tap_gain(static_cast<int>(l));
  cf64 lag1 = 0.0, lag2 = 0.0;
  double power = 0.0;
  const int frames = 600;
  for (int i = 0; i < frames; ++i) {
    model->next_frame(gen);
    for (std::size_t l = 0; l < taps; ++l) {
      const cmat_cref g = model->tap_gain(static_cast<int>(l));
      lag1 += (g.array() * prev[l].array().conjugate()).sum();
      if (i > 0) lag2 += (g.array() * prev2[l].array().conjugate()).sum();
      power += g.squaredNorm();
      prev2[l] = prev[l];
      prev[l] = g;
    }
  }
  // Normalised by the measured power: correlation ρ at lag 1, ρ² at lag 2 (Gauss–Markov).
  EXPECT_NEAR(lag1.real() / power, rho, 0.03);
  EXPECT_NEAR(lag1.imag() / power, 0.0, 0.03);
  EXPECT_NEAR(lag2.real() / power, rho * rho, 0.03);
  EXPECT_NEAR(power / (frames * 32.0), 1.0, 0.06);  // stationary: unit power per entry
}

TEST(TdlModels, ZeroDopplerGivesIdenticalFrames) {
  auto model = create_selective_channel_model({"tdl-a", 4, 2, 100e-9, 7.68e6, 0.0, 1e-3});
  rng gen(51);
  EXPECT_EQ(model->tap_gain(0).cwiseAbs().maxCoeff(), 0.0);  // nothing drawn yet
  model->next_frame(gen);
  std::vector<cmat> first;
  for (std::size_t l = 0; l < model->tap_delays().size(); ++l) first.emplace_back(model->tap_gain(static_cast<int>(l)));
  EXPECT_GT(first[0].cwiseAbs().maxCoeff(), 0.0);
  for (int i = 0; i < 5; ++i) model->next_frame(gen);
  for (std::size_t l = 0; l < first.size(); ++l) EXPECT_EQ(model->tap_gain(static_cast<int>(l)), first[l]);
}

TEST(TdlModels, SpatialCorrelationFollowsTheKroneckerModel) {
  const double rho_bs = 0.7, rho_ue = 0.5;
  const int antennas = 6, users = 3, n = 64;
  const selective_channel_config config{"tdl-a", antennas, users, 100e-9, 30.72e6, independent_doppler_hz,
                                        1e-3,    rho_bs,   rho_ue};
  auto model = create_selective_channel_model(config);
  cmat bs = cmat::Zero(antennas, antennas), ue = cmat::Zero(users, users), h(antennas, users);
  rng gen(61);
  const int draws = 2500;
  for (int i = 0; i < draws; ++i) {
    model->next_frame(gen);
    model->frequency_response(h, static_cast<int>(gen.below(n)) - n / 2, n);
    bs += h * h.adjoint();                // E[H Hᴴ] = tr(R_ue) R_bs = K R_bs
    ue += (h.adjoint() * h).transpose();  // E[(HᴴH)ᵀ] = N R_ue
  }
  bs /= static_cast<double>(draws * users);
  ue /= static_cast<double>(draws * antennas);
  const rmat r_bs = exponential_correlation(antennas, rho_bs), r_ue = exponential_correlation(users, rho_ue);
  EXPECT_LT((bs - r_bs.cast<cf64>()).cwiseAbs().maxCoeff(), 0.06);
  EXPECT_LT((ue - r_ue.cast<cf64>()).cwiseAbs().maxCoeff(), 0.06);
  EXPECT_NEAR(bs(0, 1).real(), 0.7, 0.06);    // R_bs(0,1) = 0.7
  EXPECT_NEAR(bs(0, 3).real(), 0.343, 0.06);  // R_bs(0,3) = 0.7³
}

TEST(TdlModels, FlatModelIsOneTapAtDelayZero) {
  auto model = create_selective_channel_model({"flat", 4, 3, 500e-9, 30.72e6});
  ASSERT_EQ(model->tap_delays().size(), 1U);
  EXPECT_EQ(model->tap_delays()[0], 0);
  EXPECT_EQ(model->name(), "flat");
  rng gen(71);
  model->next_frame(gen);
  cmat h0(4, 3), h(4, 3);
  model->frequency_response(h0, 0, 64);
  EXPECT_EQ(h0, model->tap_gain(0));
  for (const int f : {-32, -5, 17, 31}) {
    model->frequency_response(h, f, 64);
    EXPECT_LT((h - h0).cwiseAbs().maxCoeff(), 1e-15);
  }
}

TEST(TdlModels, AwgnModelHasFixedOrthogonalUnitModulusColumns) {
  auto model = create_selective_channel_model({"awgn", 8, 5});
  ASSERT_EQ(model->tap_delays().size(), 1U);
  EXPECT_EQ(model->tap_delays()[0], 0);
  rng gen(81);
  cmat h(8, 5), before(8, 5);
  model->frequency_response(before, 3, 64);
  model->next_frame(gen);
  model->next_frame(gen);
  for (const int f : {-32, 0, 3, 31}) {
    model->frequency_response(h, f, 64);
    EXPECT_LT((h.adjoint() * h - 8.0 * cmat::Identity(5, 5)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((h.cwiseAbs().array() - 1.0).abs().maxCoeff(), 1e-12);
  }
  model->frequency_response(h, 3, 64);
  EXPECT_EQ(h, before);
  EXPECT_LT(std::abs(h(1, 1) - std::polar(1.0, -2.0 * std::numbers::pi / 8.0)), 1e-15);  // DFT entry
}

TEST(TdlModels, SameSeedSameRealisation) {
  const selective_channel_config config{"tdl-b", 4, 2, 100e-9, 30.72e6, 50.0, 1e-3, 0.3, 0.2};
  auto a = create_selective_channel_model(config);
  auto b = create_selective_channel_model(config);
  rng ga(9), gb(9);
  for (int i = 0; i < 3; ++i) {
    a->next_frame(ga);
    b->next_frame(gb);
  }
  for (std::size_t l = 0; l < a->tap_delays().size(); ++l) {
    EXPECT_EQ(a->tap_gain(static_cast<int>(l)), b->tap_gain(static_cast<int>(l)));
  }
  EXPECT_EQ(a->tap_gain(-1).size(), 0);  // out of range: empty, not a crash
  EXPECT_EQ(a->tap_gain(1000).size(), 0);
}

TEST(TdlModels, BadConfigurationsAreRejectedNamingTheField) {
  const auto rejects = [](selective_channel_config config, const std::string& field) {
    try {
      create_selective_channel_model(config);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  const selective_channel_config ok;
  auto c = ok;
  c.model = "tdl-z";
  rejects(c, "tdl-z");
  c = ok;
  c.antennas = 0;
  rejects(c, "antennas");
  c = ok;
  c.users = -1;
  rejects(c, "users");
  c = ok;
  c.delay_spread_s = -1e-9;
  rejects(c, "delay_spread_s");
  c.delay_spread_s = std::nan("");
  rejects(c, "delay_spread_s");
  c.delay_spread_s = 1.0;  // last tap ~7e7 samples
  rejects(c, "delay_spread_s");
  c = ok;
  c.sample_rate = 0.0;
  rejects(c, "sample_rate");
  c.sample_rate = std::numeric_limits<double>::infinity();
  rejects(c, "sample_rate");
  c = ok;
  c.doppler_hz = -1.0;
  rejects(c, "doppler_hz");
  c.doppler_hz = 1e300;
  c.frame_seconds = 1e300;
  rejects(c, "doppler_hz");
  c = ok;
  c.frame_seconds = 0.0;
  rejects(c, "frame_seconds");
  c = ok;
  c.rho_bs = 1.0;
  rejects(c, "rho_bs");
  c = ok;
  c.rho_ue = -0.1;
  rejects(c, "rho_ue");
  c = ok;
  c.model = "awgn";
  c.antennas = 2;
  c.users = 4;
  rejects(c, "users");
  c = ok;
  c.delay_spread_s = 0.0;  // DS = 0 is legal: every tap on sample 0
  EXPECT_EQ(create_selective_channel_model(c)->tap_delays().size(), 1U);
  EXPECT_EQ(selective_channel_model_names(), (std::vector<std::string>{"tdl-a", "tdl-b", "tdl-c", "flat", "awgn"}));
}

}  // namespace
}  // namespace amimo::channel_models
