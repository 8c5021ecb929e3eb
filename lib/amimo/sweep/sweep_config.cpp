#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/core/thread_pool.h>
#include <amimo/core/yaml_strict.h>
#include <amimo/fec/link_coding.h>
#include <amimo/sweep/sweep_config.h>

#include <channel_models/flat_models.h>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "sweep_default_config.h"  // generated: kSweepDefaultYaml

namespace amimo::sweep {
namespace {

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(trim(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

double parse_number(const std::string& text, std::string_view what) {
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    throw config_error("invalid number '" + text + "' in " + std::string(what));
  }
  return value;
}

template <typename T>
T scalar(const YAML::Node& node, const std::string& key) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw config_error("config key '" + key + "' has an invalid value");
  }
}

// A key that may hold a YAML list or one comma-separated string.
std::string joined(const YAML::Node& node, const std::string& key) {
  if (node.IsSequence()) {
    std::string text;
    for (const YAML::Node& item : node) text += (text.empty() ? "" : ",") + scalar<std::string>(item, key);
    return text;
  }
  return scalar<std::string>(node, key);
}

}  // namespace

fec::transport_block_config user_transport_block(const sweep_config& c) {
  const int qm = static_cast<int>(modem::bits_per_symbol(c.modulation));
  try {
    return fec::link_transport_block(c.vectors_per_channel * qm, qm, c.code_rate, c.tb_bits);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string(e.what()) + " (G = vectors_per_channel " + std::to_string(c.vectors_per_channel) +
                       " x " + std::to_string(qm) + " bits per symbol coded bits per user and frame)");
  }
}

double information_bits_per_symbol(const sweep_config& c) {
  const double qm = modem::bits_per_symbol(c.modulation);
  if (!is_coded(c)) return qm;
  const fec::transport_block_config tb = user_transport_block(c);
  return qm * static_cast<double>(tb.tb_bits) / static_cast<double>(tb.g_bits);
}

double ebn0_db_per_information_bit(const sweep_config& c, double snr_db) {
  return snr_db - 10.0 * std::log10(information_bits_per_symbol(c));
}

namespace {
void validate_coding(const sweep_config& c) {
  if (c.coding != "none" && c.coding != "ldpc") {
    throw config_error("coding must be none or ldpc (got '" + c.coding + "')");
  }
  if (!(c.code_rate > 0.0 && c.code_rate < 1.0)) {
    throw config_error("code_rate must lie in (0, 1) (got " + std::to_string(c.code_rate) + ")");
  }
  if (c.tb_bits < 0) throw config_error("tb_bits must be 0 (the 38.214 TBS) or positive");
  if (c.ldpc_iterations < 1 || c.ldpc_iterations > 100) throw config_error("ldpc_iterations must be in 1..100");
  if (!(c.ldpc_alpha > 0.0 && c.ldpc_alpha <= 1.0)) throw config_error("ldpc_alpha must lie in (0, 1]");
  if (c.min_block_errors == 0) throw config_error("min_block_errors must be at least 1");
  if (c.max_blocks == 0) throw config_error("max_blocks must be positive");
  if (is_coded(c)) (void)user_transport_block(c);
}
}  // namespace

std::string_view embedded_default_config() noexcept { return kSweepDefaultYaml; }

std::vector<double> parse_snr_list(std::string_view text) {
  const std::string spec = trim(text);
  std::vector<double> values;
  if (spec.find(':') != std::string::npos) {
    const std::vector<std::string> parts = split(spec, ':');
    if (parts.size() != 3) throw config_error("SNR range must be a:step:b (got '" + spec + "')");
    const double first = parse_number(parts[0], "SNR range");
    const double step = parse_number(parts[1], "SNR range");
    const double last = parse_number(parts[2], "SNR range");
    if (!(step > 0.0) || last < first) throw config_error("SNR range '" + spec + "' needs step > 0 and a <= b");
    const double count = std::floor((last - first) / step + 1e-9) + 1.0;
    if (count > 1000.0) throw config_error("SNR range '" + spec + "' has more than 1000 points");
    for (int i = 0; i < static_cast<int>(count); ++i) values.push_back(first + i * step);
  } else {
    for (const std::string& part : split(spec, ',')) values.push_back(parse_number(part, "SNR list"));
  }
  if (values.empty()) throw config_error("empty SNR list");
  return values;
}

