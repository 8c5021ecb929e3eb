#include <amimo/demo/image_link.h>
#include <amimo/fec/link_coding.h>

#include <amimo/analog/analog_profile.h>
#include <amimo/channel/flat_channel.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/modem/mapper.h>
#include <amimo/report/bitmap_font.h>

#include <channel_models/flat_models.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>

namespace amimo::demo {
namespace {

bool is_analog_name(std::string_view name) noexcept { return name == "analog" || name == "analog-lp"; }

// "analog 2 it" → "analog-2-it": lower case, runs of other characters become one '-'.
std::string slugify(std::string_view caption) {
  std::string slug;
  for (const char c : caption) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      slug += static_cast<char>(std::tolower(u));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 60) slug.resize(60);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? std::string("backend") : slug;
}


}  // namespace

bool reports_modelled_cost(const solver::solver_spec& spec) {
  if (is_analog_name(spec.name)) return true;
  if (spec.name == "remote") {
    const auto it = spec.options.find("backend");
    return it != spec.options.end() && is_analog_name(it->second);
  }
  return false;
}

namespace {

// "analog 3 it", with name_profile "analog 3 it ideal" (a profile other than the default):
// the caption without the profile label (with the profile name: file slugs).
std::string short_caption(const solver::solver_spec& spec, bool name_profile) {
  std::string caption = spec.name;
  std::set<std::string> shown;
  if (spec.name == "analog") {
    const analog::analog_profile profile = analog::profile_from_options(spec.options);
    caption = fmt::format("analog {} it", profile.refinement.iterations);
    shown.insert("iters");
    if (profile.refinement.tolerance > 0.0) caption = fmt::format("analog <={} it", profile.refinement.iterations);
  }
  if (is_analog_name(spec.name)) {
    if (!name_profile) {  // the label names profile and mapping
      shown.insert("mapping");
      shown.insert("lp-diagonal");
    }
    const auto profile_it = spec.options.find("profile");
    if (profile_it != spec.options.end()) {
      if (name_profile && profile_it->second != analog::default_profile_name) caption += " " + profile_it->second;
      shown.insert("profile");
    }
  }
  for (const auto& [key, value] : spec.options) {
    if (shown.count(key) == 0) caption += " " + key + "=" + value;
  }
  return caption;
}

}  // namespace

std::string backend_caption(const solver::solver_spec& spec) {
  std::string caption = short_caption(spec, !is_analog_name(spec.name));
  if (is_analog_name(spec.name)) {
    // Every analog caption names the profile and its LP-INV mapping.
    const analog::analog_profile profile = analog::profile_from_options(spec.options);
    caption += " (" + profile.name + ", " + profile.circuit.lp_mapping + " mapping)";
  }
  return caption;
}

