#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/yaml_strict.h>

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "analog_profiles_embedded.h"  // generated: kEmbeddedProfiles

namespace amimo::analog {
namespace {

// One profile field: how to read it from text and print it back.
struct field {
  const char* section;
  const char* key;
  std::function<void(analog_profile&, const std::string&)> set;
  std::function<std::string(const analog_profile&)> get;
};

std::string path_of(const field& f) { return std::string(f.section) + "." + f.key; }

double to_double(const std::string& text, const std::string& what) {
  std::string t = text;
  if (t == ".inf" || t == "inf" || t == "+.inf") return std::numeric_limits<double>::infinity();
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || ptr != t.data() + t.size() || std::isnan(value)) {
    throw config_error(what + ": '" + text + "' is not a number");
  }
  return value;
}

int to_int(const std::string& text, const std::string& what) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw config_error(what + ": '" + text + "' is not an integer");
  }
  return value;
}

bool to_bool(const std::string& text, const std::string& what) {
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  throw config_error(what + ": '" + text + "' is not true/false");
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

#define AMIMO_DOUBLE(sec, member, name)                                                                 \
  field {                                                                                               \
    #sec, name, [](analog_profile& p, const std::string& v) { p.sec.member = to_double(v, #sec "." name); }, \
        [](const analog_profile& p) { return num(p.sec.member); }                                      \
  }
#define AMIMO_INT(sec, member, name)                                                                 \
  field {                                                                                            \
    #sec, name, [](analog_profile& p, const std::string& v) { p.sec.member = to_int(v, #sec "." name); }, \
        [](const analog_profile& p) { return std::to_string(p.sec.member); }                        \
  }

const std::vector<field>& fields() {
  static const std::vector<field> table = {
      AMIMO_INT(device, bits, "bits"),
      AMIMO_DOUBLE(device, g_min_us, "g_min_us"),
      AMIMO_DOUBLE(device, g_max_us, "g_max_us"),
      AMIMO_DOUBLE(device, program_sigma, "program_sigma"),
      AMIMO_DOUBLE(device, stuck_on, "stuck_on"),
      AMIMO_DOUBLE(device, stuck_off, "stuck_off"),
      AMIMO_DOUBLE(device, read_noise, "read_noise"),
      AMIMO_DOUBLE(device, drift_nu, "drift_nu"),
      AMIMO_DOUBLE(device, drift_nu_sigma, "drift_nu_sigma"),
      AMIMO_DOUBLE(device, drift_t0_s, "drift_t0_s"),
      AMIMO_DOUBLE(device, time_since_programming_s, "time_since_programming_s"),
      field{"device", "drift_calibration",
            [](analog_profile& p, const std::string& v) {
              p.device.drift_calibration = to_bool(v, "device.drift_calibration");
            },
            [](const analog_profile& p) { return std::string(p.device.drift_calibration ? "true" : "false"); }},
      AMIMO_DOUBLE(device, wire_ohm, "wire_ohm"),
      AMIMO_DOUBLE(device, mean_pulses, "mean_pulses"),
      AMIMO_INT(device, max_pulses, "max_pulses"),
      AMIMO_DOUBLE(device, pulse_s, "pulse_s"),
      AMIMO_DOUBLE(device, pulse_j, "pulse_j"),
      AMIMO_INT(device, parallel_devices, "parallel_devices"),
      AMIMO_DOUBLE(device, endurance_cycles, "endurance_cycles"),
      AMIMO_INT(circuit, array_size, "array_size"),
      AMIMO_DOUBLE(circuit, opamp_gain, "opamp_gain"),
      AMIMO_DOUBLE(circuit, opamp_gbw_hz, "opamp_gbw_hz"),
      AMIMO_DOUBLE(circuit, opamp_power_w, "opamp_power_w"),
      AMIMO_DOUBLE(circuit, read_voltage_v, "read_voltage_v"),
      AMIMO_INT(circuit, lp_dac_bits, "lp_dac_bits"),
      AMIMO_INT(circuit, lp_adc_bits, "lp_adc_bits"),
      AMIMO_DOUBLE(circuit, lp_headroom, "lp_headroom"),
      field{"circuit", "lp_mapping",
            [](analog_profile& p, const std::string& v) {
              if (v != "paper" && v != "feedback") {
                throw config_error("circuit.lp_mapping: '" + v + "' is not paper|feedback");
              }
              p.circuit.lp_mapping = v;
            },
            [](const analog_profile& p) { return p.circuit.lp_mapping; }},
      AMIMO_DOUBLE(circuit, feedback_sigma, "feedback_sigma"),
      AMIMO_INT(circuit, mvm_dac_bits, "mvm_dac_bits"),
      AMIMO_INT(circuit, mvm_adc_bits, "mvm_adc_bits"),
      AMIMO_DOUBLE(circuit, mvm_read_s, "mvm_read_s"),
      AMIMO_DOUBLE(circuit, adc_fom_j, "adc_fom_j"),
      AMIMO_DOUBLE(circuit, dac_fom_j, "dac_fom_j"),
      AMIMO_DOUBLE(circuit, adc_conversion_s, "adc_conversion_s"),
      AMIMO_DOUBLE(circuit, dac_conversion_s, "dac_conversion_s"),
      AMIMO_DOUBLE(circuit, digital_j_per_op, "digital_j_per_op"),
      AMIMO_INT(refinement, slices, "slices"),
      AMIMO_INT(refinement, input_bits, "input_bits"),
      AMIMO_INT(refinement, iterations, "iterations"),
      AMIMO_DOUBLE(refinement, tolerance, "tolerance"),
      AMIMO_DOUBLE(refinement, divergence_growth, "divergence_growth"),
      field{"refinement", "equilibrate",
            [](analog_profile& p, const std::string& v) {
              p.refinement.equilibrate = to_bool(v, "refinement.equilibrate");
            },
            [](const analog_profile& p) { return std::string(p.refinement.equilibrate ? "true" : "false"); }},
      field{"refinement", "faults",
            [](analog_profile& p, const std::string& v) {
              if (v == "correct") {
                p.refinement.faults = fault_policy::correct;
              } else if (v == "fallback") {
                p.refinement.faults = fault_policy::fallback;
              } else {
                throw config_error("refinement.faults: '" + v + "' is not correct|fallback");
              }
            },
            [](const analog_profile& p) {
              return std::string(p.refinement.faults == fault_policy::correct ? "correct" : "fallback");
            }},
      field{"refinement", "fallback",
            [](analog_profile& p, const std::string& v) { p.refinement.fallback = v; },
            [](const analog_profile& p) { return p.refinement.fallback; }},
  };
  return table;
}

#undef AMIMO_DOUBLE
#undef AMIMO_INT

const field* find_field(const std::string& section, const std::string& key) {
  for (const field& f : fields()) {
    if (section == f.section && key == f.key) return &f;
  }
  return nullptr;
}

// circuit.lp_diagonal / option lp-diagonal, the older spelling: "array" is the paper mapping.
std::string legacy_mapping(const std::string& value) {
  if (value == "array") return "paper";
  if (value == "feedback") return value;
  throw config_error("circuit.lp_diagonal: '" + value + "' is not array|feedback (now circuit.lp_mapping: paper|feedback)");
}

void check(bool ok, const std::string& message) {
  if (!ok) throw config_error("analog profile: " + message);
}

}  // namespace

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const embedded_profile& p : kEmbeddedProfiles) names.emplace_back(p.name);
  return names;
}

