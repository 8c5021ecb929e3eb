// Monte-Carlo statistics of the CDL models (TR 38.901 §7.7.1) against expectations computed
// here from the published tables and the ray offsets of Table 7.5-3, not from the model's
// internals: the ray-level angular spreads after §7.7.5.1 scaling, the spatial correlation of
// a ULA (against Σ_rays P e^{j2π d Δ sinθ sinφ} over the random ray coupling, and against the
// closed form for one Laplacian-like cluster), the power-delay profile's RMS delay spread, the
// LOS K-factor of CDL-D/E, and the per-ray Doppler. Seeded; tolerances stated per test.

#include <channel_models/cdl_models.h>
#include <channel_models/flat_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

namespace amimo::channel_models {
namespace {

constexpr double deg = std::numbers::pi / 180.0;

selective_channel_config make(const std::string& model, int antennas, int users) {
  selective_channel_config c;
  c.model = model;
  c.antennas = antennas;
  c.users = users;
  c.delay_spread_s = 100e-9;
  c.sample_rate = 30.72e6;
  return c;
}

// Power-weighted mean and RMS about it, the test's own implementation (angles assumed not
// to straddle ±180 around their mean for the cases used).
double rms_spread(const std::vector<double>& p, const std::vector<double>& a) {
  double total = 0.0, m1 = 0.0, m2 = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    total += p[i];
    m1 += p[i] * a[i];
  }
  m1 /= total;
  for (std::size_t i = 0; i < p.size(); ++i) m2 += p[i] * (a[i] - m1) * (a[i] - m1);
  return std::sqrt(m2 / total);
}

double mean_square_offset() {
  double s = 0.0;
  for (const double a : cdl_ray_offsets()) s += a * a;
  return s / static_cast<double>(cdl_ray_offsets().size());
}

TEST(CdlStatistics, RayAngularSpreadsFollowTheScaledClusterSpreadsAndTheRayOffsets) {
  // CDL-C, ZSD/ZSA and ASD scaled; the ray-level power-weighted spread must equal
  // sqrt(AS_desired² + c_AS² · mean α²) (ray offsets are zero-mean within each cluster).
  // Exact up to rounding: tolerance 1e-6 relative.
  auto config = make("cdl-c", 8, 2);
  config.cdl.asd_deg = 12.0;
  config.cdl.zsd_deg = 2.0;
  config.cdl.zsa_deg = 6.0;
  const auto table = cdl_profile("cdl-c");
  cdl_channel_model model(config, scaled_cdl_clusters(config));
  rng gen(7);
  model.redraw(gen);
  for (int k = 0; k < 2; ++k) {
    std::vector<double> p, aod, zod, zoa;
    for (const auto& r : model.rays(k)) {
      p.push_back(r.power);
      aod.push_back(r.aod_deg);
      zod.push_back(r.zod_deg);
      zoa.push_back(r.zoa_deg);
    }
    const double a2 = mean_square_offset();
    EXPECT_NEAR(rms_spread(p, aod), std::sqrt(12.0 * 12.0 + table.c_asd_deg * table.c_asd_deg * a2), 1e-6 * 12.0);
    EXPECT_NEAR(rms_spread(p, zod), std::sqrt(2.0 * 2.0 + table.c_zsd_deg * table.c_zsd_deg * a2), 1e-6 * 2.0);
    EXPECT_NEAR(rms_spread(p, zoa), std::sqrt(6.0 * 6.0 + table.c_zsa_deg * table.c_zsa_deg * a2), 1e-6 * 6.0);
  }
  // Unscaled: the cluster-level ZOD spread is the table's, computed here from the table.
  std::vector<double> p, zod;
  double total = 0.0;
  for (std::size_t n = 0; n < table.powers_db.size(); ++n) total += std::pow(10.0, table.powers_db[n] / 10.0);
  for (std::size_t n = 0; n < table.powers_db.size(); ++n) {
    p.push_back(std::pow(10.0, table.powers_db[n] / 10.0) / total);
    zod.push_back(table.zod_deg[n]);
  }
  const auto clusters = scaled_cdl_clusters(make("cdl-c", 8, 2));
  EXPECT_NEAR(power_weighted_spread_deg(clusters.powers, clusters.zod_deg), rms_spread(p, zod), 1e-9);
}

// E[h_u h_v*] for BS antennas u, v of a ULA (spacing d wavelengths): per cluster, every AOD
// ray is paired with a uniformly random ZOD ray (random coupling), ray phases independent.
cf64 expected_correlation(const cdl_clusters& c, double d, int delta) {
  const auto alpha = cdl_ray_offsets();
  const double m = static_cast<double>(alpha.size());
  cf64 sum = 0.0;
  for (std::size_t n = 0; n < c.powers.size(); ++n) {
    if (c.los && n == 0) {
      sum += c.powers[0] * std::polar(1.0, 2.0 * std::numbers::pi * d * delta * std::sin(c.zod_deg[0] * deg) *
                                               std::sin(c.aod_deg[0] * deg));
      continue;
    }
    for (const double a : alpha) {
      for (const double z : alpha) {
        const double phi = (c.aod_deg[n] + c.c_asd_deg * a) * deg;
        const double theta = (c.zod_deg[n] + c.c_zsd_deg * z) * deg;
        sum += c.powers[n] / (m * m) * std::polar(1.0, 2.0 * std::numbers::pi * d * delta * std::sin(theta) * std::sin(phi));
      }
    }
  }
  return sum;
}

TEST(CdlStatistics, UlaCorrelationMatchesTheRayExpectation) {
  // CDL-C with ASD scaled to 8 degrees (strong correlation), 8-element ULA at 0.5 λ, 3000
  // flat draws: |R̂_{0,Δ} − E| ≤ 0.05 (standard error of a unit-power sample mean ≈ 0.018).
  flat_channel_config fc;
  fc.model = "cdl-c";
  fc.antennas = 8;
  fc.users = 1;
  cdl_geometry geometry;
  geometry.asd_deg = 8.0;
  auto model = create_flat_channel_model(fc, geometry);
  auto sc = make("cdl-c", 8, 1);
  sc.cdl = geometry;
  const auto clusters = scaled_cdl_clusters(sc);
  rng gen(11);
  cmat h(8, 1);
  std::vector<cf64> r(8, 0.0);
  const int draws = 3000;
  for (int i = 0; i < draws; ++i) {
    model->draw(h, gen);
    for (int delta = 0; delta < 8; ++delta) r[static_cast<std::size_t>(delta)] += h(delta, 0) * std::conj(h(0, 0));
  }
  for (int delta = 0; delta < 8; ++delta) {
    const cf64 measured = r[static_cast<std::size_t>(delta)] / static_cast<double>(draws);
    const cf64 expected = expected_correlation(clusters, 0.5, delta);
    EXPECT_LT(std::abs(measured - expected), 0.05) << "delta " << delta << " measured " << measured << " expected "
                                                    << expected;
  }
  // The model is strongly correlated here: a model without array geometry (i.i.d.) would
  // fail the check above at Δ = 1.
  EXPECT_GT(std::abs(expected_correlation(clusters, 0.5, 1)), 0.5);
}

TEST(CdlStatistics, SingleClusterCorrelationMatchesTheClosedForm) {
  // One cluster at AOD 30°, ZOD 90°, c_ASD 5°, c_ZSD 0: E[h_{u+Δ} h_u*] ≈
  // e^{jπΔ sin 30°} / (1 + ½ (πΔ cos 30° σ)²), σ = 5° (the Laplacian characteristic function
  // after linearising sin φ; Table 7.5-3's offsets have unit RMS). Tolerance 0.03 over 4000
  // draws (standard error ≈ 0.016; the 20 discrete rays and the linearisation differ from
  // the Laplacian form by < 0.01 for Δ ≤ 2, and by 0.02 at Δ = 3, where the measurement is
  // held to the ray expectation instead).
  static const std::vector<double> delay{0.0}, power{0.0}, aod{30.0}, aoa{0.0}, zod{90.0}, zoa{90.0};
  const cdl_table table{delay, power, aod, aoa, zod, zoa, 5.0, 5.0, 0.0, 0.0, 0.0, false};
  auto config = make("cdl-a", 4, 1);
  const auto clusters = scaled_cdl_clusters(table, config.cdl);
  cdl_channel_model model(config, clusters);
  rng gen(5);
  cmat h(4, 1);
  std::vector<cf64> r(4, 0.0);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    model.redraw(gen);
    model.sum_taps(h);
    for (int delta = 0; delta < 4; ++delta) r[static_cast<std::size_t>(delta)] += h(delta, 0) * std::conj(h(0, 0));
  }
  const double sigma = 5.0 * deg;
  for (int delta = 0; delta < 4; ++delta) {
    const double w = std::numbers::pi * delta * std::cos(30.0 * deg) * sigma;
    const cf64 closed = std::polar(1.0 / (1.0 + 0.5 * w * w), std::numbers::pi * delta * std::sin(30.0 * deg));
    const cf64 measured = r[static_cast<std::size_t>(delta)] / static_cast<double>(draws);
    const cf64 rays = expected_correlation(clusters, 0.5, delta);
    EXPECT_LT(std::abs(measured - rays), 0.03) << "delta " << delta;
    if (delta <= 2) {
      EXPECT_LT(std::abs(measured - closed), 0.03) << "delta " << delta;
      EXPECT_LT(std::abs(rays - closed), 0.01) << "delta " << delta;
    }
  }
}

