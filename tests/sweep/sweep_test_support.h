#pragma once
// Small helpers shared by the sweep suites.

#include <amimo/sweep/sweep_runner.h>

namespace amimo::sweep::testing {

inline sweep_result run_quietly(const sweep_config& config) {
  sweep_observer observer;
  sweep_control control;
  validate(config);
  return run_sweep(config, observer, control);
}

inline const curve_point& curve(const point_result& p, detect::detector_kind kind, const std::string& solver) {
  for (const curve_point& c : p.curves) {
    if (c.detector == kind && c.solver == solver) return c;
  }
  throw std::runtime_error("curve not found");
}

}  // namespace amimo::sweep::testing
