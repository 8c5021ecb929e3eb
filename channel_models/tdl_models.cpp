#include <channel_models/tdl_models.h>

#include <channel_models/cdl_models.h>
#include <channel_models/flat_models.h>

#include <amimo/core/error.h>

#include <Eigen/Cholesky>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numbers>
#include <sstream>
#include <utility>

namespace amimo::channel_models {
namespace {

// TR 38.901 V16.1.0 Table 7.7.2-1 (TDL-A), -2 (TDL-B), -3 (TDL-C), in table order.
// Cross-checked against two independent transcriptions (Sionna's TDL-*.json and
// NeoRadium's tdl.py, both citing TR 38.901).
constexpr std::array<double, 23> tdl_a_delays{0.0000, 0.3819, 0.4025, 0.5868, 0.4610, 0.5375, 0.6708, 0.5750,
                                              0.7618, 1.5375, 1.8978, 2.2242, 2.1718, 2.4942, 2.5119, 3.0582,
                                              4.0810, 4.4579, 4.5695, 4.7966, 5.0066, 5.3043, 9.6586};
constexpr std::array<double, 23> tdl_a_powers{-13.4, 0.0,   -2.2,  -4.0,  -6.0,  -8.2,  -9.9,  -10.5,
                                              -7.5,  -15.9, -6.6,  -16.7, -12.4, -15.2, -10.8, -11.3,
                                              -12.7, -16.2, -18.3, -18.9, -16.6, -19.9, -29.7};
constexpr std::array<double, 23> tdl_b_delays{0.0000, 0.1072, 0.2155, 0.2095, 0.2870, 0.2986, 0.3752, 0.5055,
                                              0.3681, 0.3697, 0.5700, 0.5283, 1.1021, 1.2756, 1.5474, 1.7842,
                                              2.0169, 2.8294, 3.0219, 3.6187, 4.1067, 4.2790, 4.7834};
constexpr std::array<double, 23> tdl_b_powers{0.0,  -2.2, -4.0, -3.2, -9.8, -1.2,  -3.4, -5.2,  -7.6,  -3.0, -8.9, -9.0,
                                              -4.8, -5.7, -7.5, -1.9, -7.6, -12.2, -9.8, -11.4, -14.9, -9.2, -11.3};
constexpr std::array<double, 24> tdl_c_delays{0.0000, 0.2099, 0.2219, 0.2329, 0.2176, 0.6366, 0.6448, 0.6560,
                                              0.6584, 0.7935, 0.8213, 0.9336, 1.2285, 1.3083, 2.1704, 2.7105,
                                              4.2589, 4.6003, 5.4902, 5.6077, 6.3065, 6.6374, 7.0427, 8.6523};
constexpr std::array<double, 24> tdl_c_powers{-4.4,  -1.2,  -3.5,  -5.2,  -2.5,  0.0,   -2.2,  -3.9,
                                              -7.4,  -7.1,  -10.7, -11.1, -5.1,  -6.8,  -8.7,  -13.2,
                                              -13.9, -13.9, -15.8, -17.1, -16.0, -15.7, -21.6, -22.8};
// TR 38.901 V16.1.0 Table 7.7.2-4 (TDL-D, K1 = 13.3 dB) and -5 (TDL-E, K1 = 22 dB), in table
// order; row 0 is the LOS path, row 1 the Rayleigh part of the same first tap. Cross-checked
// against two independent transcriptions: Sionna's TDL-D.json / TDL-E.json and an
// independent Python link simulator's "TDL-D"/"TDL-E" tables (LOS first tap given as
// (LOS power, Rayleigh power, K) = (−0.2, −13.5, 13.3) and (−0.03, −22.03, 22.0)); a third
// (Kotlin) copy agrees on every delay.
constexpr std::array<double, 14> tdl_d_delays{0.0,   0.0,   0.035, 0.612, 1.363, 1.405, 1.804,
                                              2.596, 1.775, 4.042, 7.937, 9.424, 9.708, 12.525};
constexpr std::array<double, 14> tdl_d_powers{-0.2,  -13.5, -18.8, -21.0, -22.8, -17.9, -20.1,
                                              -21.9, -22.9, -27.8, -23.6, -24.8, -30.0, -27.7};
constexpr std::array<double, 15> tdl_e_delays{0.0,    0.0,    0.5133, 0.5440, 0.5630, 0.5440, 0.7112, 1.9092,
                                              1.9293, 1.9589, 2.6426, 3.7136, 5.4524, 12.0034, 20.6519};
constexpr std::array<double, 15> tdl_e_powers{-0.03, -22.03, -15.8, -18.1, -19.8, -22.9, -22.4, -18.6,
                                              -20.8, -22.6,  -22.3, -25.6, -20.2, -29.8, -29.2};

// TR 38.901 Table 7.7.3-1, "example scaling parameters for CDL and TDL models" (desired
// delay spreads). Checked against a MATLAB NR simulation script's comment table and
// Sionna's documentation (one Sionna docs version misprints "short" as 10 ns; others and
// the script give 30 ns).
struct named_spread {
  const char* name;
  double seconds;
};
constexpr std::array<named_spread, 5> delay_spread_table{{{"very-short", 10e-9},
                                                          {"short", 30e-9},
                                                          {"nominal", 100e-9},
                                                          {"long", 300e-9},
                                                          {"very-long", 1000e-9}}};

// Beyond this the "delay line" is longer than any OFDM symbol amimo uses, and rounding
// the delay to an int could overflow.
constexpr double max_delay_samples = 1e6;
constexpr double speed_of_light = 299792458.0;
// Fewest sinusoids per fading process: w = M^{−1/2} Σ_m e^{jφ_m} has E|w|⁴ = 2 − 1/M (Rayleigh:
// 2); at M = 8 that is 1.875, below it the envelope is visibly not Rayleigh (M = 1: |w| = 1).
constexpr int min_sinusoids = 8;
// Entries of the largest state table a model may allocate (validate_table_sizes).
constexpr double max_table_entries = 67108864.0;  // 2^26

std::string format(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

[[noreturn]] void reject(const std::string& field, const std::string& what, double value) {
  throw config_error("selective channel: " + field + " " + what + " (got " + format(value) + ")");
}

bool is_tdl(std::string_view model) {
  return model.size() == 5 && model.substr(0, 4) == "tdl-" && model[4] >= 'a' && model[4] <= 'e';
}

void validate(const selective_channel_config& c) {
  const auto names = selective_channel_model_names();
  if (std::find(names.begin(), names.end(), c.model) == names.end()) {
    throw config_error("selective channel: unknown model '" + c.model +
                       "' (expected tdl-a … tdl-e, cdl-a … cdl-e, flat or awgn)");
  }
  if (c.delay_model != "exact" && c.delay_model != "sample-spaced") {
    throw config_error("selective channel: unknown delay_model '" + c.delay_model +
                       "' (expected exact or sample-spaced)");
  }
  if (c.antennas <= 0) reject("antennas", "must be positive", c.antennas);
  if (c.users <= 0) reject("users", "must be positive", c.users);
  if (!(std::isfinite(c.delay_spread_s) && c.delay_spread_s >= 0.0)) {
    reject("delay_spread_s", "must be finite and >= 0", c.delay_spread_s);
  }
  if (!(std::isfinite(c.sample_rate) && c.sample_rate > 0.0)) {
    reject("sample_rate", "must be finite and > 0", c.sample_rate);
  }
  if (!(std::isfinite(c.doppler_hz) && c.doppler_hz >= 0.0)) {
    reject("doppler_hz", "must be finite and >= 0", c.doppler_hz);
  }
  if (!(std::isfinite(c.frame_seconds) && c.frame_seconds > 0.0)) {
    reject("frame_seconds", "must be finite and > 0", c.frame_seconds);
  }
  if (!std::isfinite(c.doppler_hz * c.frame_seconds)) {
    reject("doppler_hz", "times frame_seconds must be finite", c.doppler_hz);
  }
  if (c.steps_per_frame < 1 || c.steps_per_frame > 4096) reject("steps_per_frame", "must be in [1, 4096]", c.steps_per_frame);
  if (c.sinusoids < min_sinusoids || c.sinusoids > 1024) {
    reject("sinusoids",
           "must be in [8, 1024]: a sum of M sinusoids has E|h|^4/(E|h|^2)^2 = 2 - 1/M against Rayleigh's 2, and fewer "
           "than 8 do not fade like Rayleigh (1 does not fade at all)",
           c.sinusoids);
  }
  if (!std::isfinite(c.los_angle_rad)) reject("los_angle_rad", "must be finite", c.los_angle_rad);
  if (!(c.rho_bs >= 0.0 && c.rho_bs < 1.0)) reject("rho_bs", "must lie in [0, 1)", c.rho_bs);
  if (!(c.rho_ue >= 0.0 && c.rho_ue < 1.0)) reject("rho_ue", "must lie in [0, 1)", c.rho_ue);
  if (is_cdl_model(c.model)) {
    const cdl_geometry& g = c.cdl;
    if (g.array_rows < 1 || c.antennas % g.array_rows != 0) {
      throw config_error("selective channel: array_rows must be >= 1 and divide antennas (got " +
                         std::to_string(g.array_rows) + " rows, " + std::to_string(c.antennas) + " antennas)");
    }
    if (!(std::isfinite(g.element_spacing) && g.element_spacing > 0.0 && g.element_spacing <= 100.0)) {
      reject("element_spacing", "must be in (0, 100] wavelengths", g.element_spacing);
    }
    const std::array<std::pair<const char*, double>, 4> spreads{
        {{"asd", g.asd_deg}, {"asa", g.asa_deg}, {"zsd", g.zsd_deg}, {"zsa", g.zsa_deg}}};
    for (const auto& [field, value] : spreads) {
      if (!(std::isfinite(value) && value >= 0.0 && value <= 180.0)) {
        reject(field, "(desired angle spread, degrees) must be in [0, 180]", value);
      }
    }
    if (!(std::isfinite(g.user_spread_deg) && g.user_spread_deg >= 0.0 && g.user_spread_deg <= 360.0)) {
      reject("user_spread", "must be in [0, 360] degrees", g.user_spread_deg);
    }
    if (!std::isfinite(g.ue_direction_deg)) reject("ue_direction", "must be finite (degrees)", g.ue_direction_deg);
    if (c.rho_bs > 0.0 || c.rho_ue > 0.0) {
      throw config_error("selective channel: rho_bs/rho_ue do not apply to " + c.model +
                         " (its spatial correlation follows from the array and the ray angles)");
    }
    (void)scaled_cdl_clusters(c);  // throws when a desired spread is out of the scaling's reach
  }
  if (is_tdl(c.model) || is_cdl_model(c.model)) {
    const auto delays = is_tdl(c.model) ? tdl_profile(c.model).normalised_delays : cdl_profile(c.model).normalised_delays;
    const double longest = *std::max_element(delays.begin(), delays.end());
    const double last = longest * c.delay_spread_s * c.sample_rate;
    if (!(last <= max_delay_samples)) {
      reject("delay_spread_s", "times sample_rate puts the last tap beyond 1e6 samples", c.delay_spread_s);
    }
  }
  if (c.model == "awgn" && c.users > c.antennas) {
    throw config_error("selective channel: the awgn model needs users <= antennas (got " + std::to_string(c.users) +
                       " users, " + std::to_string(c.antennas) + " antennas)");
  }
}

power_delay_profile profile_from_table(const tdl_table& table, const selective_channel_config& config);

// The tables a model allocates, checked before it does (a bare std::bad_alloc, or the OOM
// killer, is no answer to a configuration): the TDL/flat model keeps two
// sinusoids × taps × antennas × users tables of complex phasors (current value and per-step
// rotation), the CDL model one antennas × rays steering matrix per user, and a correlated
// end (rho > 0) an antennas² or users² Cholesky factor. Each is at most 2^26 entries
// (16 B each: 1 GiB per table).
void validate_table_sizes(const selective_channel_config& c, const power_delay_profile& pdp) {
  const double limit = max_table_entries;
  const auto refuse = [limit](const std::string& product, double entries) {
    throw config_error(fmt::format(
        "selective channel: {} = {:.0f} exceeds the limit of 2^26 = {:.0f} entries per table ({:.1f} GiB of complex "
        "values where 1 GiB is allowed): use fewer antennas, users{}",
        product, entries, limit, entries * 16.0 / 1073741824.0,
        product.find("sinusoids") != std::string::npos ? " or sinusoids" : ""));
  };
  const double antennas = c.antennas, users = c.users;
  if (c.model == "awgn") return;
  if (is_cdl_model(c.model)) {
    const cdl_table t = cdl_profile(c.model);
    const double rays = 20.0 * static_cast<double>(t.powers_db.size()) - (t.los ? 19.0 : 0.0);
    if (antennas * users * rays > limit) {
      refuse(fmt::format("antennas × users × rays ({} × {} × {:.0f})", c.antennas, c.users, rays),
             antennas * users * rays);
    }
    return;
  }
  const double taps = static_cast<double>(pdp.delays.size());
  const double entries = static_cast<double>(c.sinusoids) * taps * antennas * users;
  if (entries > limit) {
    refuse(fmt::format("sinusoids × taps × antennas × users ({} × {:.0f} × {} × {})", c.sinusoids, taps, c.antennas,
                       c.users),
           entries);
  }
  if (c.rho_bs > 0.0 && antennas * antennas > limit) {
    refuse(fmt::format("antennas² ({}², the rho_bs correlation factor)", c.antennas), antennas * antennas);
  }
  if (c.rho_ue > 0.0 && users * users > limit) {
    refuse(fmt::format("users² ({}², the rho_ue correlation factor)", c.users), users * users);
  }
}

cmat cholesky_factor(int size, double rho) {
  return exponential_correlation(size, rho).llt().matrixL().toDenseMatrix().cast<cf64>();
}

// Fading taps (sum-of-sinusoids processes, Rayleigh as their count grows) with Kronecker
// spatial correlation and, for TDL-D/E, a LOS path on the delay-0 tap.
class fading_tdl_model final : public channel::selective_channel_model {
 public:
  fading_tdl_model(const selective_channel_config& c, const power_delay_profile& pdp)
      : name_(c.model),
        description_(channel_models::describe(c)),
        antennas_(c.antennas),
        users_(c.users),
        entries_(static_cast<Eigen::Index>(c.antennas) * c.users),
        sinusoids_(c.sinusoids),
        delays_(pdp.delays),
        doppler_hz_(c.doppler_hz),
        step_seconds_(c.frame_seconds / c.steps_per_frame),
        steps_(c.doppler_hz > 0.0 ? c.steps_per_frame : 1),
        los_amplitude_(std::sqrt(pdp.los_power)),
        los_angle_(c.los_angle_rad),
        correlated_bs_(c.rho_bs > 0.0),
        correlated_ue_(c.rho_ue > 0.0),
        l_bs_(c.rho_bs > 0.0 ? cholesky_factor(c.antennas, c.rho_bs) : cmat()),  // only used when correlated
        l_ue_adjoint_(c.rho_ue > 0.0 ? cmat(cholesky_factor(c.users, c.rho_ue).adjoint()) : cmat()),
        temp_(c.antennas, c.users) {
    for (const double p : pdp.powers) amplitudes_.push_back(std::sqrt(p));
    const Eigen::Index taps = static_cast<Eigen::Index>(delays_.size());
    phasors_.setZero(sinusoids_, taps * entries_);
    rotations_.setOnes(sinusoids_, taps * entries_);
    white_.setZero(1, taps * entries_);
    los_.setZero(entries_);
    gains_.assign(delays_.size(), cmat::Zero(c.antennas, c.users));
  }

  std::string_view name() const noexcept override { return name_; }
  std::string describe() const override { return description_; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  std::span<const double> tap_delays() const noexcept override { return delays_; }
  cmat_cref tap_gain(int l) const noexcept override {
    if (l < 0 || static_cast<std::size_t>(l) >= gains_.size()) return empty_;
    return gains_[static_cast<std::size_t>(l)];
  }
  int steps_per_frame() const noexcept override { return steps_; }
  bool time_invariant() const noexcept override { return doppler_hz_ == 0.0; }

  void next_frame(rng& gen) override {
    if (!drawn_) {
      draw(gen);
      drawn_ = true;
      step_ = 0;
      evaluate();
      return;
    }
    if (doppler_hz_ == 0.0) return;  // static channel: keep the first draw
    const int remaining = steps_ - step_;
    for (int i = 1; i < remaining; ++i) rotate();
    step_ = 0;
    rotate_and_evaluate();
  }

  void next_step() noexcept override {
    if (!drawn_ || step_ + 1 >= steps_) return;
    ++step_;
    rotate_and_evaluate();
  }

 private:
  void draw(rng& gen) {
    const double two_pi = 2.0 * std::numbers::pi;
    const double m_count = static_cast<double>(sinusoids_);
    for (Eigen::Index p = 0; p < phasors_.cols(); ++p) {
      const double theta = two_pi * gen.uniform() - std::numbers::pi;
      for (Eigen::Index m = 0; m < sinusoids_; ++m) {
        const double alpha = (two_pi * static_cast<double>(m) + theta) / m_count;
        const double omega_step = two_pi * doppler_hz_ * std::cos(alpha) * step_seconds_;
        phasors_(m, p) = std::polar(1.0, two_pi * gen.uniform());
        rotations_(m, p) = std::polar(1.0, omega_step);
      }
    }
    for (Eigen::Index e = 0; e < entries_; ++e) los_(e) = std::polar(1.0, two_pi * gen.uniform());
    los_rotation_ = std::polar(1.0, two_pi * doppler_hz_ * std::cos(los_angle_) * step_seconds_);
  }

  void rotate() noexcept {
    phasors_.array() *= rotations_.array();
    los_ *= los_rotation_;
  }

  // rotate() then evaluate() in one pass over the phasors (they are megabytes at 32×8).
  void rotate_and_evaluate() noexcept {
    const double scale = 1.0 / std::sqrt(static_cast<double>(sinusoids_));
    for (Eigen::Index p = 0; p < phasors_.cols(); ++p) {
      auto column = phasors_.col(p).array();
      column *= rotations_.col(p).array();
      white_(p) = column.sum() * scale;
    }
    los_ *= los_rotation_;
    apply_gains();
  }

  void evaluate() noexcept {
    white_.noalias() = phasors_.colwise().sum() / std::sqrt(static_cast<double>(sinusoids_));
    apply_gains();
  }

  // gains_ from white_ (and the LOS phasors).
  void apply_gains() noexcept {
    for (std::size_t l = 0; l < gains_.size(); ++l) {
      const Eigen::Map<const cmat> w(white_.data() + static_cast<Eigen::Index>(l) * entries_, antennas_, users_);
      cmat& g = gains_[l];
      const double a = amplitudes_[l];
      if (correlated_bs_ && correlated_ue_) {
        temp_.noalias() = l_bs_ * w;
        g.noalias() = a * (temp_ * l_ue_adjoint_);
      } else if (correlated_bs_) {
        g.noalias() = a * (l_bs_ * w);
      } else if (correlated_ue_) {
        g.noalias() = a * (w * l_ue_adjoint_);
      } else {
        g = a * w;
      }
    }
    if (los_amplitude_ > 0.0) {
      gains_[0] += los_amplitude_ * Eigen::Map<const cmat>(los_.data(), antennas_, users_);
    }
  }

  std::string name_;
  std::string description_;
  int antennas_;
  int users_;
  Eigen::Index entries_;
  Eigen::Index sinusoids_;
  std::vector<double> delays_;
  std::vector<double> amplitudes_;
  double doppler_hz_;
  double step_seconds_;
  int steps_;
  double los_amplitude_;
  double los_angle_;
  bool correlated_bs_;
  bool correlated_ue_;
  cmat l_bs_;
  cmat l_ue_adjoint_;
  bool drawn_ = false;
  int step_ = 0;
  cmat phasors_;    // sinusoids × (taps · entries): current exp(j(ω_m t + φ_m))
  cmat rotations_;  // exp(j ω_m Δt) per step
  cmat white_;      // 1 × (taps · entries): unit-power processes W_l, tap-major
  cvec los_;        // entries: current LOS phasor per antenna/user entry
  cf64 los_rotation_{1.0, 0.0};
  std::vector<cmat> gains_;
  cmat temp_;
  cmat empty_;
};

// One fixed tap at delay 0 holding the first `users` columns of the N-point DFT matrix.
class orthogonal_awgn_model final : public channel::selective_channel_model {
 public:
  orthogonal_awgn_model(int antennas, int users) : antennas_(antennas), users_(users), gain_(antennas, users) {
    for (int k = 0; k < users; ++k) {
      for (int n = 0; n < antennas; ++n) {
        const long long m = (static_cast<long long>(n) * k) % antennas;
        gain_(n, k) = std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>(m) / antennas);
      }
    }
  }
  std::string_view name() const noexcept override { return "awgn"; }
  std::string describe() const override { return "awgn (fixed orthogonal DFT columns, no fading)"; }
  int antennas() const noexcept override { return antennas_; }
  int users() const noexcept override { return users_; }
  std::span<const double> tap_delays() const noexcept override { return delays_; }
  cmat_cref tap_gain(int l) const noexcept override { return l == 0 ? gain_ : empty_; }
  void next_frame(rng&) override {}
  bool time_invariant() const noexcept override { return true; }

 private:
  int antennas_;
  int users_;
  std::array<double, 1> delays_{0.0};
  cmat gain_;
  cmat empty_;
};

}  // namespace

std::vector<std::string> selective_channel_model_names() {
  return {"tdl-a", "tdl-b", "tdl-c", "tdl-d", "tdl-e", "cdl-a", "cdl-b", "cdl-c", "cdl-d", "cdl-e", "flat", "awgn"};
}

tdl_table tdl_profile(std::string_view model) {
  if (model == "tdl-a") return {tdl_a_delays, tdl_a_powers};
  if (model == "tdl-b") return {tdl_b_delays, tdl_b_powers};
  if (model == "tdl-c") return {tdl_c_delays, tdl_c_powers};
  if (model == "tdl-d") return {tdl_d_delays, tdl_d_powers, true, 13.3};
  if (model == "tdl-e") return {tdl_e_delays, tdl_e_powers, true, 22.0};
  throw config_error("no TDL table named '" + std::string(model) + "' (expected tdl-a, tdl-b, tdl-c, tdl-d or tdl-e)");
}

double delay_spread_preset(std::string_view name) {
  for (const auto& entry : delay_spread_table) {
    if (name == entry.name) return entry.seconds;
  }
  std::string names;
  for (const auto& entry : delay_spread_table) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  throw config_error("unknown delay-spread preset '" + std::string(name) + "' (expected a number of seconds or one of " +
                     names + ")");
}

std::vector<std::string> delay_spread_preset_names() {
  std::vector<std::string> names;
  for (const auto& entry : delay_spread_table) names.emplace_back(entry.name);
  return names;
}

power_delay_profile model_power_delay_profile(const selective_channel_config& config) {
  validate(config);
  power_delay_profile pdp;
  if (is_cdl_model(config.model)) {
    const auto cdl = cdl_profile(config.model);
    pdp = profile_from_table({cdl.normalised_delays, cdl.powers_db, cdl.los, 0.0}, config);
  } else if (is_tdl(config.model)) {
    pdp = profile_from_table(tdl_profile(config.model), config);
  } else {
    pdp = {{0.0}, {1.0}, 0.0};
  }
  validate_table_sizes(config, pdp);
  return pdp;
}

namespace {
power_delay_profile profile_from_table(const tdl_table& table, const selective_channel_config& config) {
  const bool sample_spaced = config.delay_model == "sample-spaced";
  std::map<double, double> merged;  // delay (samples) → summed Rayleigh power
  double total = 0.0;
  double los = 0.0;
  for (std::size_t n = 0; n < table.normalised_delays.size(); ++n) {
    const double power = std::pow(10.0, table.powers_db[n] / 10.0);
    total += power;
    if (table.los && n == 0) {
      los = power;
      continue;
    }
    double samples = table.normalised_delays[n] * config.delay_spread_s * config.sample_rate;
    if (sample_spaced) samples = static_cast<double>(std::lround(samples));
    merged[samples] += power;
  }
  if (table.los) merged[0.0] += 0.0;  // the LOS path's tap exists even if no Rayleigh power lands there
  power_delay_profile pdp;
  for (const auto& [delay, power] : merged) {
    pdp.delays.push_back(delay);
    pdp.powers.push_back(power / total);
  }
  pdp.los_power = los / total;
  return pdp;
}
}  // namespace

double rms_delay_spread(const power_delay_profile& pdp) {
  double p = pdp.los_power;
  double m1 = 0.0;
  double m2 = 0.0;
  for (std::size_t l = 0; l < pdp.delays.size(); ++l) {
    p += pdp.powers[l];
    m1 += pdp.powers[l] * pdp.delays[l];
    m2 += pdp.powers[l] * pdp.delays[l] * pdp.delays[l];
  }
  const double mean = m1 / p;
  return std::sqrt(std::max(0.0, m2 / p - mean * mean));
}

std::string describe(const selective_channel_config& c) {
  const power_delay_profile pdp = model_power_delay_profile(c);  // validates
  if (c.model == "awgn") return "awgn (fixed orthogonal DFT columns, no fading)";
  std::string text = c.model;
  if (is_tdl(c.model)) {
    text += fmt::format(" (TR 38.901 §7.7.2), {} delays, DS {:g} ns: {} taps, RMS delay spread {:.1f} ns", c.delay_model,
                        c.delay_spread_s * 1e9, pdp.delays.size(), rms_delay_spread(pdp) / c.sample_rate * 1e9);
    if (pdp.los_power > 0.0) {
      const double k = pdp.los_power / pdp.powers.front();
      text += fmt::format(", LOS K {:.1f} dB at {:.1f} deg", 10.0 * std::log10(k), c.los_angle_rad * 180.0 / std::numbers::pi);
    }
  } else if (is_cdl_model(c.model)) {
    const cdl_clusters cl = scaled_cdl_clusters(c);
    const auto spread = [&cl](const std::vector<double>& a) { return power_weighted_spread_deg(cl.powers, a); };
    const cdl_geometry& g = c.cdl;
    const std::string array = g.array_rows == 1 ? fmt::format("ULA {}", c.antennas)
                                                : fmt::format("UPA {}x{}", g.array_rows, c.antennas / g.array_rows);
    text += fmt::format(
        " (TR 38.901 §7.7.1), {} delays, DS {:g} ns: {} clusters x 20 rays on {} taps, RMS delay spread {:.1f} ns; "
        "cluster spreads ASD {:.1f} ASA {:.1f} ZSD {:.1f} ZSA {:.1f} deg{}; BS {} spacing {:g} lambda, vertical "
        "polarisation, isotropic elements; single-antenna users",
        c.delay_model, c.delay_spread_s * 1e9, cl.powers.size(), pdp.delays.size(), rms_delay_spread(pdp) / c.sample_rate * 1e9,
        spread(cl.aod_deg), spread(cl.aoa_deg), spread(cl.zod_deg), spread(cl.zoa_deg),
        (g.asd_deg > 0 || g.asa_deg > 0 || g.zsd_deg > 0 || g.zsa_deg > 0) ? " (scaled, §7.7.5.1)" : " (table)", array,
        g.element_spacing);
    if (cl.los) text += fmt::format(", LOS K {:.1f} dB", 10.0 * std::log10(cl.powers[0] / cl.powers[1]));
    if (g.user_spread_deg > 0.0) text += fmt::format(", user azimuth spread {:g} deg", g.user_spread_deg);
    if (c.doppler_hz > 0.0) text += fmt::format(", motion azimuth {:g} deg", g.ue_direction_deg);
  } else {
    text += " (one fading tap)";
  }
  if (c.doppler_hz > 0.0) {
    if (is_cdl_model(c.model)) {
      text += fmt::format(", Doppler {:g} Hz (per ray), {} states/frame", c.doppler_hz, c.steps_per_frame);
    } else {
      text += fmt::format(", Doppler {:g} Hz, sum of {} sinusoids/process, {} states/frame", c.doppler_hz, c.sinusoids,
                          c.steps_per_frame);
    }
  } else {
    text += ", static (no Doppler)";
    // A static channel is one draw of the same sum of sinusoids (not a Gaussian draw).
    if (!is_cdl_model(c.model)) text += fmt::format(", sum of {} sinusoids/process", c.sinusoids);
  }
  if (c.rho_bs > 0.0 || c.rho_ue > 0.0) text += fmt::format(", Kronecker rho_bs {:g} rho_ue {:g}", c.rho_bs, c.rho_ue);
  return text;
}

double doppler_from_speed(double speed_mps, double carrier_hz) {
  if (!(std::isfinite(speed_mps) && speed_mps >= 0.0)) reject("speed", "must be finite and >= 0 (m/s)", speed_mps);
  if (!(std::isfinite(carrier_hz) && carrier_hz > 0.0)) {
    reject("carrier frequency", "must be finite and > 0 to turn a speed into a Doppler shift", carrier_hz);
  }
  return speed_mps * carrier_hz / speed_of_light;
}

std::unique_ptr<channel::selective_channel_model> create_selective_channel_model(
    const selective_channel_config& config) {
  const power_delay_profile pdp = model_power_delay_profile(config);  // validates
  if (config.model == "awgn") return std::make_unique<orthogonal_awgn_model>(config.antennas, config.users);
  if (is_cdl_model(config.model)) return std::make_unique<cdl_channel_model>(config, scaled_cdl_clusters(config));
  return std::make_unique<fading_tdl_model>(config, pdp);
}

}  // namespace amimo::channel_models
