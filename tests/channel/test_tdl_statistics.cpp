// Monte-Carlo statistics of the TDL models against TR 38.901 and closed forms computed here
// from the published tables (not from the model code): the Clarke/Jakes autocorrelation
// J0(2π f_D Δt) of every tap at lags inside and across frames, the LOS K-factor and LOS
// Doppler of TDL-D/E, the RMS delay spread of the measured power-delay profile, and the
// frequency correlation of H(f) against the Fourier transform of the PDP, for exact and
// sample-spaced delays. Every draw is a fresh model (independent θ, φ), every test seeded;
// tolerances are several standard errors wide (stated next to each).

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <map>
#include <numbers>
#include <vector>

namespace amimo::channel_models {
namespace {

selective_channel_config make(const std::string& model, int antennas, int users, double ds, double fs, double doppler,
                              int steps) {
  selective_channel_config c;
  c.model = model;
  c.antennas = antennas;
  c.users = users;
  c.delay_spread_s = ds;
  c.sample_rate = fs;
  c.doppler_hz = doppler;
  c.steps_per_frame = steps;
  c.frame_seconds = 1e-3;
  return c;
}

// Table rows as (delay in seconds, linear power), normalised to total 1 (LOS row included).
std::vector<std::pair<double, double>> table_rows(const std::string& model, double ds) {
  const auto t = tdl_profile(model);
  std::vector<std::pair<double, double>> rows;
  double total = 0.0;
  for (std::size_t i = 0; i < t.powers_db.size(); ++i) {
    rows.emplace_back(t.normalised_delays[i] * ds, std::pow(10.0, t.powers_db[i] / 10.0));
    total += rows.back().second;
  }
  for (auto& r : rows) r.second /= total;
  return rows;
}

TEST(TdlStatistics, TapAutocorrelationIsBesselJ0InsideAndAcrossFrames) {
  const double fd = 300.0;
  const int steps = 14, frames = 3, draws = 250;
  const double dt = 1e-3 / steps;
  const std::vector<int> lags{1, 2, 5, 13, 14, 20, 30};  // states; ≥ 14 crosses a frame boundary
  std::vector<cf64> corr(lags.size(), 0.0);
  std::vector<double> norm(lags.size(), 0.0);
  rng gen(101);
  const auto config = make("tdl-a", 2, 2, 100e-9, 7.68e6, fd, steps);
  std::vector<std::vector<cmat>> trace;  // state → tap → gain
  for (int d = 0; d < draws; ++d) {
    auto model = create_selective_channel_model(config);
    trace.clear();
    for (int f = 0; f < frames; ++f) {
      model->next_frame(gen);
      for (int s = 0; s < steps; ++s) {
        if (s > 0) model->next_step();
        std::vector<cmat> taps;
        for (std::size_t l = 0; l < model->tap_delays().size(); ++l) taps.emplace_back(model->tap_gain(static_cast<int>(l)));
        trace.push_back(std::move(taps));
      }
    }
    for (std::size_t k = 0; k < lags.size(); ++k) {
      for (int t0 = 0; t0 + lags[k] < static_cast<int>(trace.size()); t0 += 6) {
        const auto& a = trace[static_cast<std::size_t>(t0)];
        const auto& b = trace[static_cast<std::size_t>(t0 + lags[k])];
        for (std::size_t l = 0; l < a.size(); ++l) {
          corr[k] += (b[l].array() * a[l].array().conjugate()).sum();
          norm[k] += a[l].squaredNorm();
        }
      }
    }
  }
  for (std::size_t k = 0; k < lags.size(); ++k) {
    const double expected = std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * fd * lags[k] * dt);
    // 250 draws × 23 taps × 4 entries independent processes: standard error ≈ 0.005.
    EXPECT_NEAR(corr[k].real() / norm[k], expected, 0.025) << "lag " << lags[k] << " states";
    EXPECT_NEAR(corr[k].imag() / norm[k], 0.0, 0.025) << "lag " << lags[k];
  }
  // The lags span J0's first zero: the check is not trivially near 1.
  EXPECT_LT(std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * fd * 30 * dt), -0.3);
}

// The envelope of a sum of M sinusoids: E|w|⁴/(E|w|²)² = 2 − 1/M (derived in
// test_tdl_models.cpp; Rayleigh's is 2), the reason fewer than 8 are refused. Checked at the
// smallest accepted count and a larger one, so the statement in the error message is the
// model's real behaviour.
TEST(TdlStatistics, FourthMomentOfASumOfSinusoidsIsTwoMinusOneOverM) {
  for (const int m : {8, 32}) {
    SCOPED_TRACE(m);
    selective_channel_config c = make("flat", 64, 16, 0.0, 7.68e6, 0.0, 1);
    c.sinusoids = m;
    double m2 = 0.0, m4 = 0.0, count = 0.0;
    rng gen(505);
    for (int d = 0; d < 200; ++d) {
      auto model = create_selective_channel_model(c);
      model->next_frame(gen);
      const cmat_cref g = model->tap_gain(0);
      m2 += g.squaredNorm();
      m4 += g.cwiseAbs2().cwiseAbs2().sum();
      count += static_cast<double>(g.size());
    }
    m2 /= count;
    m4 /= count;
    // 204800 independent entries; E|w|⁸ ≤ 24, so the ratio's standard error is ≤ 0.011.
    EXPECT_NEAR(m2, 1.0, 0.01);
    EXPECT_NEAR(m4 / (m2 * m2), 2.0 - 1.0 / m, 0.035);
  }
}