std::vector<backend_choice> parse_backend_list(std::string_view text) {
  std::vector<backend_choice> list;
  std::set<std::string> slugs;
  std::set<std::string> captions;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string entry(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (entry.empty()) throw config_error("empty solver entry in '" + std::string(text) + "'");
    backend_choice choice;
    choice.spec = solver::parse_solver_entry(entry);
    try {
      solver::validate_solver_spec(choice.spec);
    } catch (const config_error& e) {
      throw config_error("solver entry '" + entry + "': " + e.what());
    }
    choice.caption = backend_caption(choice.spec);
    const std::string base_caption = choice.caption;
    for (int n = 2; captions.count(choice.caption) != 0; ++n) choice.caption = fmt::format("{} #{}", base_caption, n);
    captions.insert(choice.caption);
    const std::string base_slug = slugify(short_caption(choice.spec, true));
    choice.slug = base_slug;
    for (int n = 2; slugs.count(choice.slug) != 0; ++n) choice.slug = fmt::format("{}-{}", base_slug, n);
    slugs.insert(choice.slug);
    list.push_back(std::move(choice));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return list;
}

void validate(const image_link_config& config) {
  if (config.antennas < 1 || config.antennas > 1024) throw config_error("antennas must be in 1..1024");
  if (config.users < 1 || config.users > 256) throw config_error("users must be in 1..256");
  if (config.detector == detect::detector_kind::zf && config.users > config.antennas) {
    throw config_error(fmt::format("ZF needs users <= antennas (got K = {} > N = {}); use --detector mmse",
                                   config.users, config.antennas));
  }
  if (!std::isfinite(config.snr_db) || config.snr_db < -50.0 || config.snr_db > 100.0) {
    throw config_error(fmt::format("SNR must be a finite Es/N0 in -50..100 dB (got {})", config.snr_db));
  }
  if (config.coding != "none" && config.coding != "ldpc") {
    throw config_error("coding must be none or ldpc (got '" + config.coding + "')");
  }
  if (config.ldpc_iterations < 1 || config.ldpc_iterations > 100) throw config_error("LDPC iterations must be in 1..100");
  if (!(config.ldpc_alpha > 0.0 && config.ldpc_alpha <= 1.0)) throw config_error("LDPC alpha must lie in (0, 1]");
  if (config.coding == "ldpc") (void)image_transport_block(config);
  if (config.vectors_per_channel < 1 || config.vectors_per_channel > 4096) {
    throw config_error("vectors per channel must be in 1..4096");
  }
  // The model factory checks the name, the correlations and awgn with K > N.
  (void)channel_models::create_flat_channel_model(
      {config.channel, config.antennas, config.users, config.rho_bs, config.rho_ue}, config.cdl);
  if (config.backends.empty()) throw config_error("at least one solver backend is needed");
  for (const backend_choice& b : config.backends) solver::validate_solver_spec(b.spec);
}

bool is_grayscale(const report::rgb_image& image) noexcept {
  const std::vector<std::uint8_t>& d = image.data();
  for (std::size_t i = 0; i + 2 < d.size(); i += 3) {
    if (d[i] != d[i + 1] || d[i] != d[i + 2]) return false;
  }
  return true;
}

std::vector<bit> image_to_bits(const report::rgb_image& image, bool grayscale) {
  const std::vector<std::uint8_t>& d = image.data();
  const std::size_t pixels = d.size() / 3;
  std::vector<bit> bits;
  bits.reserve(pixels * (grayscale ? 8 : 24));
  const auto push_byte = [&bits](std::uint8_t v) {
    for (int b = 7; b >= 0; --b) bits.push_back(static_cast<bit>((v >> b) & 1U));
  };
  for (std::size_t p = 0; p < pixels; ++p) {
    if (grayscale) {
      push_byte(d[3 * p]);
    } else {
      push_byte(d[3 * p]);
      push_byte(d[3 * p + 1]);
      push_byte(d[3 * p + 2]);
    }
  }
  return bits;
}

report::rgb_image bits_to_image(std::span<const bit> bits, int width, int height, bool grayscale) {
  report::rgb_image image(width, height);
  std::vector<std::uint8_t>& d = image.data();
  const std::size_t pixels = d.size() / 3;
  const std::size_t needed = pixels * (grayscale ? 8U : 24U);
  if (bits.size() < needed) {
    throw std::invalid_argument(fmt::format("bits_to_image: {} bits for {} needed", bits.size(), needed));
  }
  std::size_t pos = 0;
  const auto byte = [&bits, &pos]() {
    unsigned v = 0;
    for (int b = 0; b < 8; ++b) v = (v << 1U) | (bits[pos++] != 0 ? 1U : 0U);
    return static_cast<std::uint8_t>(v);
  };
  for (std::size_t p = 0; p < pixels; ++p) {
    if (grayscale) {
      const std::uint8_t v = byte();
      d[3 * p] = d[3 * p + 1] = d[3 * p + 2] = v;
    } else {
      d[3 * p] = byte();
      d[3 * p + 1] = byte();
      d[3 * p + 2] = byte();
    }
  }
  return image;
}

double mean_squared_error(const report::rgb_image& a, const report::rgb_image& b) {
  if (a.width() != b.width() || a.height() != b.height()) {
    throw std::invalid_argument("mean_squared_error: images differ in size");
  }
  const std::vector<std::uint8_t>& da = a.data();
  const std::vector<std::uint8_t>& db = b.data();
  double sum = 0.0;
  for (std::size_t i = 0; i < da.size(); ++i) {
    const double e = static_cast<double>(da[i]) - static_cast<double>(db[i]);
    sum += e * e;
  }
  return sum / static_cast<double>(da.size());
}

double psnr_db(const report::rgb_image& a, const report::rgb_image& b) {
  const double mse = mean_squared_error(a, b);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

report::rgb_image default_test_image(int width, int height) {
  report::rgb_image image(width, height);
  const auto clamp8 = [](double v) { return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0)); };
  const double w = static_cast<double>(width);
  const double h = static_cast<double>(height);
  // Background: red grows to the right, green downwards, blue along the anti-diagonal.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double fx = (x + 0.5) / w;
      const double fy = (y + 0.5) / h;
      image.set_pixel(x, y, {clamp8(40.0 + 200.0 * fx), clamp8(30.0 + 190.0 * fy), clamp8(220.0 - 160.0 * (fx + fy) / 2.0)});
    }
  }
  // A yellow disc (upper left), a dark-blue square (upper right), a white-to-black
  // horizontal ramp bar (bottom) and a magenta triangle (lower right).
  const double cx = 0.27 * w, cy = 0.27 * h, r = 0.17 * std::min(w, h);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= r * r) image.set_pixel(x, y, {250, 220, 40});
      const double fx = (x + 0.5) / w, fy = (y + 0.5) / h;
      if (fx >= 0.58 && fx <= 0.88 && fy >= 0.12 && fy <= 0.42) image.set_pixel(x, y, {20, 30, 110});
      if (fy >= 0.84 && fy <= 0.94 && fx >= 0.06 && fx <= 0.94) {
        const std::uint8_t v = clamp8(255.0 * (fx - 0.06) / 0.88);
        image.set_pixel(x, y, {v, v, v});
      }
      // Triangle with corners (0.62, 0.80), (0.94, 0.80), (0.78, 0.52).
      const double ty = (0.80 - fy) / 0.28;
      if (ty >= 0.0 && ty <= 1.0 && std::abs(fx - 0.78) <= 0.16 * (1.0 - ty)) image.set_pixel(x, y, {210, 40, 170});
    }
  }
  // "amimo" in the middle band, black on a white plate, as large as fits.
  const std::string_view text = "amimo";
  int scale = 1;
  while (report::text_width(text, scale + 1) + 8 <= width * 9 / 10 && report::text_height(scale + 1) <= height / 5) ++scale;
  const int tw = report::text_width(text, scale);
  const int th = report::text_height(scale);
  const int tx = (width - tw) / 2;
  const int ty = height * 56 / 100 - th / 2;
  for (int y = ty - 3; y < ty + th + 2; ++y) {
    for (int x = tx - 4; x < tx + tw + 4; ++x) image.set_pixel(x, y, {255, 255, 255});
  }
  report::draw_text(image, tx, ty, text, {0, 0, 0}, scale);
  return image;
}

