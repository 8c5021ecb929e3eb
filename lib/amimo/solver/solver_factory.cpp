#include <amimo/core/error.h>
#include <amimo/solver/digital_solver.h>
#include <amimo/solver/solver_factory.h>

#include <functional>

namespace amimo::solver {
namespace {

struct backend_entry {
  const char* name;
  std::vector<std::string> option_keys;
  std::function<std::unique_ptr<linear_solver>(const solver_spec&, int, std::uint64_t)> create;
};

const std::vector<backend_entry>& backends() {
  static const std::vector<backend_entry> table = {
      {"digital-f64", {},
       [](const solver_spec&, int n, std::uint64_t) {
         return create_digital_solver(digital_precision::f64, n);
       }},
      {"digital-f32", {},
       [](const solver_spec&, int n, std::uint64_t) {
         return create_digital_solver(digital_precision::f32, n);
       }},
  };
  return table;
}

const backend_entry& find_backend(const solver_spec& spec) {
  for (const backend_entry& entry : backends()) {
    if (spec.name == entry.name) {
      for (const auto& [key, value] : spec.options) {
        if (std::find(entry.option_keys.begin(), entry.option_keys.end(), key) ==
            entry.option_keys.end()) {
          throw config_error("solver '" + spec.name + "' has no option '" + key + "'");
        }
      }
      return entry;
    }
  }
  std::string names;
  for (const backend_entry& entry : backends()) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  throw config_error("unknown solver '" + spec.name + "' (available: " + names + ")");
}

}  // namespace

std::vector<std::string> available_solvers() {
  std::vector<std::string> names;
  for (const backend_entry& entry : backends()) names.emplace_back(entry.name);
  return names;
}

void validate_solver_spec(const solver_spec& spec) { (void)find_backend(spec); }

std::unique_ptr<linear_solver> create_linear_solver(const solver_spec& spec, int max_size,
                                                    std::uint64_t seed) {
  if (max_size <= 0) throw config_error("solver size must be positive");
  return find_backend(spec).create(spec, max_size, seed);
}

}  // namespace amimo::solver