TEST(TdlStatistics, LosKFactorAndLosDopplerOfTdlDAndE) {
  for (const char* name : {"tdl-d", "tdl-e"}) {
    SCOPED_TRACE(name);
    const double fd = 200.0, dt = 1e-3 / 14;
    const int draws = 500, lag = 7;
    const auto config = make(name, 4, 4, 100e-9, 7.68e6, fd, 14);
    const auto t = tdl_profile(name);
    const double p_los = std::pow(10.0, t.powers_db[0] / 10.0), p_ray = std::pow(10.0, t.powers_db[1] / 10.0);
    double m2 = 0.0, m4 = 0.0;
    cf64 corr = 0.0;
    double count = 0.0, power = 0.0;
    rng gen(202);
    for (int d = 0; d < draws; ++d) {
      auto model = create_selective_channel_model(config);
      model->next_frame(gen);
      const cmat g0 = model->tap_gain(0);
      for (int s = 0; s < lag; ++s) model->next_step();
      const cmat_cref g1 = model->tap_gain(0);
      m2 += g0.squaredNorm();
      m4 += g0.cwiseAbs2().cwiseAbs2().sum();
      corr += (g1.array() * g0.array().conjugate()).sum();
      power += g0.squaredNorm();
      count += static_cast<double>(g0.size());
    }
    m2 /= count;
    m4 /= count;
    // Moment estimator for a Ricean envelope: a⁴ = 2 m2² − m4, σ² = m2 − a².
    const double a2 = std::sqrt(2.0 * m2 * m2 - m4);
    const double k_db = 10.0 * std::log10(a2 / (m2 - a2));
    // 8000 samples: the K estimate's standard error is ≈ 0.1 dB.
    EXPECT_NEAR(k_db, t.k_factor_db, 0.4);
    // LOS path: E[g(t+τ) g*(t)] = p_LOS e^{j2π f_S τ} + p_R J0(2π f_D τ) (tap 0, per unit total power),
    // f_S = 0.7 f_D (TR 38.901 §7.7.2).
    const double tau = lag * dt;
    const cf64 expected = (p_los * std::polar(1.0, 2.0 * std::numbers::pi * 0.7 * fd * tau) +
                           p_ray * std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * fd * tau)) /
                          (p_los + p_ray);
    EXPECT_LT(std::abs(corr / power - expected), 0.01) << corr / power << " vs " << expected;
  }
}

// TR 38.901 §7.7.2: the Doppler spectrum of the LOS tap of TDL-D/E has its peak at
// f_S = 0.7 f_D. Over a lag of τ = 50 ms at f_D = 200 Hz (f_D τ = 10) the LOS term of the
// tap-0 autocorrelation, p_LOS e^{j2π f_S τ}, turns 7 cycles; a LOS Doppler of 0.7071 f_D
// (the old π/4 angle) would be 0.45 rad away from it.
TEST(TdlStatistics, LosDopplerIsSeventyPercentOfTheMaximumDoppler) {
  for (const char* name : {"tdl-d", "tdl-e"}) {
    SCOPED_TRACE(name);
    const double fd = 200.0;
    const int frames = 50, draws = 200;
    const auto config = make(name, 4, 4, 100e-9, 7.68e6, fd, 1);
    const auto t = tdl_profile(name);
    const double p_los = std::pow(10.0, t.powers_db[0] / 10.0), p_ray = std::pow(10.0, t.powers_db[1] / 10.0);
    cf64 corr = 0.0;
    double power = 0.0;
    rng gen(212);
    for (int d = 0; d < draws; ++d) {
      auto model = create_selective_channel_model(config);
      model->next_frame(gen);
      const cmat g0 = model->tap_gain(0);
      for (int f = 0; f < frames; ++f) model->next_frame(gen);
      corr += (model->tap_gain(0).array() * g0.array().conjugate()).sum();
      power += g0.squaredNorm();
    }
    const double tau = frames * 1e-3;
    const cf64 expected = (p_los * std::polar(1.0, 2.0 * std::numbers::pi * 0.7 * fd * tau) +
                           p_ray * std::cyl_bessel_j(0.0, 2.0 * std::numbers::pi * fd * tau)) /
                          (p_los + p_ray);
    // 3200 entries; the LOS × Rayleigh cross terms leave a standard error below 0.005.
    EXPECT_LT(std::abs(corr / power - expected), 0.03) << corr / power << " vs " << expected;
  }
}