namespace {

// One backend's receiver: its solver (with accounting), detector and received bits.
struct backend_rx {
  std::unique_ptr<solver::accounting_solver> solver;
  std::unique_ptr<detect::linear_detector> detector;
  std::vector<bit> rx_bits;
  std::vector<bit> erased;  // 1 where the bit's stream was erased (not scored)
  std::uint64_t unresolved_blocks = 0;
};

}  // namespace

fec::transport_block_config image_transport_block(const image_link_config& config) {
  const int qm = static_cast<int>(modem::bits_per_symbol(config.modulation));
  try {
    return fec::link_transport_block(config.vectors_per_channel * qm, qm, config.code_rate);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string(e.what()) + " (G = --vectors-per-channel " +
                       std::to_string(config.vectors_per_channel) + " x " + std::to_string(qm) + " bits per symbol)");
  }
}

image_link_result plan_image_link(const report::rgb_image& image, const image_link_config& config) {
  validate(config);
  const long long pixels = static_cast<long long>(image.width()) * image.height();
  if (pixels > max_image_pixels) {
    throw config_error(fmt::format("image is {}x{} = {} pixels; the demo takes at most {}", image.width(),
                                   image.height(), pixels, max_image_pixels));
  }
  image_link_result plan;
  plan.width = image.width();
  plan.height = image.height();
  plan.grayscale = is_grayscale(image);
  plan.n0 = channel::noise_variance_from_snr_db(config.snr_db);
  const std::uint64_t bits_per_vector = static_cast<std::uint64_t>(config.users) * modem::bits_per_symbol(config.modulation);
  plan.payload_bits = static_cast<std::uint64_t>(pixels) * (plan.grayscale ? 8U : 24U);
  plan.vectors = (plan.payload_bits + bits_per_vector - 1) / bits_per_vector;
  plan.padding_bits = plan.vectors * bits_per_vector - plan.payload_bits;
  const auto vpc = static_cast<std::uint64_t>(config.vectors_per_channel);
  plan.channel_blocks = (plan.vectors + vpc - 1) / vpc;
  if (config.coding == "ldpc") {
    // One transport block per user and channel block; the last blocks' payload is padded.
    const fec::transport_block_config tb = image_transport_block(config);
    plan.tb_bits = tb.tb_bits;
    plan.g_bits = tb.g_bits;
    const std::uint64_t per_channel = static_cast<std::uint64_t>(config.users) * static_cast<std::uint64_t>(tb.tb_bits);
    plan.channel_blocks = (plan.payload_bits + per_channel - 1) / per_channel;
    plan.vectors = plan.channel_blocks * vpc;
    plan.padding_bits = plan.channel_blocks * per_channel - plan.payload_bits;
  }
  return plan;
}

