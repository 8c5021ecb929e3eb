// CDL-A … CDL-E (TR 38.901 §7.7.1): table shape and K-factors, bad input, reproducibility
// by seed, tap structure (equal delays share a tap), the run-header description, the flat
// (per-subcarrier draw) view, and the UPA steering phase.

#include <channel_models/cdl_models.h>
#include <channel_models/flat_models.h>

#include <amimo/core/error.h>

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

namespace amimo::channel_models {
namespace {

selective_channel_config make(const std::string& model, int antennas = 8, int users = 2) {
  selective_channel_config c;
  c.model = model;
  c.antennas = antennas;
  c.users = users;
  c.delay_spread_s = 100e-9;
  c.sample_rate = 30.72e6;
  return c;
}

TEST(CdlModels, TablesHaveTheStandardsShapeAndKFactors) {
  const std::vector<std::pair<std::string, std::size_t>> sizes{
      {"cdl-a", 23}, {"cdl-b", 23}, {"cdl-c", 24}, {"cdl-d", 14}, {"cdl-e", 15}};
  for (const auto& [name, n] : sizes) {
    const auto t = cdl_profile(name);
    EXPECT_EQ(t.normalised_delays.size(), n) << name;
    EXPECT_EQ(t.powers_db.size(), n);
    EXPECT_EQ(t.aod_deg.size(), n);
    EXPECT_EQ(t.aoa_deg.size(), n);
    EXPECT_EQ(t.zod_deg.size(), n);
    EXPECT_EQ(t.zoa_deg.size(), n);
    double total = 0.0;
    for (const double p : scaled_cdl_clusters(make(name)).powers) total += p;
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  EXPECT_NEAR(cdl_profile("cdl-d").powers_db[0] - cdl_profile("cdl-d").powers_db[1], 13.3, 1e-9);
  EXPECT_NEAR(cdl_profile("cdl-e").powers_db[0] - cdl_profile("cdl-e").powers_db[1], 22.0, 1e-9);
  EXPECT_EQ(cdl_ray_offsets().size(), 20U);
  EXPECT_THROW(cdl_profile("cdl-f"), config_error);
}

TEST(CdlModels, BadGeometryIsAClearError) {
  auto c = make("cdl-c", 8);
  c.cdl.array_rows = 3;  // does not divide 8
  EXPECT_THROW(create_selective_channel_model(c), config_error);
  c = make("cdl-c");
  c.cdl.element_spacing = 0.0;
  EXPECT_THROW(create_selective_channel_model(c), config_error);
  c = make("cdl-c");
  c.cdl.asd_deg = -1.0;
  EXPECT_THROW(create_selective_channel_model(c), config_error);
  c = make("cdl-c");
  c.rho_bs = 0.5;  // Kronecker does not apply to CDL
  EXPECT_THROW(create_selective_channel_model(c), config_error);
}

// RMS angle spread as TR 38.901 Annex A.1 defines it, computed here: angles taken about the
// power-weighted circular mean and wrapped into ±180°, power-weighted standard deviation.
double annex_a_spread(const std::vector<double>& powers, const std::vector<double>& angles_deg) {
  const double rad = std::numbers::pi / 180.0;
  std::complex<double> resultant{0.0, 0.0};
  double total = 0.0;
  for (std::size_t n = 0; n < powers.size(); ++n) {
    resultant += powers[n] * std::polar(1.0, angles_deg[n] * rad);
    total += powers[n];
  }
  const double mu = std::arg(resultant) / rad;
  double m1 = 0.0, m2 = 0.0;
  for (std::size_t n = 0; n < powers.size(); ++n) {
    const double d = std::remainder(angles_deg[n] - mu, 360.0);
    m1 += powers[n] * d / total;
    m2 += powers[n] * d * d / total;
  }
  return std::sqrt(m2 - m1 * m1);
}

// §7.7.5.1 scaling of wrapped angles cannot reach every desired spread (CDL-A asked for ASD
// 180° gave 77.5°, CDL-D saturates near 26°). Whatever is asked, a model is either built
// with the cluster spread asked for (within 1°) or refused naming the field and stating
// what the scaling obtained: never silently a different channel.
TEST(CdlModels, ADesiredAngleSpreadIsMetWithinOneDegreeOrRefused) {
  int refused = 0, met = 0;
  for (const char* name : {"cdl-a", "cdl-b", "cdl-c", "cdl-d", "cdl-e"}) {
    for (int field = 0; field < 4; ++field) {
      for (double want = 2.0; want <= 180.0; want += 4.0) {
        auto c = make(name);
        double* spreads[] = {&c.cdl.asd_deg, &c.cdl.asa_deg, &c.cdl.zsd_deg, &c.cdl.zsa_deg};
        const char* fields[] = {"asd_deg", "asa_deg", "zsd_deg", "zsa_deg"};
        *spreads[field] = want;
        SCOPED_TRACE(std::string(name) + " " + fields[field] + " " + std::to_string(want));
        try {
          (void)create_selective_channel_model(c);
        } catch (const config_error& e) {
          const std::string what = e.what();
          EXPECT_NE(what.find(fields[field]), std::string::npos) << what;
          EXPECT_NE(what.find(" gives "), std::string::npos) << what;
          EXPECT_THROW((void)scaled_cdl_clusters(c), config_error);
          EXPECT_THROW((void)describe(c), config_error);
          ++refused;
          continue;
        }
        const cdl_clusters cl = scaled_cdl_clusters(c);
        const std::vector<double>* angles[] = {&cl.aod_deg, &cl.aoa_deg, &cl.zod_deg, &cl.zoa_deg};
        EXPECT_NEAR(annex_a_spread(cl.powers, *angles[field]), want, 1.0);
        ++met;
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(met, refused / 4);  // the check does not refuse the reachable requests

  // The audit's cases: CDL-A ASD 180° (obtained 77.5°) and CDL-D ASD 40° (obtained 25.7°).
  auto a = make("cdl-a");
  a.cdl.asd_deg = 180.0;
  EXPECT_THROW((void)create_selective_channel_model(a), config_error);
  auto d = make("cdl-d");
  d.cdl.asd_deg = 40.0;
  EXPECT_THROW((void)create_selective_channel_model(d), config_error);
  flat_channel_config fc;
  fc.model = "cdl-d";
  EXPECT_THROW((void)create_flat_channel_model(fc, d.cdl), config_error);
  // Requests at and below each table's own spread are met (a scaling by ≤ 1 keeps every angle
  // within ±180° of the mean).
  for (const char* name : {"cdl-a", "cdl-b", "cdl-c", "cdl-d", "cdl-e"}) {
    const cdl_clusters table = scaled_cdl_clusters(make(name));
    auto c = make(name);
    c.cdl.asd_deg = annex_a_spread(table.powers, table.aod_deg);
    c.cdl.asa_deg = 0.5 * annex_a_spread(table.powers, table.aoa_deg);
    c.cdl.zsd_deg = annex_a_spread(table.powers, table.zod_deg);
    c.cdl.zsa_deg = 0.25 * annex_a_spread(table.powers, table.zoa_deg);
    EXPECT_NO_THROW((void)create_selective_channel_model(c)) << name;
  }
}

TEST(CdlModels, SameSeedSameChannelAndEqualDelaysShareATap) {
  auto config = make("cdl-e");
  auto a = create_selective_channel_model(config);
  auto b = create_selective_channel_model(config);
  rng ga(9), gb(9), gc(10);
  a->next_frame(ga);
  b->next_frame(gb);
  // CDL-E: 15 rows, rows 0/1 at delay 0 and rows 3/5 at 0.5440 DS: 13 taps.
  ASSERT_EQ(a->tap_delays().size(), 13U);
  for (int l = 0; l < 13; ++l) EXPECT_EQ(a->tap_gain(l), b->tap_gain(l));
  auto c = create_selective_channel_model(config);
  c->next_frame(gc);
  EXPECT_NE(a->tap_gain(0), c->tap_gain(0));
  // Frequency response on subcarrier 0 is the sum of the taps.
  cmat h(8, 2);
  a->frequency_response(h, 0, 512);
  cmat sum = cmat::Zero(8, 2);
  for (int l = 0; l < 13; ++l) sum += a->tap_gain(l);
  EXPECT_LT((h - sum).norm(), 1e-12);
}

TEST(CdlModels, DescriptionNamesTheParameters) {
  auto c = make("cdl-d", 16);
  c.cdl.array_rows = 4;
  c.cdl.asd_deg = 10.0;
  const std::string text = describe(c);
  EXPECT_NE(text.find("TR 38.901 §7.7.1"), std::string::npos) << text;
  EXPECT_NE(text.find("UPA 4x4"), std::string::npos) << text;
  EXPECT_NE(text.find("ASD 10.0"), std::string::npos) << text;
  EXPECT_NE(text.find("LOS K 13.3 dB"), std::string::npos) << text;
}

TEST(CdlModels, FlatViewDrawsFreshRealisations) {
  flat_channel_config fc;
  fc.model = "cdl-b";
  fc.antennas = 4;
  fc.users = 2;
  auto m = create_flat_channel_model(fc);
  rng gen(1);
  cmat h1(4, 2), h2(4, 2);
  m->draw(h1, gen);
  m->draw(h2, gen);
  EXPECT_NE(h1, h2);
  fc.rho_bs = 0.3;
  EXPECT_THROW(create_flat_channel_model(fc), config_error);
}

TEST(CdlModels, UpaSteeringPhaseFollowsRowsAndColumns) {
  // One LOS ray at AOD 20°, ZOD 60° on a 2x3 UPA at 0.5 λ: antenna (r, c) has phase
  // π (c sin60 sin20 + r cos60) relative to antenna 0.
  static const std::vector<double> delay{0.0}, power{0.0}, aod{20.0}, aoa{0.0}, zod{60.0}, zoa{90.0};
  const cdl_table table{delay, power, aod, aoa, zod, zoa, 0.0, 0.0, 0.0, 0.0, 0.0, true};
  auto config = make("cdl-d", 6, 1);
  config.cdl.array_rows = 2;
  cdl_channel_model model(config, scaled_cdl_clusters(table, config.cdl));
  rng gen(4);
  model.redraw(gen);
  const double d = std::numbers::pi / 180.0;
  for (int r = 0; r < 2; ++r) {
    for (int col = 0; col < 3; ++col) {
      const double expected = std::numbers::pi * (col * std::sin(60 * d) * std::sin(20 * d) + r * std::cos(60 * d));
      const cf64 ratio = model.tap_gain(0)(r * 3 + col, 0) / model.tap_gain(0)(0, 0);
      EXPECT_NEAR(std::abs(ratio - std::polar(1.0, expected)), 0.0, 1e-9) << r << "," << col;
    }
  }
}

}  // namespace
}  // namespace amimo::channel_models