std::string_view builtin_profile_yaml(std::string_view name) {
  for (const embedded_profile& p : kEmbeddedProfiles) {
    if (p.name == name) return p.yaml;
  }
  std::string names;
  for (const embedded_profile& p : kEmbeddedProfiles) names += (names.empty() ? "" : ", ") + std::string(p.name);
  throw config_error("unknown analog profile '" + std::string(name) + "' (built-in: " + names +
                     "; or give a path to a .yaml file)");
}

namespace {

analog_profile profile_from_yaml(const YAML::Node& root, const std::string& where);

}  // namespace

analog_profile parse_analog_profile(std::string_view yaml_text, std::string_view origin) {
  const std::string where(origin);
  YAML::Node root;
  try {
    root = yaml_strict::load_one_document(yaml_text);
  } catch (const YAML::Exception& e) {
    throw config_error(where + ": not valid YAML: " + e.what());
  } catch (const config_error& e) {
    throw config_error(where + ": " + e.what());
  }
  // Any conversion yaml-cpp refuses while walking the tree (a mapping or a sequence used as
  // a key, a non-text 'source') is the profile's error too, never a YAML exception: the
  // text may come from the network (amimo-solverd's inline profiles).
  try {
    return profile_from_yaml(root, where);
  } catch (const YAML::Exception& e) {
    throw config_error(where + ": " + e.what());
  }
}