namespace {

// The one place both paths build their channel model: the coded path once built its own
// without the CDL geometry, so --asd/--array-rows/--element-spacing were silently ignored
// with --coding ldpc.
std::unique_ptr<channel::flat_channel_model> make_image_channel(const image_link_config& config) {
  return channel_models::create_flat_channel_model(
      {config.channel, config.antennas, config.users, config.rho_bs, config.rho_ue}, config.cdl);
}

// coding ldpc: the same link, one transport block per user and channel block.
image_link_result run_coded_image_link(const report::rgb_image& image, const image_link_config& config,
                                       image_link_result result, const std::atomic<bool>* stop) {
  const modem::mapper mapper(config.modulation);
  const std::size_t bps = mapper.bits_per_symbol();
  const std::size_t users = static_cast<std::size_t>(config.users);
  const std::size_t vpc = static_cast<std::size_t>(config.vectors_per_channel);
  const std::size_t blocks = static_cast<std::size_t>(result.channel_blocks);
  const fec::transport_block_config tb = image_transport_block(config);
  const auto a = static_cast<std::size_t>(tb.tb_bits);
  const auto g = static_cast<std::size_t>(tb.g_bits);
  fec::transport_block_encoder encoder(tb);
  fec::transport_block_decoder decoder(tb, fec::ldpc_decoder_kind::layered_min_sum,
                                       {config.ldpc_iterations, static_cast<float>(config.ldpc_alpha), true, 4.0f});

  std::vector<bit> payload = image_to_bits(image, result.grayscale);
  payload.resize(blocks * users * a, 0);  // zero padding of the last blocks

  auto channel = make_image_channel(config);
  std::vector<backend_rx> rx(config.backends.size());
  std::vector<std::vector<bit>> failed(rx.size(), std::vector<bit>(payload.size(), 0));  // 1: bit of a failed block
  std::vector<backend_result> out(rx.size());
  for (std::size_t c = 0; c < rx.size(); ++c) {
    rx[c].solver = std::make_unique<solver::accounting_solver>(
        solver::create_linear_solver(config.backends[c].spec, config.users, config.seed));
    rx[c].detector = std::make_unique<detect::linear_detector>(config.detector, config.mode, *rx[c].solver,
                                                               config.antennas, config.users, config.vectors_per_channel);
    rx[c].rx_bits.assign(payload.size(), 0);
  }

  cmat h(config.antennas, config.users);
  cmat s(config.users, config.vectors_per_channel);
  cmat noise(config.antennas, config.vectors_per_channel);
  cmat y(config.antennas, config.vectors_per_channel);
  cmat s_hat(config.users, config.vectors_per_channel);
  std::vector<bit> tx_bits(vpc * users * bps);
  std::vector<bit> hard(tx_bits.size());
  std::vector<bit> coded(g);
  std::vector<float> llr(tx_bits.size());
  std::vector<float> user_llr(g);
  std::vector<double> noise_var(vpc * users);
  const double noise_scale = std::sqrt(result.n0);
  // User k's coded bit i sits in symbol (i / bps)·K + k, bit i mod bps.
  const auto frame_bit = [&](std::size_t k, std::size_t i) { return ((i / bps) * users + k) * bps + i % bps; };

  for (std::size_t b = 0; b < blocks; ++b) {
    if (stop != nullptr && stop->load()) {
      // Not sent: every later block failed (erased, grey).
      result.interrupted = true;
      for (auto& f : failed) std::fill(f.begin() + static_cast<std::ptrdiff_t>(b * users * a), f.end(), bit{1});
      break;
    }
    ++result.blocks_sent;
    rng gen(derive_seed(config.seed, {0, b}));
    channel->draw(h, gen);
    gen.fill_complex_normal(noise, 1.0);
    for (std::size_t k = 0; k < users; ++k) {
      encoder.encode(coded, std::span<const bit>(payload).subspan((b * users + k) * a, a));
      for (std::size_t i = 0; i < g; ++i) tx_bits[frame_bit(k, i)] = coded[i];
    }
    mapper.map(std::span<cf64>(s.data(), vpc * users), tx_bits);
    y.noalias() = h * s;
    y += noise_scale * noise;

    for (std::size_t c = 0; c < rx.size(); ++c) {
      backend_rx& r = rx[c];
      r.solver->reseed(derive_seed(config.seed, {1, b}));
      const detect::channel_report report = r.detector->set_channel(h, result.n0);
      const bool ok = r.detector->detect(s_hat, y);
      if (!report.resolved || !ok) ++r.unresolved_blocks;
      const auto samples = std::span<const cf64>(s_hat.data(), vpc * users);
      mapper.demap_hard(hard, samples);
      for (std::size_t i = 0; i < hard.size(); ++i) out[c].channel_bit_errors += hard[i] != tx_bits[i] ? 1U : 0U;
      out[c].channel_bits += hard.size();
      // An erased stream or a failed detection: LLR 0 (infinite noise variance).
      const std::span<const double> nv = r.detector->noise_variance();
      for (std::size_t sym = 0; sym < noise_var.size(); ++sym) {
        noise_var[sym] = ok ? nv[sym % users] : std::numeric_limits<double>::infinity();
      }
      mapper.demap_soft(llr, samples, noise_var);
      for (std::size_t k = 0; k < users; ++k) {
        for (std::size_t i = 0; i < g; ++i) user_llr[i] = llr[frame_bit(k, i)];
        const std::size_t offset = (b * users + k) * a;
        const auto decoded = std::span<bit>(r.rx_bits).subspan(offset, a);
        const fec::transport_block_decode_result d = decoder.decode(decoded, user_llr);
        ++out[c].transport_blocks;
        if (!d.tb_crc_ok) {
          ++out[c].block_errors;
          std::fill(failed[c].begin() + static_cast<std::ptrdiff_t>(offset),
                    failed[c].begin() + static_cast<std::ptrdiff_t>(offset + a), bit{1});
        } else if (!std::equal(decoded.begin(), decoded.end(), payload.begin() + static_cast<std::ptrdiff_t>(offset))) {
          ++out[c].undetected_block_errors;
        }
      }
    }
  }

  const std::size_t bits_per_pixel = result.grayscale ? 8 : 24;
  for (std::size_t c = 0; c < rx.size(); ++c) {
    backend_result& o = out[c];
    o.backend = config.backends[c];
    for (std::size_t i = 0; i < result.payload_bits; ++i) {
      if (failed[c][i] != 0) {
        ++o.erased_bits;
        continue;
      }
      ++o.bits;
      o.bit_errors += payload[i] != rx[c].rx_bits[i] ? 1U : 0U;
    }
    o.ber = o.bits == 0 ? 0.0 : static_cast<double>(o.bit_errors) / static_cast<double>(o.bits);
    o.image = bits_to_image(rx[c].rx_bits, image.width(), image.height(), result.grayscale);
    for (int py = 0; py < image.height(); ++py) {
      for (int px = 0; px < image.width(); ++px) {
        const std::size_t first = (static_cast<std::size_t>(py) * static_cast<std::size_t>(image.width()) +
                                   static_cast<std::size_t>(px)) * bits_per_pixel;
        const bool lost = std::any_of(failed[c].begin() + static_cast<std::ptrdiff_t>(first),
                                      failed[c].begin() + static_cast<std::ptrdiff_t>(first + bits_per_pixel),
                                      [](bit v) { return v != 0; });
        if (lost) o.image.set_pixel(px, py, kFailedBlockGrey);
      }
    }
    o.mse = mean_squared_error(image, o.image);
    o.psnr_db = psnr_db(image, o.image);
    o.unresolved_blocks = rx[c].unresolved_blocks;
    o.modelled_cost = reports_modelled_cost(o.backend.spec);
    o.stats = rx[c].solver->stats();
    result.backends.push_back(std::move(o));
  }
  return result;
}

}  // namespace