std::vector<detect::detector_kind> parse_detector_list(std::string_view text) {
  std::vector<detect::detector_kind> kinds;
  for (const std::string& name : split(text, ',')) {
    const detect::detector_kind kind = detect::parse_detector_kind(name);
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  return kinds;
}

bool is_analog_solver(std::string_view name) noexcept { return name == "analog" || name == "analog-lp"; }

namespace {
std::string remote_backend(const sweep_config& config) {
  const auto it = config.remote_options.find("backend");
  return it == config.remote_options.end() ? "digital-f64" : it->second;
}
}  // namespace

solver::solver_spec effective_solver_spec(const sweep_config& config, std::size_t index) {
  solver::solver_spec spec = config.solvers.at(index);
  if (spec.name == "remote") {
    for (const auto& [key, value] : config.remote_options) spec.options.emplace(key, value);
  }
  if (is_analog_solver(spec.name) || (spec.name == "remote" && is_analog_solver(remote_backend(config)))) {
    for (const auto& [key, value] : config.analog_options) spec.options.emplace(key, value);
  }
  return spec;
}

std::string solver_label(const sweep_config& config, std::size_t index) {
  const solver::solver_spec& spec = config.solvers.at(index);
  std::string label = spec.name;
  for (const auto& [key, value] : spec.options) {
    if (spec.name == "remote" && key == "endpoint") continue;
    label += ":" + key + "=" + value;
  }
  return label;
}

std::string_view solver_name_of_label(std::string_view label) noexcept { return label.substr(0, label.find(':')); }

bool reports_modelled_cost(const sweep_config& config, std::string_view solver_name) noexcept {
  solver_name = solver_name_of_label(solver_name);
  return is_analog_solver(solver_name) || (solver_name == "remote" && is_analog_solver(remote_backend(config)));
}

std::string analog_label(const sweep_config& config, std::size_t index) {
  // By index, not by name: several entries share a name ("analog:profile=projected,
  // analog:profile=paper-board"), and each curve's label must be its own entry's profile.
  solver::solver_spec spec = effective_solver_spec(config, index);
  if (!reports_modelled_cost(config, spec.name)) return "";
  if (spec.name == "remote") {
    // The client's own keys (remote::parse_remote_options); the rest travels to the service's
    // analog backend.
    for (const char* key : {"endpoint", "backend", "timeout-ms", "retries", "element", "curve-server-key",
                            "curve-client-key", "on-failure", "batch-chunk", "window"}) {
      spec.options.erase(key);
    }
  }
  return analog::profile_label(analog::profile_from_options(spec.options));
}

bool has_analog_solver(const sweep_config& config) noexcept {
  return std::any_of(config.solvers.begin(), config.solvers.end(),
                     [&](const solver::solver_spec& s) { return reports_modelled_cost(config, s.name); });
}

std::vector<solver::solver_spec> parse_solver_list(std::string_view text) {
  std::vector<solver::solver_spec> specs;
  for (const std::string& name : split(text, ',')) {
    if (name.empty()) throw config_error("empty solver name in '" + std::string(text) + "'");
    if (name.rfind("remote:", 0) == 0 && name.find('=') == std::string::npos) {
      // remote:tcp://HOST:PORT — the service endpoint is the rest of the word.
      specs.push_back({"remote", {{"endpoint", name.substr(7)}}});
      continue;
    }
    // name[:key=value…]: options for this entry only (they win over the shared analog /
    // remote options), e.g. analog:iters=1,analog:iters=2 side by side.
    specs.push_back(solver::parse_solver_entry(name));
  }
  return specs;
}

sweep_config parse_sweep_yaml(std::string_view yaml_text, const sweep_config& base) {
  YAML::Node root;
  try {
    // One document, as the link config and analog profiles: a second one (after '---') was
    // dropped silently ("sweep: …\n---\nsnr_db: …" ran without the second part).
    root = yaml_strict::load_one_document(yaml_text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own bound on nesting (its message says "bad file")
    throw config_error("config is not valid YAML: nesting deeper than yaml-cpp's limit (line " +
                       std::to_string(e.mark.line + 1) + ")");
  } catch (const YAML::Exception& e) {
    throw config_error(std::string("config is not valid YAML: ") + e.what());
  }
  sweep_config config = base;
  if (root.IsNull()) return config;
  if (!root.IsMap()) throw config_error("config must be a YAML mapping of keys to values");

  // yaml-cpp keeps every copy of a repeated key; which one counts would be an accident of
  // the loop below (the last), and the link config reads the first: a repeat is an error.
  std::set<std::string> seen;
  for (const auto& entry : root) {
    const std::string key = scalar<std::string>(entry.first, "(key)");
    if (!seen.insert(key).second) throw config_error("config key '" + key + "' given twice");
    const YAML::Node& value = entry.second;
    if (key == "antennas") config.antennas = scalar<int>(value, key);
    else if (key == "users") config.users = scalar<int>(value, key);
    else if (key == "modulation") config.modulation = modem::parse_modulation(scalar<std::string>(value, key));
    else if (key == "detector") config.detectors = parse_detector_list(joined(value, key));
    else if (key == "detection_mode") config.mode = detect::parse_detection_mode(scalar<std::string>(value, key));
    else if (key == "solver") config.solvers = parse_solver_list(joined(value, key));
    else if (key == "analog") {
      if (!value.IsMap()) throw config_error("'analog' must be a mapping (profile, iters, tol, array, …)");
      std::set<std::string> options_seen;
      for (const auto& option : value) {
        const std::string option_key = scalar<std::string>(option.first, "analog key");
        if (!options_seen.insert(option_key).second) {
          throw config_error("config key 'analog." + option_key + "' given twice");
        }
        config.analog_options[option_key] = scalar<std::string>(option.second, "analog." + option_key);
      }
    }
    else if (key == "remote") {
      if (!value.IsMap()) throw config_error("'remote' must be a mapping (backend, timeout-ms, retries, …)");
      std::set<std::string> options_seen;
      for (const auto& option : value) {
        const std::string option_key = scalar<std::string>(option.first, "remote key");
        if (!options_seen.insert(option_key).second) {
          throw config_error("config key 'remote." + option_key + "' given twice");
        }
        config.remote_options[option_key] = scalar<std::string>(option.second, "remote." + option_key);
      }
    }
    else if (key == "channel") config.channel = scalar<std::string>(value, key);
    else if (key == "rho_bs") config.rho_bs = scalar<double>(value, key);
    else if (key == "rho_ue") config.rho_ue = scalar<double>(value, key);
    else if (key == "array_rows") config.cdl.array_rows = scalar<int>(value, key);
    else if (key == "element_spacing") config.cdl.element_spacing = scalar<double>(value, key);
    else if (key == "asd_deg") config.cdl.asd_deg = scalar<double>(value, key);
    else if (key == "asa_deg") config.cdl.asa_deg = scalar<double>(value, key);
    else if (key == "zsd_deg") config.cdl.zsd_deg = scalar<double>(value, key);
    else if (key == "zsa_deg") config.cdl.zsa_deg = scalar<double>(value, key);
    else if (key == "user_spread_deg") config.cdl.user_spread_deg = scalar<double>(value, key);
    else if (key == "snr_db") config.snr_db = parse_snr_list(joined(value, key));
    else if (key == "vectors_per_channel") config.vectors_per_channel = scalar<int>(value, key);
    else if (key == "min_errors") config.min_errors = scalar<std::uint64_t>(value, key);
    else if (key == "min_error_frames") config.min_error_frames = scalar<std::uint64_t>(value, key);
    else if (key == "max_bits") {
      const double bits = scalar<double>(value, key);  // 1e9 and 1000000000 both read
      if (!(bits >= 1.0 && bits <= 1e15)) throw config_error("max_bits must be in 1..1e15");
      config.max_bits = static_cast<std::uint64_t>(bits);
    }
    else if (key == "max_seconds") config.max_seconds = scalar<double>(value, key);
    else if (key == "coding") config.coding = scalar<std::string>(value, key);
    else if (key == "code_rate") config.code_rate = scalar<double>(value, key);
    else if (key == "tb_bits") config.tb_bits = scalar<int>(value, key);
    else if (key == "ldpc_iterations") config.ldpc_iterations = scalar<int>(value, key);
    else if (key == "ldpc_alpha") config.ldpc_alpha = scalar<double>(value, key);
    else if (key == "min_block_errors") config.min_block_errors = scalar<std::uint64_t>(value, key);
    else if (key == "max_blocks") config.max_blocks = scalar<std::uint64_t>(value, key);
    else if (key == "seed") config.seed = scalar<std::uint64_t>(value, key);
    else if (key == "threads") config.threads = scalar<int>(value, key);
    else if (key == "out") config.out = scalar<std::string>(value, key);
    else throw config_error("unknown config key '" + key + "'");
  }
  return config;
}

void validate(const sweep_config& c) {
  if (c.antennas <= 0) throw config_error("antennas must be positive (got " + std::to_string(c.antennas) + ")");
  if (c.users <= 0) throw config_error("users must be positive (got " + std::to_string(c.users) + ")");
  if (c.antennas > 1024 || c.users > 256) throw config_error("at most 1024 antennas and 256 users");
  for (const detect::detector_kind kind : c.detectors) {
    if (kind == detect::detector_kind::zf && c.users > c.antennas) {
      throw config_error("zero-forcing needs users <= antennas (got K = " + std::to_string(c.users) +
                         " > N = " + std::to_string(c.antennas) + ")");
    }
  }
  if (c.detectors.empty()) throw config_error("no detector given");
  if (c.solvers.empty()) throw config_error("no solver given");
  std::set<std::string> names;
  for (std::size_t i = 0; i < c.solvers.size(); ++i) {
    const solver::solver_spec spec = effective_solver_spec(c, i);
    solver::validate_solver_spec(spec);
    const std::string label = solver_label(c, i);
    if (!names.insert(label).second) throw config_error("solver '" + label + "' given twice");
  }
  if (c.vectors_per_channel <= 0 || c.vectors_per_channel > 100000) {
    throw config_error("vectors_per_channel must be in 1..100000");
  }
  // 0 would end every point after its first round with no error counted (enough errors at 0).
  if (c.min_errors == 0) throw config_error("min_errors must be at least 1");
  if (c.max_bits == 0) throw config_error("max_bits must be positive");
  if (!(c.max_seconds > 0.0)) throw config_error("max_seconds must be positive");
  if (c.threads < 0 || c.threads > max_worker_threads) {
    throw config_error("threads must be in 0.." + std::to_string(max_worker_threads) + " (0: one per core), got " +
                       std::to_string(c.threads));
  }
  if (c.snr_db.empty()) throw config_error("empty SNR list");
  for (const double snr : c.snr_db) {
    if (!std::isfinite(snr) || snr < min_snr_db || snr > max_snr_db) {
      throw config_error(fmt::format("SNR values must lie in {:g}..{:g} dB (got {:g})", min_snr_db, max_snr_db, snr));
    }
  }
  if (c.out.empty()) throw config_error("output directory must not be empty");
  validate_coding(c);
  // The channel model checks its own parameters (ρ range, awgn shape).
  (void)channel_models::create_flat_channel_model({c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl);
}

}  // namespace amimo::sweep