namespace {

analog_profile profile_from_yaml(const YAML::Node& root, const std::string& where) {
  if (!root.IsMap()) throw config_error(where + ": an analog profile is a YAML mapping");
  // A key twice (`bits: 3` then `bits: 6`, or a second `device:` section) is refused, not
  // merged or overridden: whichever copy was meant, the profile is ambiguous.
  yaml_strict::refuse_repeated_keys(root, where + ": ");
  analog_profile profile;
  for (const auto& top : root) {
    const std::string section = top.first.as<std::string>();
    if (section == "name" || section == "description") {
      if (!top.second.IsScalar()) throw config_error(where + ": '" + section + "' must be text");
      (section == "name" ? profile.name : profile.description) = top.second.as<std::string>();
      continue;
    }
    if (section != "device" && section != "circuit" && section != "refinement") {
      throw config_error(where + ": unknown section '" + section + "' (device, circuit, refinement)");
    }
    if (!top.second.IsMap()) throw config_error(where + ": section '" + section + "' must be a mapping");
    yaml_strict::refuse_repeated_keys(top.second, where + ": section '" + section + "': ");
    for (const auto& entry : top.second) {
      std::string key = entry.first.as<std::string>();
      bool legacy_diagonal = false;
      if (section == "circuit" && key == "lp_diagonal") {  // older spelling: array|feedback
        key = "lp_mapping";
        legacy_diagonal = true;
      }
      const field* f = find_field(section, key);
      if (f == nullptr) throw config_error(where + ": unknown key '" + section + "." + key + "'");
      YAML::Node value = entry.second;
      if (value.IsMap()) {
        yaml_strict::refuse_repeated_keys(value, where + ": '" + section + "." + key + "': ");
        if (!value["value"]) throw config_error(where + ": '" + section + "." + key + "' has no 'value'");
        if (value["source"]) profile.sources[path_of(*f)] = value["source"].as<std::string>();
        value = value["value"];
      }
      if (!value.IsScalar()) throw config_error(where + ": '" + section + "." + key + "' must be a scalar");
      try {
        f->set(profile, legacy_diagonal ? legacy_mapping(value.Scalar()) : value.Scalar());
      } catch (const config_error& e) {
        throw config_error(where + ": " + e.what());
      }
    }
  }
  try {
    validate(profile);
  } catch (const config_error& e) {
    throw config_error(where + ": " + e.what());
  }
  return profile;
}

}  // namespace

analog_profile load_analog_profile(std::string_view name_or_path) {
  const std::string text(name_or_path);
  const bool is_path = text.find('/') != std::string::npos ||
                       (text.size() > 5 && text.compare(text.size() - 5, 5, ".yaml") == 0);
  if (!is_path) return parse_analog_profile(builtin_profile_yaml(text), "profile '" + text + "'");
  return parse_analog_profile(read_profile_file(text), text);
}

std::string read_profile_file(const std::string& path, std::size_t max_bytes) {
  // Regular files only (a FIFO never blocks, a device is refused), size-capped.
  return read_bounded_file(path, max_bytes, "analog profile");
}

