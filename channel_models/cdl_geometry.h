#pragma once
// Options of the CDL models (cdl_models.h) shared by the selective and flat configurations.

#include <string>
#include <utility>
#include <vector>

namespace amimo::channel_models {

/// Geometry and angle options of the CDL models (cdl_models.h); ignored by the others.
struct cdl_geometry {
  int array_rows = 1;            ///< BS array rows (vertical); 1 = ULA; columns = antennas / rows
  double element_spacing = 0.5;  ///< BS element spacing, wavelengths (both directions)
  double asd_deg = 0.0;          ///< desired RMS spreads (38.901 §7.7.5.1); 0 = the table's
  double asa_deg = 0.0;
  double zsd_deg = 0.0;
  double zsa_deg = 0.0;
  double user_spread_deg = 0.0;   ///< each user's BS azimuths rotated by U(±spread/2); 0 = none
  double ue_direction_deg = 0.0;  ///< azimuth of the users' (horizontal) motion
};

/// The options as (JSON key, value) pairs, for the outputs that record them.
inline std::vector<std::pair<std::string, double>> cdl_geometry_fields(const cdl_geometry& g) {
  return {{"array_rows", g.array_rows},          {"element_spacing_wavelengths", g.element_spacing},
          {"desired_asd_deg", g.asd_deg},        {"desired_asa_deg", g.asa_deg},
          {"desired_zsd_deg", g.zsd_deg},        {"desired_zsa_deg", g.zsa_deg},
          {"user_spread_deg", g.user_spread_deg}, {"ue_direction_deg", g.ue_direction_deg}};
}

}  // namespace amimo::channel_models