TEST(CdlStatistics, DelaySpreadOfTheRealisedProfileIsTheTablesTimesDs) {
  // Mean tap power over 300 realisations (8 antennas × 2 users each) against the table
  // normalised to 1; RMS delay spread of the measured profile within 3 % of the table's
  // (which is DS for the normalised CDL tables: checked to 2 %). Exact delays.
  for (const std::string name : {"cdl-a", "cdl-c", "cdl-d"}) {
    const auto config = make(name, 8, 2);
    const auto pdp = model_power_delay_profile(config);
    const double table_ds = rms_delay_spread(pdp) / config.sample_rate;
    EXPECT_NEAR(table_ds, config.delay_spread_s, 0.02 * config.delay_spread_s) << name;
    auto model = create_selective_channel_model(config);
    rng gen(3);
    std::vector<double> power(model->tap_delays().size(), 0.0);
    const int draws = 300;
    for (int i = 0; i < draws; ++i) {
      auto* cdl = dynamic_cast<cdl_channel_model*>(model.get());
      ASSERT_NE(cdl, nullptr);
      cdl->redraw(gen);
      for (std::size_t l = 0; l < power.size(); ++l) {
        power[l] += model->tap_gain(static_cast<int>(l)).squaredNorm() / (8.0 * 2.0 * draws);
      }
    }
    power_delay_profile measured{std::vector<double>(model->tap_delays().begin(), model->tap_delays().end()), power, 0.0};
    double total = 0.0;
    for (const double p : power) total += p;
    EXPECT_NEAR(total, 1.0, 0.05) << name;
    EXPECT_NEAR(rms_delay_spread(measured) / config.sample_rate, table_ds, 0.03 * table_ds) << name;
  }
}

