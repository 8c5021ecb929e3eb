#pragma once
// The 3GPP clustered-delay-line models CDL-A … CDL-E (TR 38.901 V16.1.0 §7.7.1, Tables
// 7.7.1-1 … -5) behind channel::selective_channel_model, for an uplink with a base-station
// array and single-antenna users.
//
// Conventions (what amimo implements, and where it departs from the full §7.7.1 procedure):
// - Link direction. The tables are written for the downlink (departure at the BS). amimo's
//   link is the uplink; by reciprocity the BS array sees every ray at its table AOD/ZOD and
//   the user at its AOA/ZOA (the same swap Sionna's CDL applies for the uplink).
// - Rays (§7.7.1 step 1). Cluster n has M = 20 rays at
//     φ_{n,m} = φ_n + c_AS · α_m,   θ_{n,m} = θ_n + c_ZS · α_m,
//   α_m the ray offset angles of Table 7.5-3 (±0.0447 … ±2.1551 degrees), c_ASD/c_ASA/
//   c_ZSD/c_ZSA the table's cluster spreads, each ray carrying P_n / M. Step 2 (coupling):
//   per user and cluster the AOD, ZOD and ZOA offsets are randomly permuted against the AOA
//   offsets. The LOS path of CDL-D/E (table row 0) is one ray at the cluster's angles with
//   its K-factor (13.3 dB, 22 dB) against row 1, the Laplacian cluster at the same delay.
// - Polarisation. Single (vertical) polarisation with isotropic elements at both ends, so
//   XPR (§7.7.1 step 3) does not apply and the field patterns are 1. Cross-polarised
//   arrays are not implemented.
// - Phases. Every ray has its own initial phase Φ uniform in [0, 2π) per user (§7.7.1
//   step 3, one polarisation); the LOS ray's phase is also uniform per user (the spec's
//   deterministic exp(−j2π d_3D/λ) depends on a distance the CDL model does not define).
// - Array. Element (row r, column c) of the BS array sits at (0, c·d, r·d) wavelengths
//   (y horizontal, z vertical); array_rows = 1 is a ULA along y. Antenna index = r·columns + c.
//   Its response to a ray from (θ, φ) is exp(j2π d (c sinθ sinφ + r cosθ)).
// - Angle scaling (§7.7.5.1). With a desired spread AS_desired > 0 for ASD/ASA/ZSD/ZSA the
//   cluster angles become  φ_n ← (AS_desired / AS_model)(φ_n − μ_model) + μ_model,  with
//   μ_model the power-weighted circular mean of the cluster angles and AS_model their
//   power-weighted RMS spread about it (angles wrapped into μ ± 180°); ray offsets c·α_m are
//   left as they are, so the ray-level spread is sqrt(AS² + c² · mean(α²)). Scaled angles
//   wrap around the circle, so large requests are not met (the obtained spread falls short
//   and even decreases: CDL-A asked for ASD 180° gives 77.5°; CDL-D meets requests only up
//   to about 31°): the spread obtained is computed after scaling, and one more than 1° from
//   the desired spread is a config_error stating what was obtained and up to which request
//   the table is met.
// - Doppler. The user moves horizontally at azimuth ue_direction_deg with maximum Doppler
//   f_D; ray m of cluster n rotates at f_D · sin θ_{n,m,ZOA} cos(φ_{n,m,AOA} − φ_v) (§7.5
//   step 11, exp(j2π r̂·v̄ t/λ)). Steps as in tdl_models.h: per OFDM symbol or per frame,
//   continuous across frames.
// - Users. Each user has its own independent realisation (coupling and phases). With
//   user_spread_deg > 0 each user's BS-side azimuths are rotated by an angle drawn uniformly
//   in ±user_spread_deg/2 (so users are not all behind the same clusters); 0 keeps the table.
// - Delays. Clusters at equal delays share a tap; "exact" or "sample-spaced" as for TDL.
// - Normalisation. Powers (LOS included) sum to 1, so E|H_ij(f)|² = 1.
//
// Table sources: TR 38.901 V16.1.0 Tables 7.7.1-1 … -5, transcribed here and checked value
// by value against two public transcriptions: Sionna's CDL-A…E.json (NVlabs/sionna,
// sionna/channel/tr38901/models/) and QuaDRiGa's qd_builder.gen_cdl_model
// (fraunhoferhhi/QuaDRiGa, quadriga_src/@qd_builder/gen_cdl_model.m).

