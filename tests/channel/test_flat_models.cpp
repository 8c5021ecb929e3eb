#include <amimo/core/error.h>
#include <channel_models/flat_models.h>

#include <gtest/gtest.h>

#include <cmath>

namespace amimo::channel_models {
namespace {

TEST(FlatChannel, RayleighEntriesAreUnitPowerAndUncorrelated) {
  auto model = create_flat_channel_model({"rayleigh", 8, 4, 0.0, 0.0});
  rng gen(1);
  cmat h(8, 4);
  cmat power = cmat::Zero(8, 8);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    model->draw(h, gen);
    power += h * h.adjoint();
  }
  power /= static_cast<double>(draws * 4);
  EXPECT_LT((power - cmat::Identity(8, 8)).cwiseAbs().maxCoeff(), 0.03);
}

TEST(FlatChannel, KroneckerReproducesExponentialCorrelationAtBothEnds) {
  const double rho_bs = 0.7, rho_ue = 0.4;
  auto model = create_flat_channel_model({"kronecker", 6, 3, rho_bs, rho_ue});
  rng gen(2);
  cmat h(6, 3);
  cmat bs = cmat::Zero(6, 6), ue = cmat::Zero(3, 3);
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) {
    model->draw(h, gen);
    bs += h * h.adjoint();                 // E[H Hᴴ] = tr(R_ue) R_bs = K R_bs
    ue += (h.adjoint() * h).transpose();   // E[(HᴴH)ᵀ] = N R_ue (real R)
  }
  bs /= static_cast<double>(draws * 3);
  ue /= static_cast<double>(draws * 6);
  const rmat r_bs = exponential_correlation(6, rho_bs), r_ue = exponential_correlation(3, rho_ue);
  EXPECT_LT((bs - r_bs.cast<cf64>()).cwiseAbs().maxCoeff(), 0.03);
  EXPECT_LT((ue - r_ue.cast<cf64>()).cwiseAbs().maxCoeff(), 0.03);
  EXPECT_NEAR(r_bs(0, 3), std::pow(rho_bs, 3), 1e-15);
}

TEST(FlatChannel, AwgnChannelHasOrthogonalUnitModulusColumns) {
  auto model = create_flat_channel_model({"awgn", 8, 5, 0.0, 0.0});
  rng gen(3);
  cmat h(8, 5);
  model->draw(h, gen);
  EXPECT_LT((h.adjoint() * h - 8.0 * cmat::Identity(5, 5)).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((h.cwiseAbs().array() - 1.0).abs().maxCoeff(), 1e-12);
}

TEST(FlatChannel, SameSeedSameRealisation) {
  auto model = create_flat_channel_model({"kronecker", 4, 2, 0.5, 0.5});
  rng a(9), b(9);
  cmat ha(4, 2), hb(4, 2);
  model->draw(ha, a);
  model->draw(hb, b);
  EXPECT_EQ(ha, hb);
}

TEST(FlatChannel, BadConfigurationsAreRejectedWithAReason) {
  EXPECT_THROW(create_flat_channel_model({"rayleigh", 0, 4, 0, 0}), config_error);
  EXPECT_THROW(create_flat_channel_model({"rayleigh", 4, -1, 0, 0}), config_error);
  EXPECT_THROW(create_flat_channel_model({"kronecker", 4, 2, 1.0, 0}), config_error);
  EXPECT_THROW(create_flat_channel_model({"kronecker", 4, 2, 0.2, -0.1}), config_error);
  EXPECT_THROW(create_flat_channel_model({"awgn", 2, 4, 0, 0}), config_error);
  EXPECT_THROW(create_flat_channel_model({"tdl-z", 4, 2, 0, 0}), config_error);
}

TEST(NoiseConvention, SnrAndEbN0Conversions) {
  EXPECT_DOUBLE_EQ(channel::noise_variance_from_snr_db(10.0), 0.1);
  EXPECT_NEAR(channel::ebn0_db_from_snr_db(10.0, 2), 10.0 - 3.0103, 1e-4);
  EXPECT_DOUBLE_EQ(channel::ebn0_db_from_snr_db(7.0, 1), 7.0);
}

}  // namespace
}  // namespace amimo::channel_models