TEST(CdlStatistics, LosKFactorOfCdlDAndE) {
  // First tap h = LOS (constant modulus a) + NLOS cluster (20 rays, power σ²): from
  // P = E|h|², Q = E|h|⁴ = a⁴ + 4a²σ² + 2σ⁴ − σ⁴/20 the K-factor a²/σ² is solved by fixed
  // point. 3000 realisations × 16 antennas; tolerance 0.5 dB (D, 13.3 dB) and 1 dB (E, 22 dB).
  for (const auto& [name, k_db, tol] : {std::tuple{"cdl-d", 13.3, 0.5}, std::tuple{"cdl-e", 22.0, 1.0}}) {
    auto config = make(name, 16, 1);
    cdl_channel_model model(config, scaled_cdl_clusters(config));
    rng gen(17);
    double p = 0.0, q = 0.0;
    const int draws = 3000;
    for (int i = 0; i < draws; ++i) {
      model.redraw(gen);
      const auto g = model.tap_gain(0);
      for (int a = 0; a < 16; ++a) {
        const double e = std::norm(g(a, 0));
        p += e;
        q += e * e;
      }
    }
    p /= draws * 16.0;
    q /= draws * 16.0;
    double sigma2 = 0.0;
    double a2 = 0.0;
    for (int it = 0; it < 50; ++it) {
      a2 = std::sqrt(std::max(0.0, 2.0 * p * p - q - sigma2 * sigma2 / 20.0));
      sigma2 = p - a2;
    }
    EXPECT_NEAR(10.0 * std::log10(a2 / sigma2), k_db, tol) << name;
  }
}

TEST(CdlStatistics, PerRayDopplerRotatesEachRayAtItsOwnFrequency) {
  // Single LOS ray (custom table) arriving at the user from AOA 60°, ZOA 90°, user moving at
  // azimuth 0: the tap rotates by 2π f_D cos 60° Δt per step. Exact: tolerance 1e-9.
  static const std::vector<double> delay{0.0}, power{0.0}, aod{10.0}, aoa{60.0}, zod{90.0}, zoa{90.0};
  const cdl_table table{delay, power, aod, aoa, zod, zoa, 0.0, 0.0, 0.0, 0.0, 0.0, true};
  auto config = make("cdl-d", 2, 1);
  config.doppler_hz = 500.0;
  config.steps_per_frame = 14;
  cdl_channel_model model(config, scaled_cdl_clusters(table, config.cdl));
  rng gen(2);
  model.next_frame(gen);
  const cf64 before = model.tap_gain(0)(1, 0);
  model.next_step();
  const cf64 after = model.tap_gain(0)(1, 0);
  const double expected = 2.0 * std::numbers::pi * 500.0 * 0.5 * (1e-3 / 14);
  EXPECT_NEAR(std::arg(after / before), expected, 1e-9);
  EXPECT_NEAR(std::abs(after), 1.0, 1e-12);
  // And the array response: antenna 1 against 0 is e^{jπ sin 10°} (ZOD 90°, 0.5 λ).
  EXPECT_NEAR(std::arg(model.tap_gain(0)(1, 0) / model.tap_gain(0)(0, 0)), std::numbers::pi * std::sin(10.0 * deg), 1e-9);
}

}  // namespace
}  // namespace amimo::channel_models