#include <channel_models/tdl_models.h>

#include <amimo/channel/flat_channel.h>
#include <amimo/channel/selective_channel.h>

#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace amimo::channel_models {

/// One CDL table as printed (clusters in table order; angles in degrees; for the LOS models
/// row 0 is the LOS path and row 1 the Laplacian cluster at the same delay).
struct cdl_table {
  std::span<const double> normalised_delays;
  std::span<const double> powers_db;
  std::span<const double> aod_deg;
  std::span<const double> aoa_deg;
  std::span<const double> zod_deg;
  std::span<const double> zoa_deg;
  double c_asd_deg = 0.0;
  double c_asa_deg = 0.0;
  double c_zsd_deg = 0.0;
  double c_zsa_deg = 0.0;
  double xpr_db = 0.0;  ///< listed for completeness; unused (single polarisation)
  bool los = false;
};

/// The table for "cdl-a" … "cdl-e"; throws config_error for any other name.
cdl_table cdl_profile(std::string_view model);
/// True for "cdl-a" … "cdl-e".
bool is_cdl_model(std::string_view model) noexcept;
/// The 20 ray offset angles α_m of TR 38.901 Table 7.5-3 (degrees, unit-rms-ish basis).
std::span<const double> cdl_ray_offsets() noexcept;

/// Cluster parameters after angle scaling and power normalisation (table order).
struct cdl_clusters {
  std::vector<double> normalised_delays;
  std::vector<double> powers;  ///< linear, summing to 1 (LOS row included)
  std::vector<double> aod_deg, aoa_deg, zod_deg, zoa_deg;
  double c_asd_deg = 0.0, c_asa_deg = 0.0, c_zsd_deg = 0.0, c_zsa_deg = 0.0;
  bool los = false;  ///< row 0 is a single LOS ray
};
/// The clusters config.model gives after §7.7.5.1 scaling with config.cdl's desired spreads.
/// Throws config_error naming the field (asd_deg, asa_deg, zsd_deg, zsa_deg) when the
/// scaled cluster spread misses a desired one by more than 1°.
cdl_clusters scaled_cdl_clusters(const selective_channel_config& config);
/// The same from an explicit table (tests: single-cluster cases), with the same check.
cdl_clusters scaled_cdl_clusters(const cdl_table& table, const cdl_geometry& geometry);

/// Power-weighted RMS spread (degrees) of angles about their power-weighted circular mean,
/// each angle wrapped into mean ± 180°; the mean (degrees) is written to *mean if given.
double power_weighted_spread_deg(std::span<const double> powers, std::span<const double> angles_deg,
                                 double* mean = nullptr);

/// One ray as a user's realisation holds it (BS side = table departure angles).
struct cdl_ray {
  double power;
  double aod_deg, zod_deg, aoa_deg, zoa_deg;
};

/// The CDL channel model. create_selective_channel_model() builds it for "cdl-*".
class cdl_channel_model final : public channel::selective_channel_model {
 public:
  cdl_channel_model(const selective_channel_config& config, const cdl_clusters& clusters);
  ~cdl_channel_model() override;

  std::string_view name() const noexcept override;
  std::string describe() const override;
  int antennas() const noexcept override;
  int users() const noexcept override;
  std::span<const double> tap_delays() const noexcept override;
  cmat_cref tap_gain(int l) const noexcept override;
  void next_frame(rng& gen) override;
  int steps_per_frame() const noexcept override;
  void next_step() noexcept override;
  bool time_invariant() const noexcept override;

  /// Draws a fresh, independent realisation (coupling, phases, user rotations) at time 0.
  /// Does not allocate. next_frame() calls it the first time.
  void redraw(rng& gen) noexcept;
  /// The rays of user k in the current realisation (cluster-major, LOS ray first for D/E).
  std::vector<cdl_ray> rays(int user) const;
  /// Σ_l G_l: the response on subcarrier 0 (the flat-fading per-subcarrier draw).
  void sum_taps(cmat_ref h) const noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

/// A flat-fading view of a CDL model for amimo-sweep and the image demo: every draw() is a
/// fresh independent CDL realisation evaluated on one subcarrier (H = Σ_l G_l).
std::unique_ptr<channel::flat_channel_model> create_cdl_flat_model(const selective_channel_config& config);

}  // namespace amimo::channel_models