void validate(const analog_profile& p) {
  const device_params& d = p.device;
  const circuit_params& c = p.circuit;
  const refinement_params& r = p.refinement;
  check(d.bits >= 1 && d.bits <= 6, "device.bits must be 1…6");
  check(d.g_min_us >= 0 && d.g_max_us > d.g_min_us && std::isfinite(d.g_max_us), "need 0 ≤ g_min_us < g_max_us");
  check(d.program_sigma >= 0 && d.program_sigma < 1, "device.program_sigma must be in [0, 1)");
  check(d.stuck_on >= 0 && d.stuck_off >= 0 && d.stuck_on + d.stuck_off <= 0.5,
        "stuck_on + stuck_off must be in [0, 0.5]");
  check(d.read_noise >= 0 && d.read_noise < 1, "device.read_noise must be in [0, 1)");
  check(d.drift_nu >= 0 && d.drift_nu < 1 && d.drift_nu_sigma >= 0 && d.drift_nu_sigma < 1,
        "drift_nu and drift_nu_sigma must be in [0, 1)");
  // An infinite t0 would silently switch drift off (t never exceeds it).
  check(d.drift_t0_s > 0 && std::isfinite(d.drift_t0_s) && d.time_since_programming_s >= 0 &&
            std::isfinite(d.time_since_programming_s),
        "drift_t0_s must be positive and finite, time_since_programming_s ≥ 0 and finite");
  check(d.wire_ohm >= 0 && d.wire_ohm < 1e4, "device.wire_ohm must be in [0, 1e4)");
  // Every count, time and energy the cost model multiplies must be finite: an infinite one
  // (YAML .inf) would give Inf, or NaN where its count is 0, as a modelled figure. Only the
  // op-amp gain may be infinite (an ideal op-amp).
  // Every verifying device takes mean_pulses pulses in this model: a whole number (a
  // fractional value was rounded for the pulse count but not for the endurance).
  check(d.mean_pulses >= 1 && d.max_pulses >= d.mean_pulses && d.mean_pulses == std::floor(d.mean_pulses),
        "need 1 ≤ mean_pulses ≤ max_pulses, mean_pulses a whole number of pulses");
  check(d.pulse_s >= 0 && d.pulse_j >= 0 && d.parallel_devices >= 1 && d.endurance_cycles >= 1 &&
            std::isfinite(d.pulse_s) && std::isfinite(d.pulse_j) && std::isfinite(d.endurance_cycles),
        "programming costs must be finite and non-negative, parallel_devices ≥ 1, endurance_cycles finite and ≥ 1");
  check(c.array_size >= 2 && c.array_size <= 256, "circuit.array_size must be 2…256");
  check(c.opamp_gain > 1 && c.opamp_gbw_hz > 0 && std::isfinite(c.opamp_gbw_hz) && c.opamp_power_w >= 0 &&
            std::isfinite(c.opamp_power_w),
        "op-amp gain must exceed 1, gbw positive, power finite and non-negative");
  check(c.read_voltage_v > 0 && std::isfinite(c.read_voltage_v), "circuit.read_voltage_v must be positive");
  check(c.lp_dac_bits >= 2 && c.lp_dac_bits <= 24 && c.lp_adc_bits >= 2 && c.lp_adc_bits <= 24,
        "LP-INV DAC/ADC bits must be 2…24");
  check(c.lp_headroom >= 1 && c.lp_headroom <= 16, "circuit.lp_headroom must be 1…16");
  check(c.lp_mapping == "paper" || c.lp_mapping == "feedback", "circuit.lp_mapping must be paper|feedback");
  check(c.feedback_sigma >= 0 && c.feedback_sigma < 0.5, "circuit.feedback_sigma must be in [0, 0.5)");
  check(c.mvm_dac_bits >= 1 && c.mvm_dac_bits <= 16 && c.mvm_adc_bits >= 2 && c.mvm_adc_bits <= 24,
        "HP-MVM DAC bits must be 1…16, ADC bits 2…24");
  check(c.mvm_read_s >= 0 && c.adc_conversion_s >= 0 && c.dac_conversion_s >= 0 && std::isfinite(c.mvm_read_s) &&
            std::isfinite(c.adc_conversion_s) && std::isfinite(c.dac_conversion_s) && c.adc_fom_j >= 0 && c.dac_fom_j >= 0 &&
            c.digital_j_per_op >= 0 && std::isfinite(c.adc_fom_j) && std::isfinite(c.dac_fom_j) &&
            std::isfinite(c.digital_j_per_op),
        "times and energies must be finite and non-negative");
  check(r.slices >= 1 && r.slices * d.bits <= 48, "refinement.slices must be ≥ 1 with slices·bits ≤ 48");
  check(r.input_bits >= 1 && r.input_bits <= 48, "refinement.input_bits must be 1…48");
  check(r.iterations >= 1 && r.iterations <= 64, "refinement.iterations must be 1…64");
  check(r.tolerance >= 0 && r.tolerance < 1, "refinement.tolerance must be in [0, 1)");
  check(r.divergence_growth >= 1 && std::isfinite(r.divergence_growth), "refinement.divergence_growth must be ≥ 1");
  check(r.fallback == "digital-f64" || r.fallback == "digital-f32", "refinement.fallback must be digital-f64|digital-f32");
}