TEST(TdlStatistics, MeasuredRmsDelaySpreadIsTheTablesTimesDs) {
  const double ds = 100e-9, fs = 7.68e6;
  for (const char* name : {"tdl-a", "tdl-c", "tdl-d"}) {
    for (const char* delays : {"exact", "sample-spaced"}) {
      SCOPED_TRACE(std::string(name) + " " + delays);
      auto config = make(name, 4, 2, ds, fs, 0.0, 1);
      config.delay_model = delays;
      const int draws = 400;
      std::vector<double> measured;
      rng gen(303);
      std::vector<double> tap_delays;
      for (int d = 0; d < draws; ++d) {
        auto model = create_selective_channel_model(config);
        model->next_frame(gen);
        if (measured.empty()) {
          tap_delays.assign(model->tap_delays().begin(), model->tap_delays().end());
          measured.assign(tap_delays.size(), 0.0);
        }
        for (std::size_t l = 0; l < measured.size(); ++l) measured[l] += model->tap_gain(static_cast<int>(l)).squaredNorm();
      }
      double p = 0.0, m1 = 0.0, m2 = 0.0;
      for (std::size_t l = 0; l < measured.size(); ++l) {
        const double tau = tap_delays[l] / fs;
        p += measured[l];
        m1 += measured[l] * tau;
        m2 += measured[l] * tau * tau;
      }
      const double rms = std::sqrt(m2 / p - (m1 / p) * (m1 / p));
      // The standard's value, from the table rows here; sample-spaced: from the rounded rows.
      double tp = 0.0, t1 = 0.0, t2 = 0.0;
      for (const auto& [tau, pw] : table_rows(name, ds)) {
        const double t = std::string(delays) == "exact" ? tau : static_cast<double>(std::lround(tau * fs)) / fs;
        tp += pw;
        t1 += pw * t;
        t2 += pw * t * t;
      }
      const double expected = std::sqrt(t2 / tp - (t1 / tp) * (t1 / tp));
      // 400 draws × 8 entries per tap: per-tap power within ≈ 2 %, the RMS spread within ≈ 3 %.
      EXPECT_NEAR(rms, expected, 0.04 * expected);
      if (std::string(delays) == "exact") {
        EXPECT_NEAR(expected, ds, 0.01 * ds);  // table × DS
      }
    }
  }
}

TEST(TdlStatistics, FrequencyCorrelationIsTheFourierTransformOfThePdp) {
  // E[H_ij(f) H_ij*(f + Δ)] = Σ_l p_l e^{+j2π Δ·Δf·τ_l} (LOS path included at τ = 0).
  const int n = 512, antennas = 4, users = 4, draws = 700;
  const double fs = 7.68e6, df = fs / n;
  const std::vector<int> lags{0, 1, 3, 8, 20, 60};
  for (const char* name : {"tdl-a", "tdl-c", "tdl-d"}) {
    for (const char* delays : {"exact", "sample-spaced"}) {
      SCOPED_TRACE(std::string(name) + " " + delays);
      const double ds = std::string(name) == "tdl-c" ? 300e-9 : 100e-9;
      auto config = make(name, antennas, users, ds, fs, 0.0, 1);
      config.delay_model = delays;
      std::vector<cf64> measured(lags.size(), 0.0);
      cmat h0(antennas, users), h1(antennas, users);
      rng gen(404);
      for (int d = 0; d < draws; ++d) {
        auto model = create_selective_channel_model(config);
        model->next_frame(gen);
        const int f = static_cast<int>(gen.below(200)) - 100;
        model->frequency_response(h0, f, n);
        for (std::size_t k = 0; k < lags.size(); ++k) {
          model->frequency_response(h1, f + lags[k], n);
          measured[k] += (h0.array() * h1.array().conjugate()).sum();
        }
      }
      const bool exact = std::string(delays) == "exact";
      for (std::size_t k = 0; k < lags.size(); ++k) {
        cf64 closed = 0.0, other = 0.0;
        for (const auto& [tau, p] : table_rows(name, ds)) {
          const double rounded = static_cast<double>(std::lround(tau * fs)) / fs;
          closed += p * std::polar(1.0, 2.0 * std::numbers::pi * lags[k] * df * (exact ? tau : rounded));
          other += p * std::polar(1.0, 2.0 * std::numbers::pi * lags[k] * df * (exact ? rounded : tau));
        }
        const cf64 mean = measured[k] / static_cast<double>(draws * antennas * users);
        // 700 draws × 16 entries: standard error ≈ 0.01.
        EXPECT_LT(std::abs(mean - closed), 0.04) << "lag " << lags[k] << ": " << mean << " vs " << closed;
        if (std::string(name) == "tdl-a" && lags[k] == 60) {  // NOLINT
          // At 900 kHz the two delay models differ by more than the tolerance: the test
          // tells them apart.
          EXPECT_GT(std::abs(closed - other), 0.08) << closed << " vs " << other;
        }
      }
    }
  }
}

}  // namespace
}  // namespace amimo::channel_models
