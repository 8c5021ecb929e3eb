#include <amimo/analog/cost_model.h>
#include <amimo/core/error.h>
#include <amimo/remote/remote_batch_solver.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/service_policy.h>
#include <amimo/solver/digital_solver.h>
#include <amimo/solver/solver_factory.h>

#if defined(AMIMO_HAVE_CUDA)
#include <amimo/gpu/batched_gpu_solver.h>
#include <amimo/gpu/gpu_batch_solver.h>
#endif

#include <algorithm>
#include <functional>

namespace amimo::solver {
namespace {

struct backend_entry {
  const char* name;
  std::vector<std::string> option_keys;
  std::function<std::unique_ptr<linear_solver>(const solver_spec&, int, std::uint64_t)> create;
  std::function<void(const solver_spec&)> validate;
  bool open_options = false;  ///< options beyond option_keys are passed through (remote)
};

// The analog profile a spec asks for: "profile" (built-in name or YAML path, default
// analog::default_profile_name) with the other options applied on top.
analog::analog_profile analog_profile_of(const solver_spec& spec) { return analog::profile_from_options(spec.options); }

std::vector<std::string> analog_keys() {
  std::vector<std::string> keys = analog::analog_option_keys();
  keys.emplace_back("profile");
  return keys;
}

std::unique_ptr<linear_solver> make_analog(const solver_spec& spec, int n, std::uint64_t seed, analog::analog_mode mode) {
  return analog::create_analog_backend(analog_profile_of(spec), mode, n, seed);
}

const std::vector<backend_entry>& backends() {
  static const std::vector<backend_entry> table = {
      {"digital-f64", {},
       [](const solver_spec&, int n, std::uint64_t) {
         return create_digital_solver(digital_precision::f64, n);
       },
       nullptr, false},
      {"digital-f32", {},
       [](const solver_spec&, int n, std::uint64_t) {
         return create_digital_solver(digital_precision::f32, n);
       },
       nullptr, false},
      {"analog", analog_keys(),
       [](const solver_spec& spec, int n, std::uint64_t seed) {
         return make_analog(spec, n, seed, analog::analog_mode::refine);
       },
       [](const solver_spec& spec) { (void)analog_profile_of(spec); }, false},
      {"analog-lp", analog_keys(),
       [](const solver_spec& spec, int n, std::uint64_t seed) {
         return make_analog(spec, n, seed, analog::analog_mode::lp_only);
       },
       [](const solver_spec& spec) { (void)analog_profile_of(spec); }, false},
      {"remote", {"endpoint", "backend", "timeout-ms", "retries", "element", "curve-server-key", "curve-client-key", "on-failure",
                  "batch-chunk", "window"},
       [](const solver_spec& spec, int n, std::uint64_t seed) -> std::unique_ptr<linear_solver> {
         return std::make_unique<remote::remote_solver>(remote::parse_remote_options(spec.options), n, seed);
       },
       [](const solver_spec& spec) {
         const remote::remote_options options = remote::parse_remote_options(spec.options);
         remote::validate_client_spec(options.backend);
       },
       true},
  };
  return table;
}

// "gpu": a batch-only backend (no per-matrix form), present in CUDA builds; usable only
// where a CUDA device is. Throws config_error saying which of the two is missing.
constexpr const char* kGpu = "gpu";
void check_gpu(const solver_spec& spec) {
  if (!spec.options.empty()) throw config_error("solver 'gpu' has no option '" + spec.options.begin()->first + "'");
#if defined(AMIMO_HAVE_CUDA)
  const gpu::device_info devices = gpu::query_devices();
  if (devices.count <= 0) throw config_error("solver 'gpu' cannot run here: " + devices.error);
#else
  throw config_error("solver 'gpu' is not available: this build has no CUDA (configure with -DAMIMO_WITH_CUDA=ON "
                     "and a CUDA toolkit)");
#endif
}

const backend_entry& find_backend(const solver_spec& spec) {
  for (const backend_entry& entry : backends()) {
    if (spec.name == entry.name) {
      for (const auto& [key, value] : spec.options) {
        if (!entry.open_options &&
            std::find(entry.option_keys.begin(), entry.option_keys.end(), key) == entry.option_keys.end()) {
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

void validate_solver_spec(const solver_spec& spec) {
  if (spec.name == kGpu) return check_gpu(spec);
  const backend_entry& entry = find_backend(spec);
  if (entry.validate) entry.validate(spec);
}

std::unique_ptr<linear_solver> create_linear_solver(const solver_spec& spec, int max_size,
                                                    std::uint64_t seed) {
  if (max_size <= 0) throw config_error("solver size must be positive");
  if (spec.name == kGpu) {
    check_gpu(spec);
    throw config_error("solver 'gpu' is a batch backend only: it runs where detection is batched (amimo-bs, "
                       "batch_detector), not through the per-matrix interface");
  }
  return find_backend(spec).create(spec, max_size, seed);
}

bool has_native_batch(const solver_spec& spec) {
#if defined(AMIMO_HAVE_CUDA)
  if (spec.name == kGpu) return true;
#endif
  return spec.name == "digital-f32" || spec.name == "digital-f64" || spec.name == "remote";
}

bool latency_bound(const solver_spec& spec) noexcept { return spec.name == "remote"; }

std::unique_ptr<batch_solver> create_batch_solver(const solver_spec& spec, int max_size, std::uint64_t seed) {
  if (max_size <= 0) throw config_error("solver size must be positive");
  if (spec.name == kGpu) {
    check_gpu(spec);
#if defined(AMIMO_HAVE_CUDA)
    try {
      return gpu::create_gpu_batch_solver(max_size);
    } catch (const gpu::gpu_error& e) {
      throw config_error(std::string("solver 'gpu': ") + e.what());
    }
#endif
  }
  const backend_entry& entry = find_backend(spec);
  if (spec.name == "remote") {
    return std::make_unique<remote::remote_batch_solver>(remote::parse_remote_options(spec.options), max_size, seed);
  }
  if (has_native_batch(spec)) return create_digital_batch_solver(spec.name == "digital-f32", max_size);
  return std::make_unique<per_matrix_batch_solver>(entry.create(spec, max_size, seed), max_size);
}

solver_spec parse_solver_entry(const std::string& entry) {
  solver_spec spec;
  const std::size_t colon = entry.find_first_of(":;");
  spec.name = entry.substr(0, colon);
  if (spec.name.empty()) throw config_error("solver entry '" + entry + "' has no backend name");
  if (colon == std::string::npos) return spec;
  std::string last_key;
  std::size_t pos = colon;
  while (pos < entry.size()) {
    const char separator = entry[pos];
    const std::size_t next = entry.find_first_of(":;", pos + 1);
    const std::string piece = entry.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    pos = next == std::string::npos ? entry.size() : next;
    const std::size_t eq = piece.find('=');
    if (eq == std::string::npos) {
      // A ':' inside a value (an endpoint tcp://host:port, a path): continue that value.
      if (last_key.empty() || separator != ':') {
        throw config_error("solver entry '" + entry + "': option '" + piece + "' is not key=value");
      }
      spec.options[last_key] += separator + piece;
      continue;
    }
    const std::string key = piece.substr(0, eq);
    if (key.empty()) throw config_error("solver entry '" + entry + "': option '" + piece + "' has no key");
    if (spec.options.count(key) != 0) {
      throw config_error("solver entry '" + entry + "': option '" + key + "' given twice");
    }
    spec.options[key] = piece.substr(eq + 1);
    last_key = key;
  }
  return spec;
}

std::string to_entry_string(const solver_spec& spec) {
  std::string text = spec.name;
  for (const auto& [key, value] : spec.options) text += ":" + key + "=" + value;
  return text;
}

}  // namespace amimo::solver