const std::vector<std::string>& analog_option_keys() {
  static const std::vector<std::string> keys = {"iters", "tol", "array", "slices", "bits", "time",
                                                "stuck", "read-noise", "program-sigma", "faults",
                                                "equilibrate", "mapping", "lp-diagonal", "mvm-dac-bits",
                                                "adc-conversion-s", "dac-conversion-s", "mvm-read-s"};
  return keys;
}

void apply_analog_options(analog_profile& profile, const std::map<std::string, std::string>& options) {
  for (const auto& [key, value] : options) {
    const std::string what = "analog option '" + key + "'";
    if (key == "profile") continue;
    if (key == "iters") {
      profile.refinement.iterations = to_int(value, what);
    } else if (key == "tol") {
      profile.refinement.tolerance = to_double(value, what);
    } else if (key == "array") {
      profile.circuit.array_size = to_int(value, what);
    } else if (key == "slices") {
      profile.refinement.slices = to_int(value, what);
    } else if (key == "bits") {
      profile.device.bits = to_int(value, what);
    } else if (key == "time") {
      profile.device.time_since_programming_s = to_double(value, what);
    } else if (key == "stuck") {
      const double f = to_double(value, what);
      profile.device.stuck_on = f / 2;
      profile.device.stuck_off = f / 2;
    } else if (key == "read-noise") {
      profile.device.read_noise = to_double(value, what);
    } else if (key == "program-sigma") {
      profile.device.program_sigma = to_double(value, what);
    } else if (key == "faults" || key == "equilibrate") {
      find_field("refinement", key)->set(profile, value);
    } else if (key == "mvm-dac-bits") {
      profile.circuit.mvm_dac_bits = to_int(value, what);
    } else if (key == "adc-conversion-s") {
      profile.circuit.adc_conversion_s = to_double(value, what);
    } else if (key == "dac-conversion-s") {
      profile.circuit.dac_conversion_s = to_double(value, what);
    } else if (key == "mvm-read-s") {
      profile.circuit.mvm_read_s = to_double(value, what);
    } else if (key == "mapping") {
      find_field("circuit", "lp_mapping")->set(profile, value);
    } else if (key == "lp-diagonal") {
      find_field("circuit", "lp_mapping")->set(profile, legacy_mapping(value));
    } else {
      throw config_error("unknown " + what);
    }
  }
  validate(profile);
}

std::string_view lp_mapping_summary(std::string_view mapping) {
  if (mapping == "paper") return "A0 = D0/L: the most significant 3-bit slice on the array (the paper's circuit)";
  return "diagonal on each op-amp's feedback conductance, off-diagonals on the array at their own full scale "
         "(amimo's mapping)";
}

std::string profile_label(const analog_profile& profile) {
  return profile.name + ", LP-INV mapping " + profile.circuit.lp_mapping +
         (profile.circuit.lp_mapping == "paper" ? " (A0 = D0/L)" : " (diagonal in feedback)");
}

analog_profile profile_from_options(const std::map<std::string, std::string>& options) {
  const auto it = options.find("profile");
  analog_profile profile = load_analog_profile(it == options.end() ? default_profile_name : std::string_view(it->second));
  apply_analog_options(profile, options);
  return profile;
}

std::vector<std::pair<std::string, std::string>> describe(const analog_profile& profile) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("name", profile.name);
  for (const field& f : fields()) out.emplace_back(path_of(f), f.get(profile));
  return out;
}

}  // namespace amimo::analog
