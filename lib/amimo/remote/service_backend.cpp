// create_backend (service_policy.h): the service's backends, made from a resolved spec
// without any file access (kept apart so the fuzz target links only the policy).
#include <amimo/analog/cost_model.h>
#include <amimo/remote/service_policy.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/digital_solver.h>

namespace amimo::remote {

std::unique_ptr<solver::linear_solver> create_backend(const resolved_spec& spec, int max_size, std::uint64_t seed,
                                                      iteration_check check) {
  if (spec.backend == "digital-f64") return solver::create_digital_solver(solver::digital_precision::f64, max_size);
  if (spec.backend == "digital-f32") return solver::create_digital_solver(solver::digital_precision::f32, max_size);
  const analog::analog_mode mode = spec.backend == "analog-lp" ? analog::analog_mode::lp_only : analog::analog_mode::refine;
  auto backend = analog::create_analog_backend(*spec.profile, mode, max_size, seed);
  if (check) {
    backend->engine().set_iterate_observer([check = std::move(check)](int, int, std::span<const double>) { check(); });
  }
  return backend;
}

std::unique_ptr<solver::batch_solver> create_batch_backend(const resolved_spec& spec, solver::linear_solver& backend,
                                                           int max_size) {
  if (spec.backend == "digital-f64" || spec.backend == "digital-f32") {
    return solver::create_digital_batch_solver(spec.backend == "digital-f32", max_size);
  }
  return std::make_unique<solver::per_matrix_batch_solver>(backend, max_size);
}

}  // namespace amimo::remote