image_link_result run_image_link(const report::rgb_image& image, const image_link_config& config,
                                 const std::atomic<bool>* stop) {
  image_link_result result = plan_image_link(image, config);
  if (config.coding == "ldpc") return run_coded_image_link(image, config, std::move(result), stop);
  const modem::mapper mapper(config.modulation);
  const std::size_t bps = mapper.bits_per_symbol();
  const std::size_t users = static_cast<std::size_t>(config.users);
  const std::size_t bits_per_vector = users * bps;
  const std::size_t vpc = static_cast<std::size_t>(config.vectors_per_channel);
  const std::size_t vectors = static_cast<std::size_t>(result.vectors);
  const std::size_t blocks = static_cast<std::size_t>(result.channel_blocks);

  std::vector<bit> tx_bits = image_to_bits(image, result.grayscale);
  tx_bits.resize(vectors * bits_per_vector, 0);  // zero padding of the last vector

  auto channel = make_image_channel(config);
  std::vector<backend_rx> rx(config.backends.size());
  for (std::size_t c = 0; c < rx.size(); ++c) {
    rx[c].solver = std::make_unique<solver::accounting_solver>(
        solver::create_linear_solver(config.backends[c].spec, config.users, config.seed));
    rx[c].detector = std::make_unique<detect::linear_detector>(config.detector, config.mode, *rx[c].solver,
                                                               config.antennas, config.users, config.vectors_per_channel);
    rx[c].rx_bits.assign(tx_bits.size(), 0);
    rx[c].erased.assign(tx_bits.size(), 1);  // until its block is received
  }

  // Buffers sized once: the block loop below does not allocate.
  cmat h(config.antennas, config.users);
  cmat s(config.users, config.vectors_per_channel);
  cmat noise(config.antennas, config.vectors_per_channel);
  cmat y(config.antennas, config.vectors_per_channel);
  cmat s_hat(config.users, config.vectors_per_channel);
  const double noise_scale = std::sqrt(result.n0);

  for (std::size_t b = 0; b < blocks; ++b) {
    if (stop != nullptr && stop->load()) {
      result.interrupted = true;  // the bits of the blocks not sent stay erased
      break;
    }
    ++result.blocks_sent;
    const std::size_t first = b * vpc;
    const std::size_t t_count = std::min(vpc, vectors - first);
    const Eigen::Index cols = static_cast<Eigen::Index>(t_count);
    const std::size_t bit_offset = first * bits_per_vector;
    const std::size_t block_bits = t_count * bits_per_vector;

    rng gen(derive_seed(config.seed, {0, b}));
    channel->draw(h, gen);
    gen.fill_complex_normal(noise, 1.0);
    // Column-major: user k of vector t takes symbol t·K + k.
    mapper.map(std::span<cf64>(s.data(), t_count * users),
               std::span<const bit>(tx_bits.data() + bit_offset, block_bits));
    y.leftCols(cols).noalias() = h * s.leftCols(cols);
    y.leftCols(cols) += noise_scale * noise.leftCols(cols);

    for (backend_rx& r : rx) {
      r.solver->reseed(derive_seed(config.seed, {1, b}));
      const detect::channel_report report = r.detector->set_channel(h, result.n0);
      const bool ok = r.detector->detect(s_hat.leftCols(cols), y.leftCols(cols));
      if (!report.resolved || !ok) ++r.unresolved_blocks;
      mapper.demap_hard(std::span<bit>(r.rx_bits.data() + bit_offset, block_bits),
                        std::span<const cf64>(s_hat.data(), t_count * users));
      // The one scoring rule (metrics/llr_quality.h): an erased stream's bits stay in the
      // image as decided from 0 but are not scored as decisions.
      for (std::size_t sym = 0; sym < t_count * users; ++sym) {
        const bool erased = !ok || r.detector->erased(static_cast<int>(sym % users));
        std::fill_n(r.erased.begin() + static_cast<std::ptrdiff_t>(bit_offset + sym * bps), bps,
                    static_cast<bit>(erased ? 1 : 0));
      }
    }
  }

  for (std::size_t c = 0; c < rx.size(); ++c) {
    backend_result out;
    out.backend = config.backends[c];
    for (std::size_t i = 0; i < result.payload_bits; ++i) {
      if (rx[c].erased[i] != 0) {
        ++out.erased_bits;
        continue;
      }
      ++out.bits;
      out.bit_errors += tx_bits[i] != rx[c].rx_bits[i] ? 1U : 0U;
    }
    out.ber = out.bits == 0 ? 0.0 : static_cast<double>(out.bit_errors) / static_cast<double>(out.bits);
    out.image = bits_to_image(rx[c].rx_bits, image.width(), image.height(), result.grayscale);
    out.mse = mean_squared_error(image, out.image);
    out.psnr_db = psnr_db(image, out.image);
    out.unresolved_blocks = rx[c].unresolved_blocks;
    out.modelled_cost = reports_modelled_cost(out.backend.spec);
    out.stats = rx[c].solver->stats();
    result.backends.push_back(std::move(out));
  }
  return result;
}

}  // namespace amimo::demo
