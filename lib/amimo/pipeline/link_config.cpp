#include <amimo/pipeline/link_config.h>

#include <amimo/core/error.h>
#include <amimo/core/thread_pool.h>
#include <amimo/core/yaml_strict.h>
#include <amimo/sweep/sweep_config.h>

#include <fmt/format.h>
#include <link_default_config.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace amimo::pipeline {
namespace {

std::string joined(const YAML::Node& node) {
  if (!node.IsSequence()) return node.as<std::string>();
  std::string text;
  for (const auto& item : node) text += (text.empty() ? "" : ",") + item.as<std::string>();
  return text;
}

std::vector<double> number_list(const YAML::Node& node, const std::string& key) {
  std::vector<double> values;
  if (node.IsNull()) return values;
  if (node.IsSequence()) {
    for (const auto& item : node) values.push_back(item.as<double>());
    return values;
  }
  const std::string text = node.as<std::string>();
  std::size_t at = 0;
  while (at <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', at);
    const std::string word = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    try {
      std::size_t used = 0;
      values.push_back(std::stod(word, &used));
      if (used != word.size()) throw std::invalid_argument(word);
    } catch (const std::exception&) {
      throw config_error("'" + key + "': '" + word + "' is not a number");
    }
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return values;
}

std::map<std::string, std::string> option_map(const YAML::Node& node, const std::string& key) {
  if (!node.IsMap()) throw config_error("'" + key + "' must be a map of options");
  std::map<std::string, std::string> options;
  for (const auto& item : node) {
    const auto option = item.first.as<std::string>();
    if (!options.emplace(option, item.second.as<std::string>()).second) {
      throw config_error("option '" + option + "' given twice");
    }
  }
  return options;
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "preset", "antennas", "users", "modulation", "fft_size", "cp_length", "used_subcarriers",
      "sample_rate", "pilot_symbols", "additional_pilots", "time_interpolation", "data_symbols", "seed", "channel", "delay_spread", "doppler",
      "speed_kmh", "delay_model", "channel_time", "sinusoids", "array_rows", "element_spacing", "asd_deg",
      "asa_deg", "zsd_deg", "zsa_deg", "user_spread_deg", "ue_direction_deg", "channel_filter", "sinc_half_width",
      "emulator_threads", "rho_bs", "rho_ue", "snr_db", "cfo_hz", "timing_offsets", "antenna_delays", "center_frequency", "detector",
      "solver", "mode", "analog", "remote", "threads", "subcarrier_blocks", "remote_subcarrier_blocks", "estimation_smoothing",
      "fft_backoff", "sync_threshold", "frame_search", "frames", "source", "sink", "realtime",
      "idle_timeout", "out", "coding", "code_rate", "tb_bits", "ldpc_iterations", "payload", "payload_out",
      "payload_chain"};
  return keys;
}

// Keys whose value is text (a name, a spec string, a path): a command-line value for one of
// them is that text as it stands. Through YAML::Load, "sigmf:rec/b #1" lost its comment-like
// tail, "sigmf:rec/c: d" became a mapping and "pay #1.bin" named the file "pay".
bool is_text_key(const std::string& key) {
  static const std::set<std::string> keys = {
      "preset", "modulation", "time_interpolation", "channel", "delay_spread", "delay_model", "channel_time",
      "channel_filter", "detector", "solver", "mode", "estimation_smoothing", "source", "sink", "out", "coding",
      "payload", "payload_out"};
  return keys.count(key) != 0;
}

// Buffers a frame needs (bytes, estimated): amimo-ue's and amimo-bs's frame of every
// antenna's samples, the emulator's channel state (the response at one symbol and the taps of
// every symbol), the users' symbol grids and one IFFT worker's inputs. Checked against
// max_frame_buffer_bytes so that an absurd shape is a configuration error, not a bad_alloc
// after start-up.
double frame_buffer_bytes(const link_config& c, std::size_t taps) {
  const auto& n = c.rx.layout;
  const double antennas = c.rx.antennas;
  const double users = c.rx.users;
  const double symbols = n.symbols_per_frame();
  const double used = n.used_subcarriers;
  return 8.0 * antennas * static_cast<double>(n.frame_length()) +
         16.0 * antennas * users * (used + symbols * static_cast<double>(taps)) + 16.0 * users * symbols * used +
         8.0 * symbols * 4.0 * n.fft_size;
}

void apply_key(link_config& c, const std::string& key, const YAML::Node& v) {
  auto& rx = c.rx;
  auto& n = rx.layout;
  if (key == "preset") {
    const auto& p = ofdm::find_preset(v.as<std::string>());
    rx.antennas = p.antennas;
    rx.users = p.users;
    n = p.layout;
  } else if (key == "antennas") rx.antennas = v.as<int>();
  else if (key == "users") rx.users = v.as<int>();
  else if (key == "modulation") rx.modulation = modem::parse_modulation(v.as<std::string>());
  else if (key == "fft_size") n.fft_size = v.as<int>();
  else if (key == "cp_length") n.cp_length = v.as<int>();
  else if (key == "used_subcarriers") n.used_subcarriers = v.as<int>();
  else if (key == "sample_rate") n.sample_rate = v.as<double>();
  else if (key == "pilot_symbols") n.pilot_symbols = v.as<int>();
  else if (key == "additional_pilots") n.additional_pilots = v.as<int>();
  else if (key == "time_interpolation") rx.interpolation = parse_time_interpolation(v.as<std::string>());
  else if (key == "data_symbols") n.data_symbols = v.as<int>();
  else if (key == "seed") rx.seed = v.as<std::uint64_t>();
  else if (key == "channel") c.channel.model = v.as<std::string>();
  else if (key == "delay_spread") {
    // A number of seconds or a TR 38.901 Table 7.7.3-1 name ("nominal", "long", ...).
    double seconds = 0.0;
    if (YAML::convert<double>::decode(v, seconds)) c.channel.delay_spread_s = seconds;
    else c.channel.delay_spread_s = channel_models::delay_spread_preset(v.as<std::string>());
  }
  else if (key == "doppler") c.channel.doppler_hz = v.as<double>();
  else if (key == "speed_kmh") c.speed_kmh = v.as<double>();
  else if (key == "delay_model") c.channel.delay_model = v.as<std::string>();
  else if (key == "channel_time") c.channel_time = v.as<std::string>();
  else if (key == "sinusoids") c.channel.sinusoids = v.as<int>();
  else if (key == "channel_filter") c.channel_filter = v.as<std::string>();
  else if (key == "sinc_half_width") c.sinc_half_width = v.as<int>();
  else if (key == "array_rows") c.channel.cdl.array_rows = v.as<int>();
  else if (key == "element_spacing") c.channel.cdl.element_spacing = v.as<double>();
  else if (key == "asd_deg") c.channel.cdl.asd_deg = v.as<double>();
  else if (key == "asa_deg") c.channel.cdl.asa_deg = v.as<double>();
  else if (key == "zsd_deg") c.channel.cdl.zsd_deg = v.as<double>();
  else if (key == "zsa_deg") c.channel.cdl.zsa_deg = v.as<double>();
  else if (key == "user_spread_deg") c.channel.cdl.user_spread_deg = v.as<double>();
  else if (key == "ue_direction_deg") c.channel.cdl.ue_direction_deg = v.as<double>();
  else if (key == "rho_bs") c.channel.rho_bs = v.as<double>();
  else if (key == "rho_ue") c.channel.rho_ue = v.as<double>();
  else if (key == "snr_db") c.snr_db = v.as<double>();
  else if (key == "cfo_hz") c.cfo_hz = number_list(v, key);
  else if (key == "timing_offsets") c.timing_offsets = number_list(v, key);
  else if (key == "antenna_delays") {
    c.antenna_delays.clear();
    for (const double d : number_list(v, key)) {
      if (!(d >= 0.0 && d <= 1e6) || d != std::floor(d)) {
        throw config_error("'antenna_delays' entries must be whole numbers of samples in [0, frame length]");
      }
      c.antenna_delays.push_back(static_cast<std::size_t>(d));
    }
  }
  else if (key == "center_frequency") c.center_frequency = v.as<double>();
  else if (key == "detector") c.detectors = sweep::parse_detector_list(joined(v));
  else if (key == "solver") c.solvers = sweep::parse_solver_list(joined(v));
  else if (key == "mode") rx.mode = detect::parse_detection_mode(v.as<std::string>());
  else if (key == "analog") c.analog_options = option_map(v, key);
  else if (key == "remote") c.remote_options = option_map(v, key);
  else if (key == "emulator_threads") {
    c.emulator_threads = v.as<int>();
    if (c.emulator_threads < 0 || c.emulator_threads > max_worker_threads)
      throw config_error("must be in 0.." + std::to_string(max_worker_threads) + " (0: one per core), got " +
                         std::to_string(c.emulator_threads));
  }
  else if (key == "threads") {
    rx.threads = v.as<int>();
    if (rx.threads < 0 || rx.threads > max_worker_threads)
      throw config_error("must be in 0.." + std::to_string(max_worker_threads) + " (0: one per core), got " +
                         std::to_string(rx.threads));
  }
  else if (key == "subcarrier_blocks") rx.subcarrier_blocks = v.as<int>();
  else if (key == "remote_subcarrier_blocks") rx.remote_subcarrier_blocks = v.as<int>();
  else if (key == "estimation_smoothing") {
    rx.estimation_smoothing =
        v.IsScalar() && v.Scalar() == "auto" ? pipeline::receiver_config::kAutoSmoothing : v.as<int>();
  }
  else if (key == "fft_backoff") rx.fft_backoff = v.as<int>();
  else if (key == "sync_threshold") rx.sync_threshold = v.as<double>();
  else if (key == "frame_search") rx.frame_search = v.as<int>();
  else if (key == "frames") c.frames = v.as<std::uint64_t>();
  else if (key == "source") c.source = v.as<std::string>();
  else if (key == "sink") c.sink = v.as<std::string>();
  else if (key == "realtime") c.realtime = v.as<bool>();
  else if (key == "idle_timeout") c.idle_timeout = v.as<double>();
  else if (key == "out") c.out = v.as<std::string>();
  else if (key == "coding") c.coding.kind = payload::parse_coding(v.as<std::string>());
  else if (key == "code_rate") c.coding.code_rate = v.as<double>();
  else if (key == "tb_bits") c.coding.tb_bits = v.as<int>();
  else if (key == "ldpc_iterations") c.coding.ldpc_iterations = v.as<int>();
  else if (key == "payload") {
    c.coding.payloads.clear();
    const std::string text = joined(v);
    std::size_t at = 0;
    for (;;) {
      const std::size_t comma = text.find(',', at);
      c.coding.payloads.push_back(text.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  else if (key == "payload_out") c.coding.payload_out = v.as<std::string>();
  else if (key == "payload_chain") c.coding.payload_chain = v.as<int>();
}

}  // namespace

std::string_view embedded_link_config() noexcept { return kLinkDefaultYaml; }

link_config parse_link_config(std::string_view yaml, const std::map<std::string, std::string>& overrides) {
  YAML::Node root;
  try {
    root = yaml_strict::load_one_document(yaml);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own bound on nesting (its message says "bad file")
    throw config_error("malformed YAML: nesting deeper than yaml-cpp's limit (line " + std::to_string(e.mark.line + 1) +
                       ")");
  } catch (const YAML::Exception& e) {
    throw config_error(std::string("malformed YAML: ") + e.what());
  }
  if (!root.IsNull() && !root.IsMap()) throw config_error("the configuration must be a YAML map");
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  // yaml-cpp keeps every copy of a repeated key and root[key] reads the first, the sweep's
  // loop the last: a repeat is the configuration's error, whichever copy was meant.
  yaml_strict::refuse_repeated_keys(root);
  for (const auto& [key, value] : overrides) {
    if (is_text_key(key)) {
      root[key] = YAML::Node(value);  // a plain scalar: the text exactly as given
      continue;
    }
    try {
      root[key] = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw config_error("'" + key + "': cannot read value '" + value + "'");
    }
  }
  link_config c;
  std::vector<std::string> order;
  for (const auto& item : root) {
    // A key that is a mapping or a sequence is the configuration's error, not yaml-cpp's
    // (a fuzz finding of 2026-12-03: the conversion exception escaped the parser).
    if (!item.first.IsScalar()) {
      throw config_error("a key must be a plain name (line " + std::to_string(item.first.Mark().line + 1) + ")");
    }
    const auto key = item.first.Scalar();
    if (known_keys().count(key) == 0) throw config_error("unknown key '" + key + "'");
    if (key == "preset") order.insert(order.begin(), key);
    else order.push_back(key);
  }
  for (const auto& key : order) {
    try {
      apply_key(c, key, root[key]);
    } catch (const YAML::Exception&) {
      throw config_error("'" + key + "': bad value");
    } catch (const config_error& e) {
      throw config_error("'" + key + "': " + e.what());
    }
  }
  auto& rx = c.rx;
  c.channel.antennas = rx.antennas;
  c.channel.users = rx.users;
  c.channel.sample_rate = rx.layout.sample_rate;
  c.channel.frame_seconds = rx.layout.frame_seconds();
  const int symbols = rx.layout.symbols_per_frame();
  if (c.channel_time == "symbol") {
    c.channel.steps_per_frame = symbols;
  } else if (c.channel_time == "frame") {
    c.channel.steps_per_frame = 1;
  } else if (c.channel_time.rfind("symbols:", 0) == 0) {
    // A state held for N symbols: ⌈S/N⌉ evenly spaced states per frame (cheaper, less exact).
    const std::string count = c.channel_time.substr(8);
    const bool digits = !count.empty() && count.size() <= 4 &&
                        std::all_of(count.begin(), count.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    const int every = digits ? std::stoi(count) : 0;
    if (every < 1 || every > symbols) {
      throw config_error("'channel_time': symbols:N needs N in 1.." + std::to_string(symbols) + ", got '" +
                         c.channel_time + "'");
    }
    c.channel.steps_per_frame = (symbols + every - 1) / every;
  } else {
    throw config_error("'channel_time': expected symbol, frame or symbols:N, got '" + c.channel_time + "'");
  }
  if (c.speed_kmh != 0.0) {
    if (c.channel.doppler_hz != 0.0) throw config_error("'speed_kmh' and 'doppler' both set: give one of them");
    try {
      c.channel.doppler_hz = channel_models::doppler_from_speed(c.speed_kmh / 3.6, c.center_frequency);
    } catch (const config_error& e) {
      throw config_error(std::string("'speed_kmh': ") + e.what());
    }
  }
  // The sweep's range: −1000 dB made N0 = 1e100 and every sample NaN.
  if (!std::isfinite(c.snr_db) || c.snr_db < sweep::min_snr_db || c.snr_db > sweep::max_snr_db) {
    throw config_error(fmt::format("'snr_db' must lie in {:g}..{:g} dB (got {:g})", sweep::min_snr_db,
                                   sweep::max_snr_db, c.snr_db));
  }
  if (c.idle_timeout <= 0.0 || !std::isfinite(c.idle_timeout)) throw config_error("'idle_timeout' must be positive");
  if (!std::isfinite(c.center_frequency) || c.center_frequency < 0.0)
    throw config_error("'center_frequency' must be ≥ 0");
  if (c.antenna_delays.size() > static_cast<std::size_t>(rx.antennas))
    throw config_error("'antenna_delays' has more entries than antennas");
  for (const std::size_t d : c.antenna_delays) {
    if (d > static_cast<std::size_t>(rx.layout.frame_length()))
      throw config_error("'antenna_delays' entries must be at most one frame (" +
                         std::to_string(rx.layout.frame_length()) + " samples)");
  }
  // Chains: every detector × every solver, with the shared analog/remote options merged.
  sweep::sweep_config merge;
  merge.solvers = c.solvers;
  merge.analog_options = c.analog_options;
  merge.remote_options = c.remote_options;
  rx.chains.clear();
  for (auto d : c.detectors) {
    for (std::size_t i = 0; i < c.solvers.size(); ++i) {
      const auto& entry = c.solvers[i];
      const bool endpoint_only = entry.name == "remote" && entry.options.size() == 1 && entry.options.count("endpoint") == 1;
      rx.chains.push_back({d, sweep::effective_solver_spec(merge, i),
                           endpoint_only ? std::string() : solver::to_entry_string(entry)});
    }
  }
  payload::validate(c.coding);
  if (c.coding.payloads.size() > 1 && c.coding.payloads.size() != static_cast<std::size_t>(rx.users))
    throw config_error("'payload': give one entry for every user or one per user (" + std::to_string(rx.users) + ")");
  if (c.coding.kind == payload::coding_kind::ldpc) {
    if (static_cast<std::size_t>(c.coding.payload_chain) >= rx.chains.size())
      throw config_error("'payload_chain': " + std::to_string(c.coding.payload_chain) + " is not one of the " +
                         std::to_string(rx.chains.size()) + " chains (0-based)");
    ofdm::validate(rx.layout);
    const ofdm::frame_layout frame(rx.layout, rx.users, rx.modulation);
    rx.known_bits = payload::make_coded_layout(frame, c.coding).header_bits;  // the frame header identifies frames
  }
  validate(rx);
  const auto model = channel_models::create_selective_channel_model(c.channel);  // validates the channel
  if (const double bytes = frame_buffer_bytes(c, model->tap_delays().size()); bytes > max_frame_buffer_bytes) {
    throw config_error(fmt::format(
        "a frame of this shape needs about {:.3g} GiB of buffers ({} antennas × {} samples per frame, {} users × {} "
        "symbols × {} used subcarriers, the channel's {} taps per symbol), more than the {:g} GiB limit: use fewer "
        "antennas, users, subcarriers or symbols",
        bytes / 1073741824.0, rx.antennas, rx.layout.frame_length(), rx.users, rx.layout.symbols_per_frame(),
        rx.layout.used_subcarriers, model->tap_delays().size(), max_frame_buffer_bytes / 1073741824.0));
  }
  if (c.channel_filter != "frequency" && c.channel_filter != "sinc") {
    throw config_error("'channel_filter': expected frequency or sinc, got '" + c.channel_filter + "'");
  }
  if (c.sinc_half_width < channel::fractional_delay_min_half_width ||
      c.sinc_half_width > channel::fractional_delay_max_half_width) {
    throw config_error(
        "'sinc_half_width': must be in 8..256 (fewer coefficients miss a fractional delay's response "
        "by more than 1e-3 at a third of the sample rate), got " +
        std::to_string(c.sinc_half_width));
  }
  if (c.channel_filter == "sinc") {
    const ofdm::numerology& n = c.rx.layout;
    const double band = 0.5 * n.used_subcarriers / n.fft_size;
    const auto options = c.emulator_options().fir;
    const double error = channel::fractional_delay_worst_error(options, band);
    if (error > channel::fractional_delay_tolerance) {
      const double reach = channel::fractional_delay_accurate_band(options, channel::fractional_delay_tolerance);
      throw config_error(fmt::format(
          "'used_subcarriers' {} of 'fft_size' {} reach |f| = {:.3f} of the sample rate, where the sinc channel filter "
          "with 'sinc_half_width' {} misses a fractional delay's response by up to {:.2g} (limit {:g}; it meets it up "
          "to |f| = {:.3f}, i.e. used_subcarriers <= {}): use fewer used subcarriers, a larger sinc_half_width, or "
          "channel_filter: frequency",
          n.used_subcarriers, n.fft_size, band, c.sinc_half_width, error, channel::fractional_delay_tolerance, reach,
          2 * static_cast<int>(std::floor(reach * n.fft_size))));
    }
  }
  return c;
}

bool chain_is_analog(const link_config& config, const chain_spec& chain) noexcept {
  sweep::sweep_config merge;
  merge.remote_options = config.remote_options;
  return sweep::reports_modelled_cost(merge, chain.solver.name);
}

std::string cyclic_prefix_warning(const link_config& config) {
  const auto pdp = channel_models::model_power_delay_profile(config.channel);
  const double last_tap = pdp.delays.empty() ? 0.0 : pdp.delays.back();
  double offset = 0.0;
  for (const double t : config.timing_offsets) offset = std::max(offset, t);
  const int cp = config.rx.layout.cp_length;
  if (last_tap + offset <= static_cast<double>(cp)) return {};
  const double fs = config.rx.layout.sample_rate;
  return fmt::format(
      "the channel's last tap ({:.1f} samples = {:.0f} ns; RMS delay spread {:.0f} ns) plus the largest timing offset "
      "({:g} samples) exceeds the cyclic prefix ({} samples = {:.0f} ns): {}",
      last_tap, last_tap / fs * 1e9, channel_models::rms_delay_spread(pdp) / fs * 1e9, offset, cp, cp / fs * 1e9,
      config.channel_filter == "sinc"
          ? "the time-domain (sinc) channel adds the inter-symbol interference this causes"
          : "the emulator applies the channel per subcarrier (circularly), so the inter-symbol interference this "
            "channel would cause is not modelled (channel_filter: sinc models it)");
}

}  // namespace amimo::pipeline
