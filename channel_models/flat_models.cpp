#include <channel_models/flat_models.h>

#include <channel_models/cdl_models.h>

#include <amimo/core/error.h>

#include <Eigen/Cholesky>
#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <string>

namespace amimo::channel_models {
namespace {

class rayleigh_model final : public channel::flat_channel_model {
 public:
  rayleigh_model(int antennas, int users) : antennas_(antennas), users_(users) {}
  std::string_view name() const noexcept override { return "rayleigh"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  void draw(cmat_ref h, rng& gen) override { gen.fill_complex_normal(h, 1.0); }

 private:
  int antennas_;
  int users_;
};

// H = L_bs · H_w · L_ueᴴ with L Lᴴ = R: E[vec(H) vec(H)ᴴ] = R_ueᵀ ⊗ R_bs, unit-power entries.
class kronecker_model final : public channel::flat_channel_model {
 public:
  kronecker_model(int antennas, int users, double rho_bs, double rho_ue)
      : antennas_(antennas), users_(users),
        l_bs_(exponential_correlation(antennas, rho_bs).llt().matrixL().toDenseMatrix().cast<cf64>()),
        l_ue_adjoint_(exponential_correlation(users, rho_ue).llt().matrixL().toDenseMatrix().cast<cf64>().adjoint()),
        white_(antennas, users), temp_(antennas, users) {}
  std::string_view name() const noexcept override { return "kronecker"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  void draw(cmat_ref h, rng& gen) override {
    gen.fill_complex_normal(white_, 1.0);
    temp_.noalias() = l_bs_ * white_;
    h.noalias() = temp_ * l_ue_adjoint_;
  }

 private:
  int antennas_;
  int users_;
  cmat l_bs_;
  cmat l_ue_adjoint_;
  cmat white_;
  cmat temp_;
};

class orthogonal_awgn_model final : public channel::flat_channel_model {
 public:
  orthogonal_awgn_model(int antennas, int users) : antennas_(antennas), users_(users), h_(antennas, users) {
    for (int k = 0; k < users; ++k) {
      for (int n = 0; n < antennas; ++n) {
        const double phase = -2.0 * std::numbers::pi * n * k / antennas;
        h_(n, k) = std::polar(1.0, phase);
      }
    }
  }
  std::string_view name() const noexcept override { return "awgn"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  void draw(cmat_ref h, rng&) override { h = h_; }

 private:
  int antennas_;
  int users_;
  cmat h_;
};

}  // namespace

std::string describe(const flat_channel_config& config, const cdl_geometry& cdl) {
  if (config.model == "kronecker") {
    return "kronecker (rho_bs " + fmt::format("{:g}", config.rho_bs) + ", rho_ue " + fmt::format("{:g}", config.rho_ue) + ")";
  }
  if (!is_cdl_model(config.model)) return config.model;
  selective_channel_config c;
  c.model = config.model;
  c.antennas = config.antennas;
  c.users = config.users;
  c.cdl = cdl;
  return describe(c) + "; flat fading: a fresh realisation per channel draw, on one subcarrier";
}

std::vector<std::string> flat_channel_model_names() {
  return {"rayleigh", "kronecker", "awgn", "cdl-a", "cdl-b", "cdl-c", "cdl-d", "cdl-e"};
}

rmat exponential_correlation(int size, double rho) {
  rmat r(size, size);
  for (int i = 0; i < size; ++i) {
    for (int j = 0; j < size; ++j) r(i, j) = std::pow(rho, std::abs(i - j));
  }
  return r;
}

std::unique_ptr<channel::flat_channel_model> create_flat_channel_model(const flat_channel_config& config,
                                                                       const cdl_geometry& cdl) {
  if (config.antennas <= 0 || config.users <= 0) {
    throw config_error("antennas and users must be positive (got " + std::to_string(config.antennas) +
                       " antennas, " + std::to_string(config.users) + " users)");
  }
  if (config.model == "rayleigh") return std::make_unique<rayleigh_model>(config.antennas, config.users);
  if (config.model == "kronecker") {
    for (const double rho : {config.rho_bs, config.rho_ue}) {
      if (!(rho >= 0.0 && rho < 1.0)) {
        throw config_error("Kronecker correlation coefficients must lie in [0, 1) (got " + std::to_string(rho) + ")");
      }
    }
    return std::make_unique<kronecker_model>(config.antennas, config.users, config.rho_bs, config.rho_ue);
  }
  if (config.model == "awgn") {
    if (config.users > config.antennas) {
      throw config_error("the awgn channel needs users <= antennas (orthogonal columns)");
    }
    return std::make_unique<orthogonal_awgn_model>(config.antennas, config.users);
  }
  if (is_cdl_model(config.model)) {
    selective_channel_config c;
    c.model = config.model;
    c.antennas = config.antennas;
    c.users = config.users;
    c.rho_bs = config.rho_bs;
    c.rho_ue = config.rho_ue;
    c.cdl = cdl;
    return create_cdl_flat_model(c);
  }
  throw config_error("unknown channel model '" + config.model +
                     "' (expected rayleigh, kronecker, awgn or cdl-a … cdl-e)");
}

}  // namespace amimo::channel_models
