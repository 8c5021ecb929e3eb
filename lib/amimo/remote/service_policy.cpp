#include <amimo/core/error.h>
#include <amimo/remote/service_policy.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

namespace amimo::remote {
namespace {

bool is_analog(const std::string& name) { return name == "analog" || name == "analog-lp"; }

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '-';
  });
}

// Flow collections ([..], {..}) nest by brackets; deep nesting is refused before the YAML
// parser sees it (block nesting is bounded by the size cap: each level costs indentation).
void check_flow_depth(std::string_view text) {
  int depth = 0;
  for (const char ch : text) {
    if (ch == '[' || ch == '{') {
      if (++depth > 8) throw wire_error(error_code::bad_spec, "inline profile nests deeper than 8 flow levels");
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace

profile_registry load_profile_registry(const std::string& profile_dir) {
  profile_registry registry;
  for (const std::string& name : analog::builtin_profile_names()) {
    registry.yaml[name] = std::string(analog::builtin_profile_yaml(name));
  }
  if (profile_dir.empty()) return registry;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(profile_dir, ec)) throw io_error("--profile-dir '" + profile_dir + "' is not a directory");
  std::vector<fs::path> files;
  for (fs::directory_iterator it(profile_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".yaml") continue;
    if (files.size() >= max_profile_dir_entries) {
      throw io_error("--profile-dir '" + profile_dir + "' holds more than " + std::to_string(max_profile_dir_entries) +
                     " profiles");
    }
    files.push_back(it->path());
  }
  if (ec) throw io_error("cannot list --profile-dir '" + profile_dir + "': " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string name = file.stem().string();
    if (!valid_profile_name(name)) throw config_error("profile file name '" + file.string() + "' is not [A-Za-z0-9._-]{1,64}");
    if (registry.yaml.count(name) != 0) throw config_error("profile '" + name + "' in --profile-dir clashes with a built-in");
    // read_profile_file: regular files only (no FIFO, device or directory), size-capped.
    std::string text = analog::read_profile_file(file.string());
    (void)analog::parse_analog_profile(text, file.string());  // refused at startup, not per request
    registry.yaml[name] = std::move(text);
  }
  return registry;
}

resolved_spec resolve_wire_spec(const solver::solver_spec& spec, const profile_registry& profiles) {
  resolved_spec out;
  out.backend = spec.name;
  if (spec.name == "digital-f64" || spec.name == "digital-f32") {
    if (!spec.options.empty()) {
      throw wire_error(error_code::bad_spec, "backend '" + spec.name + "' takes no options");
    }
    return out;
  }
  if (!is_analog(spec.name)) {
    throw wire_error(error_code::bad_spec, "backend must be digital-f64|digital-f32|analog|analog-lp");
  }
  const auto named = spec.options.find("profile");
  const auto inline_yaml = spec.options.find("profile-yaml");
  if (named != spec.options.end() && inline_yaml != spec.options.end()) {
    throw wire_error(error_code::bad_spec, "give either 'profile' (a name) or 'profile-yaml' (inline text), not both");
  }
  std::map<std::string, std::string> tuning;
  const std::vector<std::string>& keys = analog::analog_option_keys();
  for (const auto& [key, value] : spec.options) {
    if (key == "profile" || key == "profile-yaml") continue;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      throw wire_error(error_code::bad_spec, "analog option '" + key.substr(0, 64) + "' is not offered");
    }
    tuning[key] = value;
  }
  try {
    if (inline_yaml != spec.options.end()) {
      if (inline_yaml->second.size() > 2 * max_inline_profile_bytes) {
        throw wire_error(error_code::bad_spec, "inline profile larger than " + std::to_string(max_inline_profile_bytes) + " bytes");
      }
      const std::string text = unescape_option_value(inline_yaml->second);
      if (text.size() > max_inline_profile_bytes) {
        throw wire_error(error_code::bad_spec, "inline profile larger than " + std::to_string(max_inline_profile_bytes) + " bytes");
      }
      check_flow_depth(text);
      out.profile = analog::parse_analog_profile(text, "inline profile");
    } else {
      const std::string name = named == spec.options.end() ? std::string(analog::default_profile_name) : named->second;
      const auto it = valid_profile_name(name) ? profiles.yaml.find(name) : profiles.yaml.end();
      if (it == profiles.yaml.end()) {
        std::string offered;
        for (const auto& entry : profiles.yaml) offered += (offered.empty() ? "" : ", ") + entry.first;
        // The value is not echoed: it may be a path, and names are all a client may give.
        throw wire_error(error_code::bad_spec, "profile is not one this service offers by name (offered: " + offered +
                                                   "; or send the profile's content as profile-yaml)");
      }
      out.profile = analog::parse_analog_profile(it->second, "profile '" + name + "'");
    }
    analog::apply_analog_options(*out.profile, tuning);
  } catch (const config_error& e) {
    throw wire_error(error_code::bad_spec, e.what());
  }
  return out;
}

void validate_client_spec(const solver::solver_spec& spec) {
  static const profile_registry builtin = load_profile_registry("");
  solver::solver_spec copy = spec;
  const auto it = copy.options.find("profile");
  if (it != copy.options.end() && builtin.yaml.count(it->second) == 0 && valid_profile_name(it->second)) {
    copy.options.erase(it);
  }
  try {
    (void)resolve_wire_spec(copy, builtin);
  } catch (const wire_error& e) {
    throw config_error(std::string("remote backend: ") + e.what());
  }
}

double request_work(const resolved_spec& spec, const request& r) {
  double work = 0.0;
  double mvm_factor = 1.0;  // multiply-adds per matrix element per iteration
  double iterations = 1.0;
  double embed = 1.0;       // analog: complex n → real 2n
  if (spec.profile) {
    const analog::analog_profile& p = *spec.profile;
    const double chunks = std::ceil(static_cast<double>(p.refinement.input_bits) / std::max(1, p.circuit.mvm_dac_bits));
    mvm_factor = static_cast<double>(p.refinement.slices) * chunks + 1.0;
    iterations = spec.backend == "analog-lp" ? 1.0 : static_cast<double>(p.refinement.iterations);
    embed = 2.0;
  }
  for (const request_item& item : r.items) {
    if (item.op == item_op::solve_batch) {
      // Every system of the batch: programming/factorisation plus its solves.
      const double n = embed * static_cast<double>(item.rows);
      const double m = static_cast<double>(item.cols);
      const double program = n * n * n + (spec.profile ? static_cast<double>(spec.profile->refinement.slices) * n * n : 0.0);
      work += static_cast<double>(item.count) * (program + n * n * m * mvm_factor * iterations);
      continue;
    }
    const double n = embed * static_cast<double>(item.data.rows());
    const double m = static_cast<double>(item.data.cols());
    if (item.op == item_op::set_matrix) {
      work += n * n * n + (spec.profile ? static_cast<double>(spec.profile->refinement.slices) * n * n : 0.0);
    } else if (item.op == item_op::solve) {
      work += n * n * m * mvm_factor * iterations;
    }
  }
  return work;
}

std::size_t reply_bytes(const request& r) {
  const std::size_t scalar = r.element == element_type::cf32 ? 4 : 8;
  std::size_t total = header_bytes;
  for (const request_item& item : r.items) {
    total += result_header_bytes;
    if (item.op == item_op::solve) total += static_cast<std::size_t>(item.data.size()) * 2 * scalar;
    if (item.op == item_op::solve_batch) {
      total += static_cast<std::size_t>(item.count) *
               (batch_status_bytes + static_cast<std::size_t>(item.rows) * item.cols * 2 * scalar);
    }
  }
  return total;
}

std::size_t session_bytes(const resolved_spec& spec, std::uint32_t max_size) {
  const double n = static_cast<double>(max_size);
  // Digital: the matrix and its factors (complex, 16 B) and a reply cache of n×n.
  double total = 4.0 * n * n * 16.0;
  if (spec.profile) {
    // Analog: real embedding 2n; S slices + programmed/perturbed copies + factors (8 B).
    const double nr = 2.0 * n;
    total += (static_cast<double>(spec.profile->refinement.slices) + 6.0) * nr * nr * 8.0;
  }
  return static_cast<std::size_t>(total) + 64 * 1024;
}

}  // namespace amimo::remote
